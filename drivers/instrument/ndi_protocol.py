"""NDI Combined API (Polaris Vega/Lyra/Spectra/Vicra, Aurora) framing: bytes <-> values, no I/O.

Both the driver (`drivers.instrument.ndi`) and the tracker simulator (`drivers.sim.ndi`) use it.
Format facts and where they come from (PlusToolkit/ndicapi = [NC] `ndicapi.cxx`, [NH] `ndicapi.h`;
jhu-saw/sawNDITracker `mtsNDISerial.cpp` = [SAW]; real logs in tests/data/ndi = [LOG]):

* command: NAME ":" params CRC16 CR, the CRC as 4 uppercase hex digits over everything before it;
  with a space instead of the colon no CRC is sent ([NC] `ndiCommandVA`; [LOG] `INIT:E3A5`);
* ASCII reply: text + 4 hex CRC + CR, the CRC over the text; hex case-insensitive ([NC]);
* error reply: ``ERROR`` + 2 hex digits (codes in [NH]);
* TX reply option 0001 ([NC] `ndiTXHelper`; [LOG]): 2 hex handle count, then per handle: 2 hex
  handle; either 4 x 6 chars quaternion (sign + 5 digits, 4 implied decimals, scalar first), 3 x 7
  chars position (sign + 6 digits, 2 implied decimals, mm), 6 chars RMS error (4 implied
  decimals, mm), 8 hex port status, 8 hex frame number; or ``MISSING`` + status + frame; or
  ``DISABLED`` (nothing after it in IGSTK's Polaris stress log; [SAW] reads status + frame, so
  both are accepted) or ``UNOCCUPIED``; each handle ends with LF; after the last, 4 hex system
  status;
* BX reply ([NC] `ndiBXHelper`; [LOG]): little-endian; 0xA5C4, u16 body length, u16 CRC of those
  4 bytes; body: u8 handle count, per handle u8 handle, u8 status (1 valid, 2 missing,
  4 disabled); valid: 8 x float32 (q0 qx qy qz, x y z mm, error mm), u32 port status, u32 frame;
  missing: u32 port status, u32 frame; then u16 system status; then u16 CRC of the body.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from drivers.errors import DeviceFault, ProtocolError
from drivers.instrument.crc import crc16_arc

CR, LF = b"\r", b"\n"
BX_START = 0xA5C4
BX_HEADER = 6

#: ERROR codes of the Combined API ([NH] NDI_* #defines); the meaning goes into NdiError's text
ERROR_CODES: dict[int, str] = {
    0x01: "invalid command", 0x02: "command too long", 0x03: "command too short",
    0x04: "invalid CRC on command", 0x05: "timeout on command execution",
    0x06: "new communication parameters failed", 0x07: "wrong number of parameters",
    0x08: "invalid port handle", 0x09: "invalid priority (must be S, D or B)",
    0x0A: "invalid LED", 0x0B: "invalid LED state", 0x0C: "command invalid in current mode",
    0x0D: "no tool in port", 0x0E: "port not initialized", 0x0F: "port not enabled",
    0x10: "system not initialized", 0x11: "failed to stop tracking",
    0x12: "failed to start tracking", 0x13: "failed to initialize port",
    0x14: "invalid Position Sensor characterization", 0x16: "failed to initialize",
    0x23: "parameter out of range", 0x2B: "port handle not allocated",
    0x2D: "all port handles allocated", 0x40: "tool definition (ROM) file error",
    0x42: "device not present", 0xF1: "too much ambient infrared light",
}

#: BX per-handle status byte ([NC] `ndiBXHelper`)
BX_VALID, BX_MISSING, BX_DISABLED = 0x01, 0x02, 0x04
#: TX port-status bits ([NH] NDI_TOOL_IN_PORT ... NDI_ENABLED)
PORT_OCCUPIED, PORT_INITIALIZED, PORT_ENABLED = 0x01, 0x10, 0x20
PORT_OUT_OF_VOLUME, PORT_PARTIALLY_IN_VOLUME = 0x40, 0x80


class NdiError(DeviceFault):
    """The tracker answered ``ERRORnn``: `code` is nn, the message says what it means."""

    def __init__(self, code: int, command: str = "") -> None:
        self.code = code
        self.command = command
        what = ERROR_CODES.get(code, "unknown error code")
        super().__init__(f"NDI ERROR{code:02X} ({what})" + (f" to {command}" if command else ""))


@dataclass(frozen=True, slots=True)
class HandleReading:
    """One port handle in a TX/BX reply. `kind`: "valid", "missing", "disabled", "unoccupied".

    Valid readings carry q (q0, qx, qy, qz; scalar first, as sent: not renormalised), position
    t (x, y, z, mm, tracker frame) and error_mm (RMS marker fit); all are None otherwise."""

    handle: int
    kind: str
    q: tuple[float, float, float, float] | None = None
    t: tuple[float, float, float] | None = None
    error_mm: float | None = None
    port_status: int = 0
    frame: int | None = None


def crc_hex(text: bytes) -> bytes:
    """The 4 uppercase hex digits of CRC-16/ARC over `text`."""
    return b"%04X" % crc16_arc(text)


def command(name: str, params: str = "", with_crc: bool = True) -> bytes:
    """Encode a command: ``NAME:params`` + CRC + CR, or ``NAME params`` + CR without CRC."""
    if with_crc:
        body = f"{name}:{params}".encode("ascii")
        return body + crc_hex(body) + CR
    return f"{name} {params}".encode("ascii") + CR


def parse_command(line: bytes) -> tuple[str, str, bool]:
    """Split one received command line (CR removed) into (name, params, crc_ok); the simulator's
    side. A line without ':' or ' ' is a bare name. The CRC is checked only after ':' ([NC])."""
    text = line.decode("ascii", "replace")
    for i, ch in enumerate(text):
        if ch == ":":
            body, crc = text[:-4], text[-4:]
            ok = len(text) >= i + 5 and crc.upper() == crc_hex(body.encode("ascii", "replace")) \
                .decode()
            return text[:i], text[i + 1:-4] if ok else text[i + 1:], ok
        if ch == " ":
            return text[:i], text[i + 1:], True
    return text, "", True


def reply(text: str | bytes) -> bytes:
    """Encode an ASCII reply: text + CRC + CR (the simulator's side)."""
    raw = text.encode("ascii") if isinstance(text, str) else text
    return raw + crc_hex(raw) + CR


def check_reply(frame: bytes, command_name: str = "") -> str:
    """Validate an ASCII reply (CR included or not): CRC, then ERROR. Returns the text without
    CRC. Raises ProtocolError (too short, bad CRC, not ASCII) or NdiError (an ERROR reply)."""
    raw = frame[:-1] if frame.endswith(CR) else frame
    if len(raw) < 4:
        raise ProtocolError(f"NDI reply too short for a CRC: {frame!r}")
    text, crc = raw[:-4], raw[-4:]
    if crc.upper() != crc_hex(text):
        raise ProtocolError(f"NDI reply CRC mismatch (got {crc.decode('ascii', 'replace')}, "
                            f"computed {crc_hex(text).decode()}): {frame[:60]!r}")
    try:
        s = text.decode("ascii")
    except UnicodeDecodeError:
        raise ProtocolError(f"NDI reply is not ASCII: {frame[:60]!r}") from None
    if s.startswith("ERROR"):
        try:
            code = int(s[5:7], 16)
        except ValueError:
            raise ProtocolError(f"NDI ERROR reply without a code: {s!r}") from None
        raise NdiError(code, command_name)
    return s


def _num(s: str, decimals: int, what: str) -> float:
    if len(s) < 2 or s[0] not in "+-" or not s[1:].isdigit():
        raise ProtocolError(f"NDI TX: {what}: expected sign and digits, got {s!r}")
    return int(s) / 10 ** decimals


def _hex(s: str, what: str) -> int:
    try:
        return int(s, 16)
    except ValueError:
        raise ProtocolError(f"NDI TX: {what}: expected hex, got {s!r}") from None


def parse_tx(text: str) -> tuple[list[HandleReading], int]:
    """Parse a TX (reply option 0001) reply text (CRC already removed by `check_reply`).
    Returns (handles, system status). ProtocolError when the layout does not match."""
    if len(text) < 2:
        raise ProtocolError(f"NDI TX reply too short: {text!r}")
    n = _hex(text[:2], "handle count")
    pos, out = 2, list[HandleReading]()
    for _ in range(n):
        end = text.find("\n", pos)
        if end < 0:
            raise ProtocolError(f"NDI TX: handle {len(out) + 1} of {n} has no LF: {text!r}")
        rec = text[pos:end]
        pos = end + 1
        out.append(_tx_record(rec))
    rest = text[pos:]
    if len(rest) != 4:
        raise ProtocolError(f"NDI TX: expected 4 hex system status after the handles, got "
                            f"{rest!r}")
    return out, _hex(rest, "system status")


def _tx_record(rec: str) -> HandleReading:
    h = _hex(rec[:2], "port handle")
    body = rec[2:]
    for word in ("MISSING", "DISABLED", "UNOCCUPIED"):
        if body.startswith(word):
            tail = body[len(word):]
            if not tail:
                return HandleReading(h, word.lower())
            if len(tail) != 16:
                raise ProtocolError(f"NDI TX: handle {h:02X} {word}: expected 8 hex status + "
                                    f"8 hex frame, got {tail!r}")
            return HandleReading(h, word.lower(), port_status=_hex(tail[:8], "port status"),
                                 frame=_hex(tail[8:], "frame number"))
    if len(body) != 24 + 21 + 6 + 16:
        raise ProtocolError(f"NDI TX: handle {h:02X}: expected 67 characters of transform, "
                            f"got {len(body)}: {body!r}")
    q = tuple(_num(body[i:i + 6], 4, "quaternion") for i in range(0, 24, 6))
    t = tuple(_num(body[24 + i:31 + i], 2, "position") for i in range(0, 21, 7))
    err = _num(body[45:51], 4, "error")
    return HandleReading(h, "valid", q, t, err,  # type: ignore[arg-type]
                         _hex(body[51:59], "port status"), _hex(body[59:67], "frame number"))


def _fixed(v: float, decimals: int, width: int) -> str:
    n = int(round(v * 10 ** decimals))
    limit = 10 ** width - 1
    n = max(-limit, min(limit, n))       # a real tracker never sends more digits than the field
    return f"{'-' if n < 0 else '+'}{abs(n):0{width}d}"


def encode_tx(handles: list[HandleReading], system_status: int = 0) -> str:
    """The text of a TX 0001 reply (without CRC) for `handles`: the simulator's side."""
    parts = [f"{len(handles):02X}"]
    for r in handles:
        if r.kind == "valid" and r.q is not None and r.t is not None:
            parts.append(f"{r.handle:02X}" + "".join(_fixed(v, 4, 5) for v in r.q)
                         + "".join(_fixed(v, 2, 6) for v in r.t)
                         + _fixed(r.error_mm or 0.0, 4, 5)
                         + f"{r.port_status:08X}{(r.frame or 0) & 0xFFFFFFFF:08X}\n")
        elif r.kind == "disabled":
            parts.append(f"{r.handle:02X}DISABLED\n")
        else:
            parts.append(f"{r.handle:02X}{r.kind.upper()}{r.port_status:08X}"
                         f"{(r.frame or 0) & 0xFFFFFFFF:08X}\n")
    parts.append(f"{system_status:04X}")
    return "".join(parts)


def bx_header(length: int) -> bytes:
    """The 6-byte BX header for a body of `length` bytes."""
    head = struct.pack("<HH", BX_START, length)
    return head + struct.pack("<H", crc16_arc(head))


def parse_bx_header(head: bytes) -> int:
    """Validate a 6-byte BX header; returns the body length. ProtocolError if it is wrong."""
    if len(head) != BX_HEADER:
        raise ProtocolError(f"NDI BX header: expected 6 bytes, got {len(head)}")
    start, length, crc = struct.unpack("<HHH", head)
    if start != BX_START:
        raise ProtocolError(f"NDI BX: start sequence {start:04X}, expected A5C4")
    if crc != crc16_arc(head[:4]):
        raise ProtocolError(f"NDI BX header CRC mismatch ({crc:04X} vs "
                            f"{crc16_arc(head[:4]):04X})")
    return length


def parse_bx_body(body_and_crc: bytes) -> tuple[list[HandleReading], int]:
    """Parse a BX body followed by its 2-byte CRC (reply option 0001). Returns (handles, system
    status). ProtocolError on a CRC mismatch or a layout that does not fit."""
    body, (crc,) = body_and_crc[:-2], struct.unpack("<H", body_and_crc[-2:])
    if crc != crc16_arc(body):
        raise ProtocolError(f"NDI BX body CRC mismatch ({crc:04X} vs {crc16_arc(body):04X})")
    try:
        n, pos, out = body[0], 1, []
        for _ in range(n):
            h, st = body[pos], body[pos + 1]
            pos += 2
            if st == BX_VALID:
                v = struct.unpack_from("<8f", body, pos)
                ps, fr = struct.unpack_from("<II", body, pos + 32)
                pos += 40
                out.append(HandleReading(h, "valid", (v[0], v[1], v[2], v[3]), (v[4], v[5], v[6]),
                                         v[7], ps, fr))
            elif st == BX_MISSING:
                ps, fr = struct.unpack_from("<II", body, pos)
                pos += 8
                out.append(HandleReading(h, "missing", port_status=ps, frame=fr))
            elif st == BX_DISABLED:
                out.append(HandleReading(h, "disabled"))
            else:
                raise ProtocolError(f"NDI BX: handle {h:02X} has unknown status {st:#04x}")
        (system,) = struct.unpack_from("<H", body, pos)
        pos += 2
    except (IndexError, struct.error):
        raise ProtocolError(f"NDI BX body too short ({len(body)} bytes)") from None
    if pos != len(body):
        raise ProtocolError(f"NDI BX: {len(body) - pos} bytes left after the system status "
                            "(reply options other than 0001 are not read)")
    return out, system


def encode_bx(handles: list[HandleReading], system_status: int = 0) -> bytes:
    """A whole BX reply (header, body, CRC) for `handles`: the simulator's side."""
    body = bytearray([len(handles)])
    for r in handles:
        if r.kind == "valid" and r.q is not None and r.t is not None:
            body += bytes([r.handle, BX_VALID])
            body += struct.pack("<8fII", *r.q, *r.t, r.error_mm or 0.0, r.port_status,
                                (r.frame or 0) & 0xFFFFFFFF)
        elif r.kind == "disabled":
            body += bytes([r.handle, BX_DISABLED])
        else:
            body += bytes([r.handle, BX_MISSING])
            body += struct.pack("<II", r.port_status, (r.frame or 0) & 0xFFFFFFFF)
    body += struct.pack("<H", system_status)
    return bx_header(len(body)) + bytes(body) + struct.pack("<H", crc16_arc(bytes(body)))


def parse_phsr(text: str) -> list[tuple[int, int]]:
    """PHSR reply -> [(handle, 3-hex status)]: 2 hex count, then 2 hex handle + 3 hex status
    each ([NC] `ndiGetPHSRHandle`; [LOG] ``03010010200103001`` = 3 handles)."""
    try:
        n = int(text[:2], 16)
        out = [(int(text[2 + 5 * i:4 + 5 * i], 16), int(text[4 + 5 * i:7 + 5 * i], 16))
               for i in range(n)]
    except ValueError:
        raise ProtocolError(f"NDI PHSR reply does not parse: {text!r}") from None
    if len(text) != 2 + 5 * n:
        raise ProtocolError(f"NDI PHSR reply: {n} handles need {2 + 5 * n} characters, got "
                            f"{len(text)}: {text!r}")
    return out


def normalised(q: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """`q` scaled to unit length: TX quaternions are rounded to 4 decimals and need not be unit
    (NDI Polaris Vicra User Guide rev. 2, p. 37). ProtocolError for a zero quaternion."""
    n = math.sqrt(sum(v * v for v in q))
    if not n > 1e-6:
        raise ProtocolError(f"NDI transform with a zero quaternion: {q}")
    return q[0] / n, q[1] / n, q[2] / n, q[3] / n
