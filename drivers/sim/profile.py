"""Motion profiles of a normalised progress u(t) from 0 to 1 (all axes share one, so paths stay
straight): trapezoidal (limited velocity and acceleration) and jerk-limited "S-curve" (limited
velocity, acceleration and jerk: seven segments, or fewer when a limit is not reached).

Rates are in units of u: v in 1/s, a in 1/s^2, j in 1/s^3. `u(t)` is clamped to [0, 1] outside
[0, t_total]. Failure mode: ValueError for non-positive limits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


class MotionProfile(Protocol):
    t_total: float

    def u(self, t: float) -> float: ...


@dataclass(slots=True)      # not frozen: one is planned per setpoint, frozen init is slow
class Trapezoid:
    """Constant acceleration to the peak rate, cruise, constant deceleration."""

    v: float
    a: float
    t_acc: float
    t_total: float

    @classmethod
    def plan(cls, v: float, a: float) -> "Trapezoid":
        if v <= 0 or a <= 0:
            raise ValueError("profile limits must be positive")
        if a < v * v:                  # never reaches the peak rate: triangular
            t_acc = math.sqrt(1.0 / a)
            return cls(a * t_acc, a, t_acc, 2 * t_acc)     # v, a, t_acc, t_total
        t_acc = v / a
        return cls(v, a, t_acc, t_acc + 1.0 / v)

    def u(self, t: float) -> float:
        if t <= 0:
            return 0.0
        if t >= self.t_total:
            return 1.0
        if t < self.t_acc:
            return 0.5 * self.a * t * t
        if t <= self.t_total - self.t_acc:
            return 0.5 * self.a * self.t_acc ** 2 + self.v * (t - self.t_acc)
        r = self.t_total - t
        return 1.0 - 0.5 * self.a * r * r


@dataclass(slots=True)      # not frozen: one is planned per setpoint, frozen init is slow
class SCurve:
    """Jerk-limited profile: jerk phases of `tj`, constant acceleration `ta`, cruise at `v`."""

    v: float
    j: float
    tj: float
    ta: float
    t_total: float

    @classmethod
    def plan(cls, v: float, a: float, j: float) -> "SCurve":
        if v <= 0 or a <= 0 or j <= 0:
            raise ValueError("profile limits must be positive")

        def accel_phase(vp: float) -> tuple[float, float]:
            if vp * j < a * a:           # the acceleration limit is not reached
                return math.sqrt(vp / j), 0.0
            return a / j, vp / a - a / j

        tj, ta = accel_phase(v)
        if v * (2 * tj + ta) > 1.0:      # no room to cruise at v: find the peak that fits
            lo, hi = 0.0, v
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                t1, t2 = accel_phase(mid)
                lo, hi = (mid, hi) if mid * (2 * t1 + t2) <= 1.0 else (lo, mid)
            v = lo
            tj, ta = accel_phase(v)
        t_acc = 2 * tj + ta
        return cls(v=v, j=j, tj=tj, ta=ta, t_total=2 * t_acc + (1.0 - v * t_acc) / v)

    def _acc(self, t: float) -> float:
        """Progress during the acceleration phase, 0 <= t <= 2 tj + ta."""
        tj, ta, j, v = self.tj, self.ta, self.j, self.v
        t_acc = 2 * tj + ta
        if t <= tj:
            return j * t ** 3 / 6
        if t <= tj + ta:
            s = t - tj
            return j * tj ** 3 / 6 + 0.5 * j * tj ** 2 * s + 0.5 * j * tj * s * s
        s = t_acc - t                    # the end of the phase mirrors its start
        return v * t_acc / 2 - v * s + j * s ** 3 / 6

    def u(self, t: float) -> float:
        if t <= 0:
            return 0.0
        if t >= self.t_total:
            return 1.0
        t_acc = 2 * self.tj + self.ta
        if t <= t_acc:
            return self._acc(t)
        if t >= self.t_total - t_acc:
            return 1.0 - self._acc(self.t_total - t)
        return self.v * t_acc / 2 + self.v * (t - t_acc)
