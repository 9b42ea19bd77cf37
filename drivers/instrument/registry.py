"""Registry: the `driver:` names of a lab file's `instrument:` section mapped to factories.

A factory reads its own keys from the section (validating them, so a typo fails at load time)
and returns an `InstrumentSpec`: a recipe that opens the instrument later, possibly at an
endpoint given by a simulator started for it. New drivers add one line to INSTRUMENT_DRIVERS.

    instrument:
      driver: ndi                # NDI Combined API on a serial line (Polaris, Aurora)
      url: /dev/ttyUSB0          # any pyserial URL (socket://host:8765 for a Vega)
      reply: bx                  # bx (binary) | tx (ASCII)
      baudrate: 9600             # power-on rate; comm_baudrate: 115200 switches after INIT
      tools: {tool: "01"}        # name -> port handle, or a ROM file for passive tools
      timeout: 1 s

    instrument:
      driver: openigtlink        # PLUS Toolkit / 3D Slicer / any OpenIGTLink server
      host: 192.0.2.20
      port: 18944
      tools: {tool: ToolToTracker}   # name -> OpenIGTLink device name
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Protocol

from drivers.config import Section
from drivers.endpoint import Endpoint, SerialEndpoint
from drivers.instrument.base import DEFAULT_CLOCK, ClockNs, Instrument
from drivers.instrument.ndi import BAUD_CODES, NdiSettings, NdiTracker


class InstrumentSpec(Protocol):
    """What an instrument factory returns: enough to open it, and to serve a simulator of it."""

    @property
    def driver(self) -> str:
        """The lab file's `driver:` name."""
        ...

    @property
    def protocol(self) -> str:
        """The wire protocol the instrument speaks (``ndi``, ``igtl``)."""
        ...

    def open(self, endpoint: str | None = None, clock_ns: ClockNs = DEFAULT_CLOCK) -> Instrument:
        """A (not yet connected) Instrument; `endpoint` overrides the configured address
        (a pyserial URL for NDI, ``host:port`` for OpenIGTLink)."""
        ...

    def describe(self) -> str:
        """Where the instrument is, for logs and reports."""
        ...

    def endpoint(self) -> Endpoint | None:
        """Where the configured instrument is; None when the lab does not say (simulated)."""
        ...

    def tool_names(self) -> list[str]:
        """The configured tools' names, in order."""
        ...


@dataclass(frozen=True)
class NdiSpec:
    """An NDI tracker on a serial line."""

    settings: NdiSettings
    driver: str = "ndi"
    protocol: str = "ndi"

    def open(self, endpoint: str | None = None, clock_ns: ClockNs = DEFAULT_CLOCK) -> Instrument:
        settings = self.settings if endpoint is None else replace(self.settings, url=endpoint)
        return NdiTracker(settings, clock_ns)

    def describe(self) -> str:
        return f"ndi@{self.settings.url or '(simulated)'}"

    def endpoint(self) -> Endpoint | None:
        # CR-terminated commands; the BX reply is binary, so a proxy must not cut at CRs
        s = self.settings
        return SerialEndpoint(s.url, s.baudrate, "raw") if s.url else None

    def tool_names(self) -> list[str]:
        return list(self.settings.tools)


def _tools(section: Section, default: dict[str, str]) -> dict[str, str]:
    if not section.has("tools"):
        section.raw("tools", None)
        return dict(default)
    raw = section.raw("tools")
    if not isinstance(raw, dict) or not raw:
        raise section.error("tools", "expected a mapping of tool name -> port/device name")
    return {str(k): str(v) for k, v in raw.items()}


def ndi_instrument(section: Section, base_dir: Path | None) -> NdiSpec:
    """Factory for ``driver: ndi``. Keys: url (pyserial URL or device path), baudrate,
    comm_baudrate, reply (bx|tx), tools {name: handle or ROM path}, timeout, reset_on_connect."""
    simulate = section.has("simulator")
    tools = _tools(section, {"tool": "01"})
    for name, where in tools.items():
        if not (len(where) == 2 and all(c in "0123456789abcdefABCDEF" for c in where)):
            path = Path(where)
            if not path.is_absolute() and base_dir is not None:
                tools[name] = str(base_dir / path)
    settings = NdiSettings(
        url=section.get("url", str, ""),
        baudrate=section.get("baudrate", int, 9600),
        comm_baudrate=section.get("comm_baudrate", int, None) if section.has("comm_baudrate")
        else None,
        timeout_s=section.quantity("timeout", "s", 1.0, min=0.001, max=60),
        reply=section.get("reply", str, "bx", choices=("bx", "tx")),
        tools=tools,
        reset_on_connect=section.get("reset_on_connect", bool, False),
    )
    if settings.comm_baudrate is not None and settings.comm_baudrate not in BAUD_CODES:
        raise section.error("comm_baudrate", f"must be one of {sorted(BAUD_CODES)}")
    if not settings.url and not simulate:
        raise section.error("url", "required (e.g. /dev/ttyUSB0 or socket://host:8765)")
    return NdiSpec(settings)


def _igtl(section: Section, base_dir: Path | None) -> InstrumentSpec:
    from drivers.instrument.igtl import igtl_instrument    # its own module: a socket client
    return igtl_instrument(section, base_dir)


INSTRUMENT_DRIVERS: dict[str, Callable[[Section, Path | None], InstrumentSpec]] = {
    "ndi": ndi_instrument,
    "openigtlink": _igtl,
}


def instrument_spec(section: Section, base_dir: Path | None) -> InstrumentSpec:
    """The spec of an `instrument:` section (its `driver:` key picks the factory); the
    `simulator:`, `registration:` and `settle:` keys are left for their readers."""
    driver = section.get("driver", str, choices=sorted(INSTRUMENT_DRIVERS))
    return INSTRUMENT_DRIVERS[driver](section, base_dir)
