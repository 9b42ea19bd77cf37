"""OpenIGTLink framing (as PLUS Toolkit and 3D Slicer stream trackers): bytes <-> values, no I/O.

Facts from openigtlink/OpenIGTLink `Documents/Protocol/` ([IGH]: header.md, transform.md,
position.md, trackingdata.md, status.md, timestamp.md) and `Source/igtlutil/igtl_header.h`:

* header, 58 bytes, big-endian: u16 version (1: v1/v2; 2: v3 with extended header and
  metadata), char[12] type, char[20] device name (NUL padded), u32 seconds since 1970 + u32
  fraction (units of 2^-32 s), u64 body size, u64 CRC-64/ECMA-182 of the body;
* version-2 body: extended header (u16 12, u16 metadata-header size, u32 metadata size,
  u32 message id), content, metadata header (u16 count, then per item u16 key size, u16 value
  encoding, u32 value size), then keys and values;
* TRANSFORM (48 B): 12 x float32, rotation column by column (R11 R21 R31 R12 ...), then
  translation in mm;
* POSITION (28 B): float32 x, y, z (mm), quaternion ox, oy, oz, w (SCALAR LAST); 24 B (three
  quaternion components) and 12 B (position only) are allowed;
* TDATA: n x 70 B {char[20] name, u8 type (1 tracker, 2 6D, 3 3D, 4 5D), u8 reserved,
  float32[12] as TRANSFORM}; STT_TDATA (36 B): u32 resolution ms, char[32] coordinate name;
* STATUS: u16 code, u64 sub-code, char[20] error name, NUL-terminated message.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import numpy as np

from drivers.errors import ProtocolError
from drivers.instrument.crc import crc64_ecma

HEADER = struct.Struct(">H12s20sIIQQ")
HEADER_SIZE = HEADER.size            # 58
EXT_HEADER = struct.Struct(">HHII")
TDATA_ITEM = struct.Struct(">20sBx12f")
MAX_BODY = 64 * 1024 * 1024          # refuse absurd sizes instead of allocating them
DEFAULT_PORT = 18944


@dataclass(frozen=True)
class Message:
    """A decoded message: header fields, content bytes (after any extended header), metadata."""

    type: str
    device: str
    timestamp_s: float
    content: bytes
    version: int = 1
    metadata: dict[str, str] = field(default_factory=dict)


def _name(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")


def pack(type_: str, device: str, content: bytes, timestamp_s: float = 0.0, version: int = 1,
         metadata: dict[str, str] | None = None, message_id: int = 0) -> bytes:
    """One whole message (header + body). Version 2 carries `metadata` (US-ASCII values)."""
    if len(type_) > 12 or len(device) > 20:
        raise ValueError("type is at most 12 and device name at most 20 characters")
    body = content
    if version >= 2:
        items = list((metadata or {}).items())
        meta_head = struct.pack(">H", len(items)) + b"".join(
            struct.pack(">HHI", len(k.encode()), 3, len(v.encode())) for k, v in items)
        meta = b"".join(k.encode() + v.encode() for k, v in items)
        body = EXT_HEADER.pack(12, len(meta_head), len(meta), message_id) + content \
            + meta_head + meta
    sec = int(timestamp_s)
    frac = min(int(round((timestamp_s - sec) * 2 ** 32)), 0xFFFFFFFF)
    head = HEADER.pack(version, type_.encode("ascii"), device.encode("ascii"), sec, frac,
                       len(body), crc64_ecma(body))
    return head + body


def parse_header(head: bytes) -> tuple[int, str, str, float, int, int]:
    """(version, type, device, timestamp s, body size, crc) of a 58-byte header."""
    if len(head) != HEADER_SIZE:
        raise ProtocolError(f"OpenIGTLink header: expected 58 bytes, got {len(head)}")
    v, t, d, sec, frac, size, crc = HEADER.unpack(head)
    if size > MAX_BODY:
        raise ProtocolError(f"OpenIGTLink body size {size} is not plausible")
    return v, _name(t), _name(d), sec + frac / 2 ** 32, size, crc


def unpack(head: bytes, body: bytes, check_crc: bool = True) -> Message:
    """Decode a message from its header and body. ProtocolError on a CRC mismatch or a
    version-2 body whose sizes do not add up."""
    v, type_, device, ts, size, crc = parse_header(head)
    if len(body) != size:
        raise ProtocolError(f"OpenIGTLink {type_}: body has {len(body)} bytes, header says {size}")
    if check_crc and crc64_ecma(body) != crc:
        raise ProtocolError(f"OpenIGTLink {type_} from {device!r}: body CRC mismatch")
    if v < 2:
        return Message(type_, device, ts, body, v)
    if len(body) < EXT_HEADER.size:
        raise ProtocolError(f"OpenIGTLink {type_}: v2 body shorter than its extended header")
    ext, meta_head_size, meta_size, _ = EXT_HEADER.unpack_from(body)
    content_end = len(body) - meta_head_size - meta_size
    if ext < 12 or content_end < ext:
        raise ProtocolError(f"OpenIGTLink {type_}: extended header sizes do not fit the body")
    content = body[ext:content_end]
    metadata: dict[str, str] = {}
    if meta_head_size >= 2:
        (count,) = struct.unpack_from(">H", body, content_end)
        pos = content_end + 2 + 8 * count
        try:
            for i in range(count):
                ks, _, vs = struct.unpack_from(">HHI", body, content_end + 2 + 8 * i)
                key = body[pos:pos + ks].decode("utf-8", "replace")
                metadata[key] = body[pos + ks:pos + ks + vs].decode("utf-8", "replace")
                pos += ks + vs
        except struct.error:
            raise ProtocolError(f"OpenIGTLink {type_}: metadata does not parse") from None
    return Message(type_, device, ts, content, v, metadata)


def transform_content(m: np.ndarray) -> bytes:
    """TRANSFORM body of a 4x4 matrix (mm)."""
    r, t = m[:3, :3], m[:3, 3]
    return struct.pack(">12f", *r[:, 0], *r[:, 1], *r[:, 2], *t)


def parse_transform(content: bytes) -> np.ndarray:
    """4x4 matrix of a TRANSFORM body (48 bytes)."""
    if len(content) != 48:
        raise ProtocolError(f"OpenIGTLink TRANSFORM body: expected 48 bytes, got {len(content)}")
    return _matrix(struct.unpack(">12f", content))


def _matrix(v: tuple[float, ...]) -> np.ndarray:
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = v[0:3], v[3:6], v[6:9], v[9:12]
    return m


def position_content(pos: tuple[float, float, float],
                     q_wxyz: tuple[float, float, float, float]) -> bytes:
    """POSITION body (28 bytes): position mm, then quaternion with the scalar LAST."""
    w, x, y, z = q_wxyz
    return struct.pack(">7f", *pos, x, y, z, w)


def parse_position(content: bytes) -> tuple[tuple[float, float, float],
                                             tuple[float, float, float, float] | None]:
    """(position mm, quaternion w, x, y, z or None) of a POSITION body (28, 24 or 12 bytes)."""
    if len(content) == 12:
        x, y, z = struct.unpack(">3f", content)
        return (x, y, z), None
    if len(content) == 24:
        x, y, z, ox, oy, oz = struct.unpack(">6f", content)
        w = math.sqrt(max(0.0, 1.0 - ox * ox - oy * oy - oz * oz))
        return (x, y, z), (w, ox, oy, oz)
    if len(content) == 28:
        x, y, z, ox, oy, oz, w = struct.unpack(">7f", content)
        return (x, y, z), (w, ox, oy, oz)
    raise ProtocolError(f"OpenIGTLink POSITION body: expected 12, 24 or 28 bytes, got "
                        f"{len(content)}")


def tdata_content(items: list[tuple[str, np.ndarray]], kind: int = 2) -> bytes:
    """TDATA body: one 70-byte element per (name, 4x4 matrix)."""
    out = b""
    for name, m in items:
        r, t = m[:3, :3], m[:3, 3]
        out += TDATA_ITEM.pack(name.encode("ascii")[:20], kind, *r[:, 0], *r[:, 1], *r[:, 2], *t)
    return out


def parse_tdata(content: bytes) -> list[tuple[str, int, np.ndarray]]:
    """[(name, type, 4x4 matrix)] of a TDATA body (a multiple of 70 bytes)."""
    if len(content) % TDATA_ITEM.size:
        raise ProtocolError(f"OpenIGTLink TDATA body: {len(content)} bytes is not a multiple "
                            "of 70")
    out = []
    for i in range(0, len(content), TDATA_ITEM.size):
        name, kind, *v = TDATA_ITEM.unpack_from(content, i)
        out.append((_name(name), kind, _matrix(tuple(v))))
    return out


def stt_tdata_content(resolution_ms: int = 0, coordinate: str = "") -> bytes:
    """STT_TDATA body: minimum ms between frames (0 = as fast as possible), coordinate name."""
    return struct.pack(">I32s", resolution_ms, coordinate.encode("ascii"))


def parse_status(content: bytes) -> tuple[int, int, str, str]:
    """(code, sub-code, error name, message) of a STATUS body."""
    if len(content) < 30:
        raise ProtocolError(f"OpenIGTLink STATUS body: {len(content)} bytes, need >= 30")
    code, sub, name = struct.unpack_from(">Hq20s", content)
    return code, sub, _name(name), _name(content[30:])
