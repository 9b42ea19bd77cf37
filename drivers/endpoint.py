"""Where a device is: one endpoint type shared by robots, modems and instruments.

A device spec (`drivers.registry.RobotSpec`, `drivers.modem.registry.ModemSpec`) declares its
endpoint with these types instead of callers probing its attributes:

* `TcpEndpoint`: ``host:port`` of a TCP link (Modbus TCP, RTU/ASCII frames over raw TCP, a GRBL
  controller behind a serial device server reached as ``socket://``).
* `UdpEndpoint`: a UDP device or stream at ``host:port`` (impaired by the UDP proxy).
* `SerialEndpoint`: a serial line (device path such as ``/dev/ttyUSB0``, a pty path, or any
  pyserial URL) with its baud rate and how messages are delimited on it (`framing`), which a
  frame-aware impairment proxy needs to delay whole messages rather than bytes.

`Address` is the plain form the drivers' ``open()`` accept and the simulators print:
``(host, port)`` or a path/URL string.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Union

#: ``(host, port)`` of a TCP endpoint, or a serial device path / pty path / pyserial URL
Address = Union[tuple[str, int], str]

#: how messages are delimited on a serial line: Modbus RTU (silent intervals), text lines
#: (Modbus ASCII, GRBL, AT commands) or unknown (raw bytes)
FRAMINGS = ("rtu", "line", "raw")


@dataclass(frozen=True)
class _HostPort:
    """``host:port`` of a network endpoint; `scheme` names its transport in `describe()`."""

    scheme: ClassVar[str] = ""
    host: str
    port: int

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def describe(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


@dataclass(frozen=True)
class TcpEndpoint(_HostPort):
    """A TCP link to ``host:port``."""

    scheme: ClassVar[str] = "tcp"


@dataclass(frozen=True)
class SerialEndpoint:
    """A serial line: `port` is a device path, pty path or pyserial URL; `baudrate` in bit/s;
    `framing` one of `FRAMINGS`."""

    port: str
    baudrate: int = 19200
    framing: str = "raw"

    def __post_init__(self) -> None:
        if self.framing not in FRAMINGS:
            raise ValueError(f"framing must be one of {FRAMINGS}, not {self.framing!r}")

    @property
    def address(self) -> str:
        return self.port

    def describe(self) -> str:
        return f"{self.port}@{self.baudrate} ({self.framing})"


Endpoint = Union[TcpEndpoint, SerialEndpoint]


@dataclass(frozen=True)
class UdpEndpoint(_HostPort):
    """A UDP device or stream receiver at ``host:port`` (video, haptics, telemetry). Not one of
    the robot/modem `Endpoint`s: their drivers do not speak UDP; the rig impairs such links with
    the UDP proxy (`Rig.udp_link`)."""

    scheme: ClassVar[str] = "udp"


def endpoint_at(address: Address, baudrate: int = 19200, framing: str = "raw") -> Endpoint:
    """The endpoint for a plain address: ``(host, port)`` is TCP, a string is a serial line with
    the given `baudrate` and `framing` (a simulator's pty takes its link's framing)."""
    if isinstance(address, tuple):
        return TcpEndpoint(str(address[0]), int(address[1]))
    return SerialEndpoint(str(address), baudrate, framing)
