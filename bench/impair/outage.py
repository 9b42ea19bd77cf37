"""Outages (coverage holes): scheduled windows and/or an on/off Markov process. Times in seconds
since the link started (t = 0 at the wrapper's or proxy's start).

During an outage every message in both directions is lost. The Markov process alternates
exponentially distributed up times (mean `mean_up_s`) and down times (mean `mean_down_s`),
generated lazily and seeded, so the same seed always gives the same holes.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class OutageSpec:
    """Scheduled windows [(start_s, duration_s), ...] and optional Markov mean up/down times."""

    scheduled: tuple[tuple[float, float], ...] = ()
    mean_up_s: float | None = None
    mean_down_s: float | None = None

    def __post_init__(self) -> None:
        for start, dur in self.scheduled:
            if start < 0 or dur <= 0:
                raise ValueError("outage windows need start >= 0 and duration > 0")
        if (self.mean_up_s is None) != (self.mean_down_s is None):
            raise ValueError("a Markov outage process needs both mean_up and mean_down")
        if self.mean_up_s is not None and (self.mean_up_s <= 0 or (self.mean_down_s or 0) <= 0):
            raise ValueError("mean_up and mean_down must be > 0")

    @property
    def empty(self) -> bool:
        return not self.scheduled and self.mean_up_s is None


@dataclass
class Outages:
    """Answers "is the link down at t?" and "when does this outage end?"."""

    spec: OutageSpec
    rng: np.random.Generator
    _starts: list[float] = field(default_factory=list)   # Markov windows generated so far
    _ends: list[float] = field(default_factory=list)
    _horizon: float = 0.0

    def _extend(self, t: float) -> None:
        up, down = self.spec.mean_up_s, self.spec.mean_down_s
        if up is None or down is None:
            return
        while self._horizon <= t:
            start = self._horizon + float(self.rng.exponential(up))
            end = start + float(self.rng.exponential(down))
            self._starts.append(start)
            self._ends.append(end)
            self._horizon = end

    def window(self, t: float) -> tuple[float, float] | None:
        """The outage window (start_s, end_s) containing `t`, or None when the link is up."""
        for start, dur in self.spec.scheduled:
            if start <= t < start + dur:
                return start, start + dur
        self._extend(t)
        i = bisect.bisect_right(self._starts, t) - 1
        if i >= 0 and t < self._ends[i]:
            return self._starts[i], self._ends[i]
        return None

    def down(self, t: float) -> bool:
        return self.window(t) is not None
