"""NDI Combined API driver (Polaris Vega/Lyra/Spectra/Vicra, Aurora) over any pyserial URL.

A serial device path, a pty path, ``socket://host:port`` (a terminal server, or the Vega's TCP
port 8765) or ``rfc2217://``: `serial.serial_for_url` opens all of them, which is why this driver
speaks the protocol itself instead of wrapping ndicapi (a C extension that opens only device
paths). Framing and CRC are in `drivers.instrument.ndi_protocol`.

Start-up, as PLUS (`vtkPlusNDITracker.cxx`), scikit-surgerynditracker and ndicapi do it:
INIT at 9600 8N1 (on failure: serial break, expect RESET, INIT again), optional COMM to a faster
rate, passive tools' ROM files loaded with PHRQ + PVWR, PHSR:02 -> PINIT each handle,
PHSR:03 -> PENA:hhD each handle, TSTART. `read()` polls TX:0001 or BX:0001 (one fresh frame);
`close()` sends TSTOP. Failure modes: DeviceTimeout (no reply within `timeout_s`), ProtocolError
(CRC mismatch, layout), NdiError (an ``ERRORnn`` reply; a DeviceFault naming the code's meaning).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import serial

from drivers.errors import ConfigError, DeviceError, DeviceTimeout, ProtocolError
from drivers.instrument import ndi_protocol as P
from drivers.instrument.base import DEFAULT_CLOCK, ClockNs, Instrument, ToolMeasurement

#: COMM baud-rate codes ([NC] `ndiCOMMHelper`; ndicapi.h NDI_9600 ... NDI_230400)
BAUD_CODES = {9600: "0", 14400: "1", 19200: "2", 38400: "3", 57600: "4", 115200: "5",
              921600: "6", 1228739: "7", 230400: "A"}
ROM_CHUNK = 64          # bytes of tool definition per PVWR command ([NC] `ndiPVWRFromFile`)


@dataclass(frozen=True)
class NdiSettings:
    """How to reach the tracker and what to track.

    `tools` maps a tool name to a port handle (2 hex digits, as the tracker numbers its ports:
    wired tools and Aurora sensors) or to a ROM file (passive/wireless tools, loaded at start).
    Handles that are enabled but not named are reported as their 2-hex handle."""

    url: str
    baudrate: int = 9600
    comm_baudrate: int | None = None         # switch with COMM after INIT (None: stay)
    timeout_s: float = 1.0
    reply: str = "bx"                         # "bx" (binary, float32) or "tx" (ASCII, rounded)
    tools: dict[str, str] = field(default_factory=dict)     # name -> "0A" or a ROM path
    reset_on_connect: bool = False            # break + RESET before INIT (real UARTs only)


class NdiTracker(Instrument):
    """An NDI tracker speaking the Combined API on a serial line."""

    kind = "optical/EM tracker (NDI Combined API)"

    def __init__(self, settings: NdiSettings, clock_ns: ClockNs = DEFAULT_CLOCK) -> None:
        if settings.reply not in ("bx", "tx"):
            raise ConfigError(f"reply: must be bx or tx, got {settings.reply!r}")
        if settings.comm_baudrate is not None and settings.comm_baudrate not in BAUD_CODES:
            raise ConfigError(f"comm_baudrate: must be one of {sorted(BAUD_CODES)}")
        self.settings = settings
        self.clock_ns = clock_ns
        self.name = f"ndi:{settings.url}"
        self._port: serial.Serial | None = None
        self._names: dict[int, str] = {}
        self._tap: Callable[[str, bytes], None] | None = None
        self.tracking = False
        self.version = ""

    # -- Instrument ----------------------------------------------------------------------------
    def connect(self) -> None:
        s = self.settings
        try:
            self._port = serial.serial_for_url(s.url, baudrate=s.baudrate, bytesize=8,
                                               parity="N", stopbits=1, timeout=s.timeout_s,
                                               write_timeout=s.timeout_s)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise DeviceError(f"{self.name}: cannot open: {exc}") from None
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        port, self._port = self._port, None
        if port is None:
            return
        try:
            if self.tracking:
                self._port = port
                self.command("TSTOP")
        except Exception:  # noqa: BLE001 - close never raises; the port goes away anyway
            pass
        finally:
            self._port = None
            self.tracking = False
            try:
                port.close()
            except Exception:  # noqa: BLE001
                pass

    def read(self) -> list[ToolMeasurement]:
        if not self.tracking:
            raise DeviceError(f"{self.name}: not tracking (connect first)")
        if self.settings.reply == "bx":
            handles, _ = self._bx()
        else:
            handles, _ = P.parse_tx(self.command("TX", "0001"))
        t = self.clock_ns()
        return [self._measurement(h, t) for h in handles if h.kind != "unoccupied"]

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        self._tap = tap
        return True

    # -- protocol ------------------------------------------------------------------------------
    def command(self, name: str, params: str = "") -> str:
        """Send one command (with CRC) and return the checked reply text (without CRC)."""
        self._write(P.command(name, params))
        return P.check_reply(self._read_line(), f"{name}:{params}")

    def _start(self) -> None:
        s = self.settings
        if s.reset_on_connect:
            self._reset()
        try:
            self._init()
        except (DeviceTimeout, ProtocolError):
            self._reset()
            self._init()
        if s.comm_baudrate is not None and s.comm_baudrate != s.baudrate:
            self._expect_okay("COMM", BAUD_CODES[s.comm_baudrate] + "0000")
            time.sleep(0.1)        # ndicapi waits 100 ms before switching the host side
            assert self._port is not None
            self._port.baudrate = s.comm_baudrate
        try:
            self.version = self.command("VER", "0")
        except P.NdiError:
            self.version = ""
        wanted = {}
        for tool, where in s.tools.items():
            if len(where) == 2 and all(c in "0123456789abcdefABCDEF" for c in where):
                wanted[int(where, 16)] = tool
            else:
                wanted[self._load_rom(Path(where))] = tool
        for h, _ in P.parse_phsr(self.command("PHSR", "02")):
            self._expect_okay("PINIT", f"{h:02X}")
        for h, _ in P.parse_phsr(self.command("PHSR", "03")):
            self._expect_okay("PENA", f"{h:02X}D")
        self._names = wanted
        self._expect_okay("TSTART")
        self.tracking = True

    def _init(self) -> None:
        self._expect_okay("INIT")

    def _reset(self) -> None:
        """Serial break; the tracker answers RESET and goes back to 9600 8N1."""
        port = self._port
        assert port is not None
        port.reset_input_buffer()
        port.baudrate = 9600
        try:
            port.send_break(0.25)
        except (serial.SerialException, OSError, NotImplementedError):
            pass                           # URLs without a break (socket://): INIT decides
        try:
            text = P.check_reply(self._read_line(5.0), "break")
        except DeviceTimeout:
            return
        if text != "RESET":
            raise ProtocolError(f"{self.name}: expected RESET after a break, got {text!r}")

    def _load_rom(self, path: Path) -> int:
        try:
            rom = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read tool definition: {exc.strerror}") from None
        if not rom or len(rom) > 960:
            raise ConfigError(f"{path}: a tool definition has 1..960 bytes, this has {len(rom)}")
        try:
            h = int(self.command("PHRQ", "*********1****")[:2], 16)
        except ValueError:
            raise ProtocolError(f"{self.name}: PHRQ reply has no handle") from None
        for addr in range(0, len(rom), ROM_CHUNK):
            chunk = rom[addr:addr + ROM_CHUNK].ljust(ROM_CHUNK, b"\0")
            self._expect_okay("PVWR", f"{h:02X}{addr:04X}{chunk.hex().upper()}")
        return h

    def _expect_okay(self, name: str, params: str = "") -> None:
        text = self.command(name, params)
        if text != "OKAY":
            raise ProtocolError(f"{self.name}: {name}: expected OKAY, got {text!r}")

    def _bx(self) -> tuple[list[P.HandleReading], int]:
        self._write(P.command("BX", "0001"))
        deadline = time.monotonic() + self.settings.timeout_s
        first = self._read_exact(2, deadline)
        if first != b"\xc4\xa5":                 # an ERROR reply to BX is ASCII ([NC-SU])
            line = first + self._read_line_until(deadline)
            P.check_reply(line, "BX:0001")
            raise ProtocolError(f"{self.name}: BX: expected a binary reply, got {line[:40]!r}")
        length = P.parse_bx_header(first + self._read_exact(4, deadline))
        return P.parse_bx_body(self._read_exact(length + 2, deadline))

    def _measurement(self, h: P.HandleReading, t_ns: int) -> ToolMeasurement:
        name = self._names.get(h.handle, f"{h.handle:02X}")
        if h.kind != "valid" or h.q is None or h.t is None:
            return ToolMeasurement(name, t_ns, False, frame=h.frame, status=h.kind)
        status = "ok"
        if h.port_status & P.PORT_OUT_OF_VOLUME:
            status = "out_of_volume"
        elif h.port_status & P.PORT_PARTIALLY_IN_VOLUME:
            status = "partially_in_volume"
        return ToolMeasurement(name, t_ns, True, h.t, P.normalised(h.q), h.error_mm, h.frame,
                               status=status)

    # -- bytes ---------------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        port = self._port
        if port is None:
            raise DeviceError(f"{self.name}: not connected")
        if self._tap:
            self._tap("tx", data)
        try:
            port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(f"{self.name}: write failed: {exc}") from None

    def _read_line(self, timeout_s: float | None = None) -> bytes:
        deadline = time.monotonic() + (timeout_s or self.settings.timeout_s)
        return self._read_line_until(deadline)

    def _read_line_until(self, deadline: float) -> bytes:
        buf = bytearray()
        while not buf.endswith(P.CR):
            buf += self._read_some(deadline, 1 if not buf else 256, until_cr=True)
        return bytes(buf)

    def _read_exact(self, n: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            buf += self._read_some(deadline, n - len(buf))
        return bytes(buf)

    def _read_some(self, deadline: float, n: int, until_cr: bool = False) -> bytes:
        port = self._port
        if port is None:
            raise DeviceError(f"{self.name}: not connected")
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeviceTimeout(f"{self.name}: no complete reply within "
                                f"{self.settings.timeout_s:g} s")
        port.timeout = left
        try:
            data = port.read_until(P.CR, n) if until_cr else port.read(n)
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(f"{self.name}: read failed: {exc}") from None
        if data and self._tap:
            self._tap("rx", data)
        return data
