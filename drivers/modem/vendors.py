"""Vendor registry: lab-file names (`vendor: quectel`) -> ATModem classes, and detection from
``ATI`` / ``AT+CGMM`` for `vendor: auto`.

Adding a vendor: one module with its parsers and ATModem subclass, one line in VENDORS and, if
its ATI text names it, one line in DETECT.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from drivers.errors import ConfigError
from drivers.modem.at import ATChannel, ATSettings
from drivers.modem.base import ATModem, Modem, parse_identity
from drivers.modem.generic import GenericModem
from drivers.modem.huawei import HuaweiModem
from drivers.modem.link import LinkState
from drivers.modem.quectel import QuectelModem
from drivers.modem.sierra import SierraModem

VENDORS: dict[str, type[ATModem]] = {
    "quectel": QuectelModem,
    "huawei": HuaweiModem,
    "sierra": SierraModem,
    "generic": GenericModem,
}
#: (pattern searched in the manufacturer / ATI text, vendor); first match wins, else generic
DETECT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"quectel", re.IGNORECASE), "quectel"),
    (re.compile(r"huawei", re.IGNORECASE), "huawei"),
    (re.compile(r"sierra", re.IGNORECASE), "sierra"),
)
VENDOR_CHOICES = ("auto", *VENDORS)


def detect_vendor(identity: dict[str, str], ati: list[str] | None = None) -> str:
    """The vendor name for an identity (from `parse_identity`) or raw ATI lines."""
    text = " ".join([*identity.values(), *(ati or [])])
    for pattern, vendor in DETECT:
        if pattern.search(text):
            return vendor
    return "generic"


def vendor_class(name: str) -> type[ATModem]:
    """VENDORS[name]; ConfigError listing the choices when unknown."""
    try:
        return VENDORS[name]
    except KeyError:
        raise ConfigError(f"unknown modem vendor {name!r} (known: "
                          f"{', '.join(VENDOR_CHOICES)})") from None


class AutoModem(Modem):
    """`vendor: auto`: opens the port, asks ATI / AT+CGMM, then behaves as the detected vendor."""

    def __init__(self, settings: ATSettings, options: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self.options = dict(options or {})
        self.name = f"at:auto@{settings.url}"
        self.inner: ATModem | None = None

    def connect(self) -> None:
        probe = GenericModem(self.settings)
        probe.connect()
        try:
            ati = probe.channel.command("ATI")
            try:
                cgmm = probe.channel.command("AT+CGMM")
            except Exception:  # noqa: BLE001 - CGMM is optional; ATI may be enough
                cgmm = []
            identity = parse_identity(ati, cgmm)
            cls = VENDORS[detect_vendor(identity, ati)]
        except BaseException:
            probe.close()
            raise
        self.inner = cls(self.settings, self.options, channel=probe.channel, identity=identity)
        self.name = self.inner.name

    def close(self) -> None:
        if self.inner is not None:
            self.inner.close()
            self.inner = None

    def _modem(self) -> ATModem:
        if self.inner is None:
            self.connect()
        assert self.inner is not None
        return self.inner

    def read_link(self) -> LinkState:
        return self._modem().read_link()

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        """Taps the detected vendor's port (connect first: detection happens there)."""
        return self.inner.set_wire_tap(tap) if self.inner is not None else False

    def identify(self) -> dict[str, str]:
        return self._modem().identify()

    @property
    def vendor(self) -> str:
        return self._modem().vendor


def open_at_modem(settings: ATSettings, vendor: str = "auto",
                  options: dict[str, Any] | None = None) -> Modem:
    """A (not yet connected) Modem for an AT port; `vendor` "auto" detects it on connect."""
    if vendor == "auto":
        return AutoModem(settings, options)
    return vendor_class(vendor)(settings, options)


__all__ = ["VENDORS", "VENDOR_CHOICES", "AutoModem", "ATChannel", "detect_vendor",
           "open_at_modem", "vendor_class"]
