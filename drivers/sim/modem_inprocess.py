"""`InProcessModem`: a link profile as a `Modem` in the caller's process (virtual time mode).

Time comes from `time_fn` (seconds); the profile's time 0 is the moment `connect` is called, so
a run on a virtual clock sees the same link sequence as one in real time. No I/O, never times out.
"""
from __future__ import annotations

from typing import Callable

from drivers.modem.base import Modem
from drivers.modem.link import LinkState
from drivers.sim.modem_profile import LinkProfile


class InProcessModem(Modem):
    """A `LinkProfile` behind the `Modem` interface, driven by `time_fn`."""

    def __init__(self, profile: LinkProfile, time_fn: Callable[[], float],
                 name: str = "sim") -> None:
        self.profile = profile
        self.time_fn = time_fn
        self.name = f"inprocess-modem:{name}"
        self._t0: float | None = None

    def connect(self) -> None:
        if self._t0 is None:
            self._t0 = self.time_fn()

    def close(self) -> None:
        pass

    def read_link(self) -> LinkState:
        self.connect()
        assert self._t0 is not None
        return self.profile.state_at(self.time_fn() - self._t0)

    def identify(self) -> dict[str, str]:
        return {"manufacturer": "hil-bench", "model": "in-process link profile"}
