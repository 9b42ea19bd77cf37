"""Registry: the `driver:` names of a lab file's `modem:` section mapped to factories.

A factory reads its own keys from the section (validating them, so a typo fails at load time) and
returns a `ModemSpec`: a recipe that opens the modem later, possibly at an endpoint given by a
simulator started for it (a serial URL for AT modems, ``host:port`` for Modbus ones). The bench's
sampler and the pytest plugin open the lab's modem through it. New drivers add one line to
MODEM_DRIVERS.

    modem:
      driver: at                 # AT commands on a serial port or socket:// URL
      url: /dev/ttyUSB2          # any pyserial URL
      vendor: auto               # auto | quectel | huawei | sierra | generic
      baudrate: 115200
      timeout: 1 s
      lte_sinr: 2v-20            # Quectel only: LTE SINR encoding (default from the model)

    modem:
      driver: modbus             # a CPE router publishing its link state in registers
      map: modem-native          # built-in map name or path
      host: 192.0.2.10
      port: 502
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Protocol

from drivers.config import Section
from drivers.endpoint import Endpoint, SerialEndpoint, TcpEndpoint
from drivers.errors import ConfigError
from drivers.modbus.transport import ModbusSettings
from drivers.modem.at import ATSettings
from drivers.modem.base import Modem
from drivers.modem.modbus import (
    ModbusModem,
    ModemMap,
    load_modem_map,
    resolve_modem_map,
)
from drivers.modem.quectel import LTE_SINR
from drivers.modem.vendors import VENDOR_CHOICES, open_at_modem


class ModemSpec(Protocol):
    """What a modem factory returns: enough to open the modem, and to serve a simulator of it."""

    @property
    def driver(self) -> str:
        """The lab file's `driver:` name."""
        ...

    @property
    def vendor(self) -> str:
        """The vendor the driver speaks to (``auto`` when detected at connect time)."""
        ...

    def endpoint(self) -> Endpoint | None:
        """Where the configured modem is; None when the lab does not say (simulated)."""
        ...

    def open(self, endpoint: str | None = None) -> Modem:
        """A (not yet connected) Modem; `endpoint` overrides the configured address."""
        ...

    def describe(self) -> str:
        """Where the modem is, for logs."""
        ...


@dataclass(frozen=True)
class ATModemSpec:
    """An AT modem: port settings, vendor (or auto) and vendor options."""

    settings: ATSettings
    vendor: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)
    driver: str = "at"

    def endpoint(self) -> Endpoint | None:
        s = self.settings
        return SerialEndpoint(s.url, s.baudrate, "line") if s.url else None

    def open(self, endpoint: str | None = None) -> Modem:
        settings = self.settings if endpoint is None else replace(self.settings, url=endpoint)
        return open_at_modem(settings, self.vendor, self.options)

    def describe(self) -> str:
        return f"at:{self.vendor}@{self.settings.url or '(simulated)'}"


@dataclass(frozen=True)
class ModbusModemSpec:
    """A CPE router read over Modbus TCP through a modem register map."""

    modem_map: ModemMap
    link: ModbusSettings
    driver: str = "modbus"
    vendor: str = "modbus"

    def endpoint(self) -> Endpoint | None:
        return TcpEndpoint(self.link.host, self.link.port)

    def open(self, endpoint: str | None = None) -> Modem:
        link = self.link
        if endpoint is not None:
            host, _, port = endpoint.rpartition(":")
            link = replace(link, host=host or link.host, port=int(port))
        return ModbusModem(self.modem_map, link)

    def describe(self) -> str:
        return f"modbus:{self.modem_map.name}@{self.link.host}:{self.link.port}"


def at_modem(section: Section, base_dir: Path | None) -> ATModemSpec:
    """Factory for ``driver: at`` (keys: url, vendor, baudrate, timeout, lte_sinr, model)."""
    settings = ATSettings(
        url=section.get("url", str, ""),
        baudrate=section.get("baudrate", int, 115200),
        timeout_s=section.quantity("timeout", "s", 1.0, min=0.01, max=60),
    )
    vendor = section.get("vendor", str, "auto", choices=VENDOR_CHOICES)
    options: dict[str, Any] = {}
    if section.has("lte_sinr"):
        options["lte_sinr"] = section.get("lte_sinr", str, choices=list(LTE_SINR))
    if section.has("model"):
        options["model"] = section.get("model", str)
    if settings.baudrate <= 0:
        raise section.error("baudrate", "must be positive")
    return ATModemSpec(settings=settings, vendor=vendor, options=options)


def modbus_modem(section: Section, base_dir: Path | None) -> ModbusModemSpec:
    """Factory for ``driver: modbus`` (keys: map, host, port, device_id, timeout, retries)."""
    map_name = section.get("map", str, "modem-native")
    try:
        modem_map = load_modem_map(resolve_modem_map(map_name, base_dir))
    except ConfigError as exc:
        raise section.error("map", str(exc)) from None
    link = ModbusSettings(
        transport="tcp", host=section.get("host", str, "127.0.0.1"),
        port=section.get("port", int, 502), device_id=section.get("device_id", int, 1),
        timeout_s=section.quantity("timeout", "s", 0.5, min=0.001, max=60),
        retries=section.get("retries", int, 1))
    if not 0 < link.port < 65536:
        raise section.error("port", "must be 1..65535")
    if not 0 <= link.retries <= 10:
        raise section.error("retries", "must be between 0 and 10")
    return ModbusModemSpec(modem_map=modem_map, link=link)


MODEM_DRIVERS: dict[str, Callable[[Section, Path | None], ModemSpec]] = {
    "at": at_modem,
    "modbus": modbus_modem,
}
