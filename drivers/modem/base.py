"""The `Modem` interface, and `ATModem`: the base of every modem reached over an AT port.

A Modem answers one question, `read_link()`: the current `LinkState`. Real drivers, simulators
in-process and the Modbus register path all implement it. Every call is bounded by the
configured timeout and fails with the typed errors of `drivers.errors` (ATParseError is a
ProtocolError).
"""
from __future__ import annotations

import abc
import re
from types import TracebackType
from typing import Any, Callable

from drivers.errors import DeviceError, DeviceFault
from drivers.modem.at import ATChannel, ATSettings
from drivers.modem.link import LinkState


class Modem(abc.ABC):
    """A 5G modem or CPE. Use as a context manager: ``with modem: modem.read_link()``."""

    #: short name for logs and reports, e.g. "at:quectel@/dev/pts/3"
    name: str = "modem"

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the connection (DeviceError / DeviceTimeout when the modem is unreachable)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection. Never raises; safe to call twice."""

    @abc.abstractmethod
    def read_link(self) -> LinkState:
        """The link state now."""

    def identify(self) -> dict[str, str]:
        """Manufacturer, model, revision where the modem tells them (may be empty)."""
        return {}

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        """Show every raw byte written and read to `tap` ("tx"/"rx", bytes), or stop with None.

        Returns False when this implementation has no wire to tap (the default).
        """
        return False

    def __enter__(self) -> "Modem":
        self.connect()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def parse_identity(ati: list[str], cgmm: list[str] | None = None) -> dict[str, str]:
    """``ATI`` (and ``AT+CGMM``) lines -> {manufacturer, model, revision} as far as present.

    Two styles exist: labelled (``Manufacturer: ...`` / ``Model: ...`` / ``Revision: ...``;
    Huawei, Sierra) and bare (``Quectel`` / ``RM520N-GL`` / ``Revision: ...``).
    """
    out: dict[str, str] = {}
    bare: list[str] = []
    for line in ati:
        m = re.match(r"^(Manufacturer|Model|Revision)\s*:\s*(.*)$", line.strip(), re.IGNORECASE)
        if m:
            out.setdefault(m.group(1).lower(), m.group(2).strip())
        elif line.strip():
            bare.append(line.strip())
    if bare and "manufacturer" not in out:
        out["manufacturer"] = bare[0]
    if len(bare) > 1 and "model" not in out:
        out["model"] = bare[1]
    if cgmm and "model" not in out:
        model = next((ln.strip() for ln in cgmm if ln.strip()), "")
        if model:
            out["model"] = model.removeprefix("+CGMM:").strip()
    return out


class ATModem(Modem):
    """A modem on an AT port. Vendor subclasses implement `read_link` with their commands.

    `options` are vendor settings from the lab file (e.g. Quectel ``lte_sinr``); `channel` lets
    vendor detection hand over a port it already opened.
    """

    vendor: str = "generic"
    #: option names a vendor accepts (the lab file's modem section is checked against them)
    OPTIONS: tuple[str, ...] = ()

    def __init__(self, settings: ATSettings, options: dict[str, Any] | None = None,
                 channel: ATChannel | None = None, identity: dict[str, str] | None = None
                 ) -> None:
        self.settings = settings
        self.options = dict(options or {})
        self._channel = channel
        self._tap: Callable[[str, bytes], None] | None = None
        self.identity = dict(identity or {})
        self.name = f"at:{self.vendor}@{settings.url}"

    @property
    def channel(self) -> ATChannel:
        if self._channel is None:
            raise DeviceError(f"{self.name}: not connected")
        return self._channel

    def connect(self) -> None:
        if self._channel is None:
            ch = ATChannel(self.settings)
            ch.wire_tap = self._tap
            ch.open()
            self._channel = ch
            try:
                self.setup()
            except BaseException:
                self.close()
                raise

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        self._tap = tap
        if self._channel is not None:
            self._channel.wire_tap = tap
        return True

    def setup(self) -> None:
        """Echo off and numeric +CME errors (a modem that refuses CMEE is still usable)."""
        self.channel.command("ATE0")
        try:
            self.channel.command("AT+CMEE=1")
        except DeviceFault:
            pass

    def close(self) -> None:
        ch, self._channel = self._channel, None
        if ch is not None:
            ch.close()

    def identify(self) -> dict[str, str]:
        if not self.identity:
            ati = self.channel.command("ATI")
            try:
                cgmm = self.channel.command("AT+CGMM")
            except DeviceFault:
                cgmm = []
            self.identity = parse_identity(ati, cgmm)
        return dict(self.identity)

    def ask(self, command: str) -> list[str]:
        """One command's reply lines (typed errors as in ATChannel.command)."""
        return self.channel.command(command)

    def read_link(self) -> LinkState:  # pragma: no cover - every vendor overrides it
        raise NotImplementedError
