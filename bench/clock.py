"""Clocks: the runner's only source of time. Seconds as float, nanoseconds as int.

`RealClock` is the monotonic wall clock; `VirtualClock` only moves when someone sleeps on it, so a
run on in-process simulators takes no real time and is deterministic.
"""
from __future__ import annotations

import abc
import time


class Clock(abc.ABC):
    """Monotonic time and sleeping."""

    @abc.abstractmethod
    def now(self) -> float:
        """Seconds since an arbitrary origin."""

    @abc.abstractmethod
    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass (negative or zero returns at once)."""

    def now_ns(self) -> int:
        """Nanoseconds since the same origin as `now`."""
        return int(round(self.now() * 1e9))

    @property
    def virtual(self) -> bool:
        return False


class RealClock(Clock):
    """time.monotonic / time.sleep."""

    def now(self) -> float:
        return time.monotonic()

    def now_ns(self) -> int:
        return time.monotonic_ns()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock(Clock):
    """Simulated time: `sleep` advances it instantly."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)

    def now(self) -> float:
        return self._t

    def now_ns(self) -> int:
        return round(self._t * 1e9)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._t += seconds

    @property
    def virtual(self) -> bool:
        return True
