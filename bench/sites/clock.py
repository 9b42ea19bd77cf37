"""One virtual clock for several sites running at once, each in its own thread.

`SharedVirtualClock` is a discrete-event scheduler over threads: every site gets a `SiteClock`
view; exactly one site's thread runs at a time, and when it sleeps, the site with the earliest
wake-up time (ties: the order the sites joined) runs next, with the shared time set to that
wake-up. Nothing runs in parallel and the interleaving depends only on the sleeps, so concurrent
sites in virtual mode are as deterministic as one site on a `VirtualClock`.
Every site must `join` before any of them runs (`start`), and `leave` when it is done (also on
error), or the others wait for it forever.
"""
from __future__ import annotations

import threading

from bench.clock import Clock


class SharedVirtualClock:
    """The scheduler and the shared time (seconds)."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = float(start)
        self._cv = threading.Condition()
        self._wake: dict[str, float] = {}        # waiting sites and when they want to run
        self._order: list[str] = []
        self._running: str | None = None
        self._started = False

    def join(self, site: str) -> "SiteClock":
        """A clock view for `site` (before `start`)."""
        with self._cv:
            if self._started:
                raise RuntimeError("join every site before the shared clock starts")
            if site in self._order:
                raise ValueError(f"site {site!r} joined twice")
            self._order.append(site)
            self._wake[site] = self.t
        return SiteClock(self, site)

    def start(self) -> None:
        """Let the first site run (call once every site has joined)."""
        with self._cv:
            self._started = True
            self._pick()

    def _pick(self) -> None:
        if not self._wake:
            self._running = None
        else:
            site = min(self._wake, key=lambda s: (self._wake[s], self._order.index(s)))
            self.t = max(self.t, self._wake[site])
            self._running = site
        self._cv.notify_all()

    def wait_turn(self, site: str) -> None:
        """Block the calling thread until `site` may run."""
        with self._cv:
            while self._running != site:
                self._cv.wait()
            del self._wake[site]

    def sleep(self, site: str, seconds: float) -> None:
        with self._cv:
            if self._running != site:
                raise RuntimeError(f"site {site!r} slept while it was not its turn")
            self._wake[site] = self.t + max(0.0, seconds)
            self._pick()
            while self._running != site:
                self._cv.wait()
            del self._wake[site]

    def leave(self, site: str) -> None:
        """`site` is done: the others go on without it."""
        with self._cv:
            self._wake.pop(site, None)
            if self._running == site or self._running is None:
                self._pick()


class SiteClock(Clock):
    """One site's view of a `SharedVirtualClock`: `sleep` yields to the other sites."""

    def __init__(self, shared: SharedVirtualClock, site: str) -> None:
        self.shared = shared
        self.site = site

    def now(self) -> float:
        return self.shared.t

    def now_ns(self) -> int:
        return round(self.shared.t * 1e9)

    def sleep(self, seconds: float) -> None:
        self.shared.sleep(self.site, seconds)

    @property
    def virtual(self) -> bool:
        return True
