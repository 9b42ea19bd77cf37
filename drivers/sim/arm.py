"""A simulated arm (numpy): synchronised trapezoidal motion, repeatability scatter, systematic offset.

The model is a pure function of the time it is given (seconds, any monotonic origin), so the same
arm runs in real time behind a Modbus server or in virtual time inside one process.

Motion: all six axes follow one normalised trapezoidal profile u(t) in [0, 1] (a straight line in
x, y, z and a linear blend of a, b, c), with the peak rate and acceleration chosen so that no axis
exceeds its own velocity or acceleration limit and the path speed does not exceed the commanded
speed. The attained pose is target + offset + scatter, where scatter is isotropic Gaussian noise on
x, y, z with sigma = repeatability_mm / 3.54 (for n = 30 cycles the ISO 9283 RP of such scatter is
3.54 sigma on average).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from drivers.pose import Pose
from drivers.robot import ArmState

RP_PER_SIGMA = 3.54  # expected ISO 9283 RP / sigma for isotropic 3-D Gaussian scatter, n = 30


@dataclass(frozen=True)
class ArmParams:
    """Physical behaviour of a simulated arm. Units: mm, deg, s."""

    max_speed_mm_s: float = 1000.0
    max_accel_mm_s2: float = 10000.0
    max_rot_speed_deg_s: float = 180.0
    max_rot_accel_deg_s2: float = 1800.0
    repeatability_mm: float = 0.05
    offset: Pose = field(default_factory=Pose)
    home: Pose = field(default_factory=lambda: Pose(400.0, 0.0, 300.0, 180.0, 0.0, 0.0))
    seed: int = 0

    @property
    def sigma_mm(self) -> float:
        return self.repeatability_mm / RP_PER_SIGMA

    def axis_limits(self) -> tuple[np.ndarray, np.ndarray]:
        v = np.array([self.max_speed_mm_s] * 3 + [self.max_rot_speed_deg_s] * 3)
        a = np.array([self.max_accel_mm_s2] * 3 + [self.max_rot_accel_deg_s2] * 3)
        return v, a


@dataclass(frozen=True)
class _Profile:
    """A trapezoidal profile of the normalised progress u from 0 to 1."""

    v: float   # peak du/dt, 1/s
    a: float   # du/dt^2, 1/s^2
    t_acc: float
    t_total: float

    @classmethod
    def plan(cls, v: float, a: float) -> "_Profile":
        if 1.0 * a < v * v:        # never reaches the peak rate: triangular
            t_acc = math.sqrt(1.0 / a)
            return cls(v=a * t_acc, a=a, t_acc=t_acc, t_total=2 * t_acc)
        t_acc = v / a
        return cls(v=v, a=a, t_acc=t_acc, t_total=t_acc + 1.0 / v)

    def u(self, t: float) -> float:
        if t <= 0:
            return 0.0
        if t >= self.t_total:
            return 1.0
        if t < self.t_acc:
            return 0.5 * self.a * t * t
        t_dec = self.t_total - self.t_acc
        if t <= t_dec:
            return 0.5 * self.a * self.t_acc ** 2 + self.v * (t - self.t_acc)
        r = self.t_total - t
        return 1.0 - 0.5 * self.a * r * r


class SimArm:
    """The simulated arm's state machine. All methods take `now` in seconds."""

    def __init__(self, params: ArmParams, now: float) -> None:
        self.params = params
        self.rng = np.random.default_rng(params.seed)
        self._start = params.home.as_array()
        self._end = self._start.copy()
        self._t0 = now
        self._profile: _Profile | None = None
        self._state = ArmState.IDLE
        self.fault_code = 0
        self.last_target: Pose | None = None

    def move(self, target: Pose, speed_mm_s: float, now: float) -> None:
        """Start a motion from wherever the arm is at `now` to target (+ offset + scatter)."""
        if not target.is_finite() or not math.isfinite(speed_mm_s) or speed_mm_s <= 0:
            self._state = ArmState.FAULT
            self.fault_code = 2  # invalid command
            return
        start = self._at(now)
        end = target.as_array() + self.params.offset.as_array()
        end[:3] += self.rng.normal(0.0, self.params.sigma_mm, 3)
        delta = np.abs(end - start)
        vmax, amax = self.params.axis_limits()
        vmax = vmax.copy()
        path = float(np.linalg.norm(delta[:3]))
        moving = delta > 1e-12
        self._start, self._end, self._t0 = start, end, now
        self.last_target = target
        self.fault_code = 0
        if not moving.any():
            self._profile = None
            self._state = ArmState.ARRIVED
            return
        v_u = float(np.min(vmax[moving] / delta[moving]))
        if path > 0:
            v_u = min(v_u, speed_mm_s / path)
        a_u = float(np.min(amax[moving] / delta[moving]))
        self._profile = _Profile.plan(v_u, a_u)
        self._state = ArmState.MOVING

    def stop(self, now: float) -> None:
        """Halt where the arm is at `now` (an ideal stop: the controller's braking is not modelled)."""
        here = self._at(now)
        self._start = self._end = here
        self._profile = None
        self._t0 = now
        if self._state is not ArmState.FAULT:
            self._state = ArmState.STOPPED

    def reset(self, now: float) -> None:
        """Clear a fault or stop; the arm stays where it is."""
        self.stop(now)
        self._state = ArmState.IDLE
        self.fault_code = 0

    def _at(self, now: float) -> np.ndarray:
        if self._profile is None:
            return self._end.copy()
        u = self._profile.u(now - self._t0)
        return self._start + (self._end - self._start) * u

    def pose(self, now: float) -> Pose:
        """The actual pose at `now`."""
        return Pose.from_seq(self._at(now))

    def state(self, now: float) -> ArmState:
        """The motion state at `now` (MOVING turns into ARRIVED when the profile ends)."""
        if self._state is ArmState.MOVING and self._profile is not None:
            if now - self._t0 >= self._profile.t_total:
                self._state = ArmState.ARRIVED
        return self._state

    def fault(self, now: float, code: int) -> None:
        """Protective stop: halt at `now` and report FAULT with `code` until reset."""
        self.stop(now)
        self._state = ArmState.FAULT
        self.fault_code = code

    def motion_time(self) -> float:
        """Duration of the current or last motion, s."""
        return self._profile.t_total if self._profile else 0.0
