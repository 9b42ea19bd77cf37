"""A simulated NDI tracker (Polaris family / Aurora) answering the Combined API, byte for byte.

It answers what ndicapi's probe, PLUS, scikit-surgerynditracker and our driver send: INIT, COMM,
VER, GETINFO (answered ERROR01 so ndicapi falls back to VER), APIREV, BEEP, PHSR, PHF, PHRQ, PVWR,
PINIT, PENA, PDIS, TSTART, TSTOP, TX and BX (reply option 0001, also accepted with 0800/0801),
with CRC-checked commands (a bad CRC after ':' -> ERROR04) and ERROR codes as `ndicapi.h` lists
them. One tool is tracked: port handle `params.handle` (wired/occupied at power-on), or the first
handle a host creates with PHRQ and loads with PVWR; its pose comes from `TrackerModel.observe()`.
Faults (`params.fault`): silent (TX/BX never answered), crc (TX/BX replies with a wrong CRC),
missing (the tool is never seen). A serial break cannot cross a pty, so RESET is not simulated.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.instrument import ndi_protocol as P
from drivers.sim.tracker import TrackerModel

FIRMWARE = ("Polaris Vega Control Firmware (hil-bench simulator)\nNDI S/N: SIM-00001\n"
            "Freeze Tag: Polaris Vega 007.000.011\n(C) hil-bench\n")


@dataclass
class _Port:
    rom: bool = False            # a tool definition was loaded (PVWR) or the tool is wired
    initialized: bool = False
    enabled: bool = False

    def status(self) -> int:
        """PHSR's 3-hex port status: occupied, initialized, enabled bits ([NH])."""
        return (P.PORT_OCCUPIED if self.rom else 0) | \
            (P.PORT_INITIALIZED if self.initialized else 0) | \
            (P.PORT_ENABLED if self.enabled else 0)


class NdiResponder:
    """Bytes in, bytes out: the tracker's side of one serial line."""

    def __init__(self, model: TrackerModel) -> None:
        self.model = model
        self._buf = b""
        self.initialized = False
        self.tracking = False
        self.ports: dict[int, _Port] = {model.params.handle: _Port(rom=True)}
        self.commands: list[str] = []          # every command line received (tests, journal)

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = b""
        while P.CR in self._buf:
            line, self._buf = self._buf.split(P.CR, 1)
            line = line.lstrip(b"\0\n")          # a break can leave a NUL on real UARTs
            if line:
                out += self.answer(line)
        return out

    def answer(self, line: bytes) -> bytes:
        name, params, crc_ok = P.parse_command(line)
        self.commands.append(line.decode("ascii", "replace"))
        if not crc_ok:
            return P.reply("ERROR04")
        handler = getattr(self, f"_cmd_{name.upper()}", None)
        if handler is None:
            return P.reply("ERROR01")
        if name.upper() not in ("INIT", "VER", "GETINFO", "APIREV", "BEEP", "COMM", "RESET") \
                and not self.initialized:
            return P.reply("ERROR10")
        result = handler(params.strip())
        return result if isinstance(result, bytes) else P.reply(result)

    # -- commands ------------------------------------------------------------------------------
    def _cmd_INIT(self, _: str) -> str:
        self.initialized, self.tracking = True, False
        for port in self.ports.values():
            port.initialized = port.enabled = False
        return "OKAY"

    def _cmd_COMM(self, params: str) -> str:
        if len(params) != 5 or params[0] not in "01234567A" or params[1] not in "01" \
                or params[2] not in "012" or params[3] not in "01" or params[4] not in "01":
            return "ERROR06"
        return "OKAY"                 # a pty has no baud rate to switch

    def _cmd_VER(self, params: str) -> str:
        return FIRMWARE if params in ("0", "4", "") else "ERROR23"

    def _cmd_GETINFO(self, _: str) -> str:
        return "ERROR01"             # the newer Vega parameter interface is not simulated

    def _cmd_APIREV(self, _: str) -> str:
        return "G.001.005"

    def _cmd_BEEP(self, params: str) -> str:
        return "1" if params in tuple("123456789") else "ERROR23"

    def _cmd_PHSR(self, params: str) -> str:
        want = {"00": lambda p: True, "": lambda p: True, "01": lambda p: False,
                "02": lambda p: p.rom and not p.initialized,
                "03": lambda p: p.initialized and not p.enabled,
                "04": lambda p: p.enabled}.get(params)
        if want is None:
            return "ERROR23"
        hs = [(h, p) for h, p in sorted(self.ports.items()) if want(p)]
        return f"{len(hs):02X}" + "".join(f"{h:02X}{p.status():03X}" for h, p in hs)

    def _cmd_PHF(self, params: str) -> str:
        return "OKAY" if self._handle(params) is not None and \
            self.ports.pop(int(params, 16), None) is not None else "ERROR08"

    def _cmd_PHRQ(self, params: str) -> str:
        if len(params) != 14:
            return "ERROR07"
        h = max(self.ports, default=0) + 1
        if h > 0xFF:
            return "ERROR2D"
        self.ports[h] = _Port()
        return f"{h:02X}"

    def _cmd_PVWR(self, params: str) -> str:
        port = self._handle(params[:2])
        if port is None:
            return "ERROR08"
        try:
            int(params[2:6], 16)
            bytes.fromhex(params[6:])
        except ValueError:
            return "ERROR40"
        if len(params) != 6 + 128:
            return "ERROR07"
        port.rom = True
        return "OKAY"

    def _cmd_PINIT(self, params: str) -> str:
        port = self._handle(params)
        if port is None:
            return "ERROR08"
        if not port.rom:
            return "ERROR0D"
        port.initialized = True
        return "OKAY"

    def _cmd_PENA(self, params: str) -> str:
        port = self._handle(params[:2])
        if port is None:
            return "ERROR08"
        if params[2:] not in ("S", "D", "B"):
            return "ERROR09"
        if not port.initialized:
            return "ERROR0E"
        port.enabled = True
        return "OKAY"

    def _cmd_PDIS(self, params: str) -> str:
        port = self._handle(params)
        if port is None:
            return "ERROR08"
        port.enabled = False
        return "OKAY"

    def _cmd_TSTART(self, _: str) -> str:
        self.tracking = True
        return "OKAY"

    def _cmd_TSTOP(self, _: str) -> str:
        self.tracking = False
        return "OKAY"

    def _cmd_TX(self, params: str) -> bytes | str:
        return self._frame(params, binary=False)

    def _cmd_BX(self, params: str) -> bytes | str:
        return self._frame(params, binary=True)

    # -- helpers -------------------------------------------------------------------------------
    def _handle(self, text: str) -> _Port | None:
        try:
            return self.ports.get(int(text, 16))
        except ValueError:
            return None

    def _frame(self, params: str, binary: bool) -> bytes | str:
        if not self.tracking:
            return "ERROR0C"
        if params not in ("", "0001", "0800", "0801"):
            return "ERROR23"             # only the transform data option is simulated
        fault = self.model.params.fault
        if fault == "silent":
            return b""
        enabled = [h for h, p in sorted(self.ports.items()) if p.enabled]
        obs = self.model.observe()
        status = P.PORT_OCCUPIED | P.PORT_INITIALIZED | P.PORT_ENABLED
        readings = []
        for i, h in enumerate(enabled):
            if i == 0 and obs.visible and obs.position_mm and obs.orientation:
                readings.append(P.HandleReading(h, "valid", obs.orientation, obs.position_mm,
                                                obs.rms_mm, status, obs.frame))
            else:
                readings.append(P.HandleReading(h, "missing", port_status=status,
                                                frame=obs.frame))
        if binary:
            out = P.encode_bx(readings)
            return out[:-2] + bytes([out[-2] ^ 0xFF, out[-1]]) if fault == "crc" else out
        raw = P.reply(P.encode_tx(readings))
        if fault == "crc":
            raw = raw[:-5] + (b"0000" if raw[-5:-1] != b"0000" else b"FFFF") + P.CR
        return raw
