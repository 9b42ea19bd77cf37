"""An AT command channel over any pyserial URL (a tty path, ``socket://host:port``, ``loop://``).

`ATChannel.command` sends one command and returns the lines of its reply, framed by the final
result code: ``OK`` returns, ``ERROR`` / ``+CME ERROR: n`` / ``+CMS ERROR: n`` raise DeviceFault.
Echoed commands are dropped. Unsolicited result codes (URCs: ``RING``, ``+CEREG: 1`` while another
command runs, ``+QIND: ...``) are kept apart in `urcs`, never mixed into a reply.
Failure modes: DeviceError when the port cannot be opened or fails, DeviceTimeout when no final
result code arrives within the timeout, ProtocolError for an endless line (noise on the port).
"""
from __future__ import annotations

import collections
import re
import time
from dataclasses import dataclass
from typing import Callable

import serial

from drivers.errors import DeviceError, DeviceFault, DeviceTimeout, ProtocolError

FINAL_OK = ("OK",)
FINAL_ERRORS = ("ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE", "COMMAND NOT SUPPORT")
#: lines that are always unsolicited
URC_WORDS = ("RING", "RDY", "POWERED DOWN", "NORMAL POWER DOWN")
#: prefixes that are unsolicited unless the running command asked for them
URC_PREFIXES = ("+CREG:", "+CGREG:", "+CEREG:", "+C5GREG:", "+QIND:", "+QUSIM:", "+CPIN:",
                "+CMTI:", "+CLIP:", "+QSTAT:", "^SIMST:", "^MODE:", "^HCSQ:", "^RSSI:",
                "+CGEV:", "+QNETDEVSTATUS:")
_PREFIX = re.compile(r"^([+^!$#%][A-Za-z0-9_]+):")
_CME = re.compile(r"^\+(CME|CMS) ERROR:\s*(.*)$")
MAX_LINE = 4096        # bytes without a line end before the port is declared noisy
MAX_REPLY_LINES = 1000
URC_KEEP = 256         # URCs kept for `urcs` (oldest dropped)


@dataclass(frozen=True)
class ATSettings:
    """Where the modem's AT port is. Times in seconds."""

    url: str
    baudrate: int = 115200
    timeout_s: float = 1.0


def expected_prefix(command: str) -> str | None:
    """The reply prefix a command asks for: ``AT+QENG=...`` -> ``+QENG:``, ``AT^MONSC`` ->
    ``^MONSC:``; None for basic commands (``ATI``, ``ATE0``)."""
    m = re.match(r"^AT([+^!$#%][A-Za-z0-9_]+)", command.strip(), re.IGNORECASE)
    return f"{m.group(1).upper()}:" if m else None


class ATChannel:
    """One AT port. Not thread-safe: one command at a time, from one thread."""

    def __init__(self, settings: ATSettings) -> None:
        self.settings = settings
        self._port: serial.Serial | None = None
        self._buf = b""
        self.urcs: collections.deque[tuple[float, str]] = collections.deque(maxlen=URC_KEEP)
        #: sees ("tx" | "rx", raw bytes) for everything written and read (traffic logs);
        #: must not raise or block
        self.wire_tap: Callable[[str, bytes], None] | None = None

    def _tap(self, direction: str, data: bytes) -> None:
        tap = self.wire_tap
        if tap is not None and data:
            try:
                tap(direction, data)
            except Exception:  # noqa: BLE001 - a broken log must never break the exchange
                pass

    @property
    def name(self) -> str:
        return self.settings.url

    def open(self) -> None:
        """Open the port (DeviceError naming the URL when it cannot be opened)."""
        try:
            self._port = serial.serial_for_url(self.settings.url, baudrate=self.settings.baudrate,
                                               timeout=0.02,
                                               write_timeout=self.settings.timeout_s)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise DeviceError(f"cannot open AT port {self.settings.url}: {exc}") from None
        self._buf = b""

    def close(self) -> None:
        """Close the port; never raises."""
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:  # noqa: BLE001 - close never raises
                pass

    def _read_some(self) -> bytes:
        assert self._port is not None
        try:
            waiting = self._port.in_waiting
            data = self._port.read(waiting or 1)
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(f"{self.name}: read failed: {exc}") from None
        self._tap("rx", data)
        return data

    def _lines(self, deadline: float):
        """Yield decoded non-empty lines until the deadline (then DeviceTimeout)."""
        while True:
            while True:
                m = re.search(rb"[\r\n]", self._buf)
                if not m:
                    break
                raw, self._buf = self._buf[:m.start()], self._buf[m.end():]
                line = raw.decode("ascii", errors="replace").strip()
                if line:
                    yield line
            if len(self._buf) > MAX_LINE:
                self._buf = b""
                raise ProtocolError(f"{self.name}: more than {MAX_LINE} bytes without a line "
                                    f"end (wrong baud rate or not an AT port?)")
            if time.monotonic() >= deadline:
                raise DeviceTimeout(f"{self.name}: no final result code within "
                                    f"{self.settings.timeout_s:g} s")
            self._buf += self._read_some()

    def _collect_pending(self) -> None:
        """Move whatever arrived between commands into `urcs`."""
        if self._port is None:
            return
        try:
            while self._port.in_waiting:
                self._buf += self._read_some()
        except (serial.SerialException, OSError):
            return
        for line in self._complete_lines():
            self.urcs.append((time.monotonic(), line))

    def _complete_lines(self) -> list[str]:
        out: list[str] = []
        while True:
            m = re.search(rb"[\r\n]", self._buf)
            if not m:
                return out
            raw, self._buf = self._buf[:m.start()], self._buf[m.end():]
            line = raw.decode("ascii", errors="replace").strip()
            if line:
                out.append(line)

    def command(self, command: str, timeout_s: float | None = None,
                expect: str | None = None) -> list[str]:
        """Send `command` (without CR) and return its reply lines (no echo, no final code).

        `expect` is the reply prefix (default: derived from the command, e.g. ``+QENG:``):
        other prefixed lines that arrive meanwhile are URCs. Raises DeviceFault for ERROR and
        +CME/+CMS ERROR (the message carries the code), DeviceTimeout, DeviceError.
        """
        if self._port is None:
            raise DeviceError(f"{self.name}: AT port is not open")
        self._collect_pending()
        prefix = expect if expect is not None else expected_prefix(command)
        try:
            frame = command.encode("ascii") + b"\r"
            self._port.write(frame)
            self._port.flush()
            self._tap("tx", frame)
        except serial.SerialTimeoutException:
            raise DeviceTimeout(f"{self.name}: {command}: write timed out") from None
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(f"{self.name}: {command}: write failed: {exc}") from None
        deadline = time.monotonic() + (timeout_s or self.settings.timeout_s)
        reply: list[str] = []
        for line in self._lines(deadline):
            if line == command.strip():                         # echo (ATE1)
                continue
            if line in FINAL_OK:
                return reply
            if line in FINAL_ERRORS:
                raise DeviceFault(f"{self.name}: {command}: {line}")
            cme = _CME.match(line)
            if cme:
                raise DeviceFault(f"{self.name}: {command}: +{cme.group(1)} ERROR: "
                                  f"{cme.group(2).strip()}")
            if self._is_urc(line, prefix):
                self.urcs.append((time.monotonic(), line))
                continue
            reply.append(line)
            if len(reply) > MAX_REPLY_LINES:
                raise ProtocolError(f"{self.name}: {command}: more than {MAX_REPLY_LINES} lines "
                                    f"without a final result code")
        raise AssertionError("unreachable")  # pragma: no cover - _lines raises at the deadline

    @staticmethod
    def _is_urc(line: str, prefix: str | None) -> bool:
        if line in URC_WORDS:
            return True
        m = _PREFIX.match(line)
        if not m:
            return False
        own = f"{m.group(1).upper()}:"
        if prefix is not None:
            return own != prefix.upper()
        return own in URC_PREFIXES

    def drain_urcs(self) -> list[tuple[float, str]]:
        """URCs received so far (monotonic time, line), oldest first; clears the list."""
        self._collect_pending()
        out = list(self.urcs)
        self.urcs.clear()
        return out
