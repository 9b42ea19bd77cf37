"""Registry: the names used in lab files (`driver: modbus`) mapped to driver factories.

A factory reads its own keys from the device's section of the lab file (validating them, so a
typo fails at load time) and returns a `RobotSpec`: a recipe that opens the device later, possibly
at an endpoint given by a simulator started for it. New drivers add one line to ROBOT_DRIVERS.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Protocol

from drivers.config import Section
from drivers.endpoint import Address, Endpoint, SerialEndpoint, TcpEndpoint, endpoint_at
from drivers.errors import ConfigError
from drivers.grbl.robot import GrblArm, GrblSettings
from drivers.modbus.regmap import RegisterMap, load_map, resolve_map
from drivers.modbus.robot import ModbusRobotArm
from drivers.modbus.transport import (
    PARITIES,
    SERIAL_TRANSPORTS,
    TRANSPORTS,
    ModbusSettings,
)
from drivers.robot import RobotArm


class RobotSpec(Protocol):
    """What a robot factory returns: enough to open the robot, and to serve a simulator of it."""

    @property
    def driver(self) -> str:
        """The lab file's `driver:` name."""
        ...

    @property
    def timeout_s(self) -> float:
        """Reply timeout of one transaction on the link, seconds."""
        ...

    @property
    def retries(self) -> int:
        """Extra attempts after a timeout (0 = one attempt)."""
        ...

    def endpoint(self, address: Address | None = None) -> Endpoint | None:
        """Where the link goes: the configured device (None when the lab does not say, as for a
        simulated robot), or `address` (a simulator's) with this link's baud rate and framing."""
        ...

    def open(self, endpoint: Endpoint | Address | None = None) -> RobotArm:
        """A (not yet connected) RobotArm; `endpoint` overrides the configured host and port, or
        the serial port path (simulators, proxies)."""
        ...


def _address(endpoint: Endpoint | Address) -> Address:
    return endpoint.address if isinstance(endpoint, (TcpEndpoint, SerialEndpoint)) else endpoint


@dataclass(frozen=True)
class ModbusRobotSpec:
    """A Modbus robot: register map plus link settings."""

    regmap: RegisterMap
    link: ModbusSettings
    driver: str = "modbus"

    @property
    def timeout_s(self) -> float:
        return self.link.timeout_s

    @property
    def retries(self) -> int:
        return self.link.retries

    def endpoint(self, address: Address | None = None) -> Endpoint | None:
        link = self.link
        framing = MODBUS_FRAMING.get(link.transport, "raw")
        if address is not None:
            return endpoint_at(address, link.baudrate, framing)
        if link.transport in SERIAL_TRANSPORTS:
            return SerialEndpoint(link.serial_port, link.baudrate, framing) \
                if link.serial_port else None
        return TcpEndpoint(link.host, link.port)

    def open(self, endpoint: Endpoint | Address | None = None) -> RobotArm:
        link = self.link if endpoint is None else self.link.with_endpoint(_address(endpoint))
        return ModbusRobotArm(self.regmap, link)


#: how Modbus messages are delimited on a serial line, by transport
MODBUS_FRAMING = {"rtu": "rtu", "ascii": "line"}


def modbus_robot(section: Section, base_dir: Path | None) -> ModbusRobotSpec:
    """Factory for ``driver: modbus``.

    Keys: map, transport (tcp, rtu, ascii, rtu-tcp, ascii-tcp), host, port (TCP transports),
    serial_port, baudrate, parity (N/E/O), bytesize (7/8), stopbits (1/2) (serial transports),
    device_id (1..247; 0 is broadcast and never answers), timeout, retries (0..10).
    """
    map_name = section.get("map", str, "native")
    try:
        regmap = load_map(resolve_map(map_name, base_dir))
    except ConfigError as exc:
        raise section.error("map", str(exc)) from None
    transport = section.get("transport", str, "tcp", choices=TRANSPORTS)
    serial = transport in SERIAL_TRANSPORTS
    simulate = bool(section.data.get("simulate", False))
    link = ModbusSettings(
        transport=transport,
        host=section.get("host", str, "127.0.0.1"),
        port=section.get("port", int, 502),
        device_id=section.get("device_id", int, 1),
        timeout_s=section.quantity("timeout", "s", 0.5, min=0.001, max=60),
        retries=section.get("retries", int, 1),
        serial_port=section.get("serial_port", str, ""),
        baudrate=section.get("baudrate", int, 19200),
        parity=section.get("parity", str, "N", choices=PARITIES),
        bytesize=section.get("bytesize", int, 8, choices=(7, 8)),
        stopbits=section.get("stopbits", int, 1, choices=(1, 2)),
    )
    if not 0 <= link.retries <= 10:
        raise section.error("retries", "must be between 0 and 10")
    if not 0 < link.port < 65536:
        raise section.error("port", "must be 1..65535")
    if not 1 <= link.device_id <= 247:
        raise section.error("device_id", "must be 1..247")
    if not 50 <= link.baudrate <= 4_000_000:
        raise section.error("baudrate", "must be 50..4000000")
    if serial and not link.serial_port and not simulate:
        raise section.error("transport", f"{transport} needs serial_port (e.g. /dev/ttyUSB0)")
    return ModbusRobotSpec(regmap=regmap, link=link)


@dataclass(frozen=True)
class GrblRobotSpec:
    """A GRBL / G-code controller on a serial line."""

    settings: GrblSettings
    driver: str = "grbl"

    @property
    def timeout_s(self) -> float:
        return self.settings.timeout_s

    @property
    def retries(self) -> int:
        return 0

    def endpoint(self, address: Address | None = None) -> Endpoint | None:
        # G-code is line-based: the serial proxy delays whole lines
        s = self.settings
        if address is not None:
            return endpoint_at(address, s.baudrate, "line")
        return SerialEndpoint(s.port, s.baudrate, "line") if s.port else None

    def open(self, endpoint: Endpoint | Address | None = None) -> RobotArm:
        settings = self.settings
        if endpoint is not None:
            address = _address(endpoint)
            port = address if isinstance(address, str) else \
                f"socket://{address[0]}:{address[1]}"
            settings = replace(settings, port=port)
        return GrblArm(settings)


def grbl_robot(section: Section, base_dir: Path | None) -> GrblRobotSpec:
    """Factory for ``driver: grbl``. Keys: serial_port (device path, pty path or pyserial URL
    such as socket://host:port), baudrate (default 115200), timeout, reset_on_connect."""
    simulate = bool(section.data.get("simulate", False))
    settings = GrblSettings(
        port=section.get("serial_port", str, ""),
        baudrate=section.get("baudrate", int, 115200),
        timeout_s=section.quantity("timeout", "s", 0.5, min=0.001, max=60),
        reset_on_connect=section.get("reset_on_connect", bool, False),
    )
    if not settings.port and not simulate:
        raise section.error("serial_port", "required (e.g. /dev/ttyUSB0 or socket://host:port)")
    if not 50 <= settings.baudrate <= 4_000_000:
        raise section.error("baudrate", "must be 50..4000000")
    return GrblRobotSpec(settings)


ROBOT_DRIVERS: dict[str, Callable[[Section, Path | None], RobotSpec]] = {
    "modbus": modbus_robot,
    "grbl": grbl_robot,
}
