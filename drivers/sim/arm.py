"""A simulated arm (numpy) that behaves like a collaborative arm's controller, as seen on the wire.

The model is a function of the times it is given (seconds, any monotonic origin; queries must not go
back in time), so the same arm runs in real time behind a Modbus or GRBL server or in virtual time
inside one process. Every random draw comes from one generator seeded by `ArmParams.seed`.

What it models, in the order a motion goes through it:

* planning: all six axes follow one normalised profile u(t) (trapezoidal or jerk-limited), so the
  path is a straight line in x, y, z with a linear blend of a, b, c; the peak rate, acceleration and
  jerk are chosen so that no axis exceeds its own limits and the path speed does not exceed the
  commanded speed;
* where the motion ends: target + repeatability scatter (isotropic Gaussian on x, y, z, sigma =
  repeatability / 3.54, which makes the expected ISO 9283 RP over 30 cycles equal
  `repeatability_mm`) - backlash/2 in the direction of approach of each axis that moved (so
  multi-directional approach shows up as a pose accuracy difference);
* servo: the actual position follows the profile with a second-order lag (`servo_hz`,
  `servo_damping`); the arm reports ARRIVED once the profile is done and the actual pose is within
  `in_position_mm` of the end (and almost at rest);
* measurement: each reading adds Gaussian noise (`noise_mm`, x, y, z) and is quantised to the
  encoder resolution (`encoder_mm`, `encoder_deg`);
* watchdog: when `watchdog_s` > 0 and the host sends nothing (`feed`) for longer than that while the
  arm moves, the controller performs a protective stop at that moment: state FAULT with fault code
  FAULT_WATCHDOG, until `reset`.

Two poses, as on a real arm. `pose()` is what the controller reports: its encoders' belief, i.e.
the servo's actual position in the nominal kinematic model plus encoder noise and quantisation.
`true_pose()` is where the tool physically is, which only an external instrument can see: the
belief passed through the systematic errors a controller cannot know about:

* kinematic calibration error: a constant `offset` (x, y, z mm; a, b, c deg), a small rotation of
  the base frame (`base_rotation`, deg about x, y, z) and a scale error of lengths measured from
  the base origin (`scale_ppm`): p_true = (1 + scale) R p + offset;
* deflection under load: the tool sags by `deflection_mm_per_m` per metre of horizontal reach from
  the base z axis;
* thermal drift: a slow offset growing as drift x (1 - exp(-t / drift_tau_s)) from power-on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from drivers.pose import Pose
from drivers.robot import ArmState
from drivers.rotation import fixed_xyz_from_matrix, matrix_from_fixed_xyz
from drivers.sim.profile import MotionProfile, SCurve, Trapezoid
from drivers.sim.servo import Servo

if TYPE_CHECKING:
    from drivers.sim.program import Program

RP_PER_SIGMA = 3.54  # expected ISO 9283 RP / sigma for isotropic 3-D Gaussian scatter, n = 30
FAULT_INVALID_COMMAND = 2   # target not finite or speed not positive
FAULT_WATCHDOG = 3          # protective stop: no heartbeat/setpoint within watchdog_s
PROFILES = ("trapezoidal", "jerk_limited")
# the states as module constants: `ArmState.MOVING` is an enum class lookup (several times
# slower than a global), and the state machine tests its state on every call
_IDLE, _MOVING, _ARRIVED = ArmState.IDLE, ArmState.MOVING, ArmState.ARRIVED
_STOPPED, _FAULT = ArmState.STOPPED, ArmState.FAULT


@dataclass(frozen=True)
class ArmParams:
    """Physical behaviour of a simulated arm. Units: mm, deg, s (see the module docstring).

    The class defaults are an *ideal* arm (trapezoidal profile, no servo lag, noise, encoder
    steps, backlash, calibration error, deflection, drift or watchdog) with repeatability 0.03 mm,
    so a test sees exactly what it configures; `COBOT` (lab files: ``preset: cobot``) turns
    everything on with values like a 5 kg collaborative arm. `offset`, `base_rotation_deg`,
    `scale_ppm`, `deflection_mm_per_m` and `drift` move only the TRUE pose (see the module
    docstring): the reported pose cannot contain them."""

    @property
    def has_systematic_error(self) -> bool:
        """True when the true pose differs from the belief by more than the servo state."""
        return (any(v != 0.0 for v in self.offset.as_array()) or self.scale_ppm != 0.0
                or any(v != 0.0 for v in self.base_rotation_deg)
                or self.deflection_mm_per_m != 0.0 or any(v != 0.0 for v in self.drift.as_array()))

    max_speed_mm_s: float = 1000.0
    max_accel_mm_s2: float = 10000.0
    max_jerk_mm_s3: float = 200000.0
    max_rot_speed_deg_s: float = 180.0
    max_rot_accel_deg_s2: float = 1800.0
    max_rot_jerk_deg_s3: float = 36000.0
    profile: str = "trapezoidal"
    repeatability_mm: float = 0.03
    offset: Pose = field(default_factory=Pose)
    home: Pose = field(default_factory=lambda: Pose(400.0, 0.0, 300.0, 180.0, 0.0, 0.0))
    servo_hz: float = 0.0
    servo_damping: float = 0.8
    in_position_mm: float = 0.005
    encoder_mm: float = 0.0
    encoder_deg: float = 0.0
    noise_mm: float = 0.0
    backlash_mm: float = 0.0
    drift: Pose = field(default_factory=Pose)
    drift_tau_s: float = 1800.0
    base_rotation_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    scale_ppm: float = 0.0
    deflection_mm_per_m: float = 0.0
    watchdog_s: float = 0.0
    seed: int = 0
    #: the robot's own motion, run by the simulator itself (drivers/sim/program.py); None: it
    #: moves only when commanded
    program: Program | None = None

    @property
    def sigma_mm(self) -> float:
        return self.repeatability_mm / RP_PER_SIGMA

    def axis_limits(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-axis velocity, acceleration and jerk limits (mm or deg per s, s^2, s^3)."""
        v = np.array([self.max_speed_mm_s] * 3 + [self.max_rot_speed_deg_s] * 3)
        a = np.array([self.max_accel_mm_s2] * 3 + [self.max_rot_accel_deg_s2] * 3)
        j = np.array([self.max_jerk_mm_s3] * 3 + [self.max_rot_jerk_deg_s3] * 3)
        return v, a, j


#: a collaborative arm: every effect on, repeatability 0.03 mm (`preset: cobot` in a lab file).
#: Uncalibrated it misses by about 0.4-0.55 mm around the ISO cube (a constant offset of
#: 0.5 mm, a 0.02 deg base rotation, 150 ppm scale and 0.3 mm/m sag): field figures for arms
#: before compensation are 0.2-2 mm against 0.02-0.03 mm repeatability
#: (shared/reference/accuracy.md 2.3; kinematic error 0.1-0.5 mm and gravity 0.1-0.5 mm for
#: Agilus-class arms).
COBOT = ArmParams(profile="jerk_limited", servo_hz=15.0, servo_damping=0.8,
                  encoder_mm=0.001, encoder_deg=0.001, noise_mm=0.002, backlash_mm=0.01,
                  offset=Pose(0.3, -0.25, 0.3), base_rotation_deg=(0.0, 0.01, 0.02),
                  scale_ppm=150.0, deflection_mm_per_m=0.3,
                  drift=Pose(0.02, 0.0, 0.03), drift_tau_s=1800.0, watchdog_s=2.0)
PRESETS = {"ideal": ArmParams(), "cobot": COBOT}


def _quantise(x: float, step: float) -> float:
    return round(x / step) * step if step > 0 else x


class SimArm:
    """The simulated arm's state machine. All methods take `now` in seconds."""

    def __init__(self, params: ArmParams, now: float) -> None:
        if params.profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}")
        self.params = params
        self.rng = np.random.default_rng(params.seed)
        # measurement noise has its own stream, so the motion draws stay the same however often
        # the pose is read (wire and virtual mode poll at different rates)
        self.noise_rng = np.random.default_rng([params.seed, 1])
        # positions are plain lists of six floats (x, y, z mm; a, b, c deg): a setpoint's worth of
        # arithmetic is cheaper without numpy (100 Hz replays); only the servo keeps numpy state
        home = params.home.as_array().tolist()
        self._start: list[float] = home
        self._end: list[float] = list(home)
        self._t0 = now
        self._t_power = now
        self._t = now                   # time the servo state is valid for
        self._last_feed = now
        self._profile: MotionProfile | None = None
        self._servo = Servo(np.array(home), params.servo_hz, params.servo_damping) \
            if params.servo_hz > 0 else None
        self._backlash = [0.0, 0.0, 0.0]  # -1/0/+1: direction of the last approach per axis
        self._offset = params.offset.as_array().tolist()
        self._r_err = matrix_from_fixed_xyz(*params.base_rotation_deg) \
            if any(params.base_rotation_deg) else None
        self._scale = 1.0 + params.scale_ppm * 1e-6
        self._limits = tuple(a.tolist() for a in params.axis_limits())
        self._jerk_limited = params.profile == "jerk_limited"
        # x, y, z share one set of limits and a, b, c another (ArmParams): then the tightest
        # axis of a group is the one that moves furthest, found without a loop per axis
        v, a, j = self._limits
        self._grouped = all(lim[i] == lim[g] for lim in (v, a, j)
                            for g in (0, 3) for i in range(g, g + 3))
        self._draws: list[float] = []
        self._draw = 0
        self._sigma = params.sigma_mm
        self._drift_v = params.drift.as_array().tolist()
        self._drifts = any(v != 0.0 for v in self._drift_v)
        self._state = _IDLE
        self.fault_code = 0
        self.last_target: Pose | None = None

    # -- commands ------------------------------------------------------------------------------
    def move(self, target: Pose, speed_mm_s: float, now: float) -> None:
        """Start a motion from wherever the reference is at `now` to target (+ errors).
        A command is a setpoint from the host: it feeds the watchdog."""
        self._advance(now)              # `feed`, inlined (a stream moves 100 times a second)
        if now > self._last_feed:
            self._last_feed = now
        if self._state is _FAULT and self.fault_code == FAULT_WATCHDOG:
            return                      # a protective stop holds until reset
        isf = math.isfinite             # `target.is_finite()`, inlined
        if not (isf(target.x) and isf(target.y) and isf(target.z) and isf(target.a)
                and isf(target.b) and isf(target.c)) or not isf(speed_mm_s) or speed_mm_s <= 0:
            self._halt(now)
            self._state = _FAULT
            self.fault_code = FAULT_INVALID_COMMAND
            return
        s = self._reference(now)
        p = self.params
        if self._draw >= len(self._draws):       # repeatability scatter: 3 draws x sigma, mm
            self._refill()
        i, sigma = self._draw, self._sigma
        self._draw = i + 3
        sx, sy, sz = self._draws[i] * sigma, self._draws[i + 1] * sigma, self._draws[i + 2] * sigma
        # angles: take the shortest way round (180 and -180 deg are the same orientation)
        end = [target.x + sx, target.y + sy, target.z + sz,
               s[3] + (target.a - s[3] + 180.0) % 360.0 - 180.0,
               s[4] + (target.b - s[4] + 180.0) % 360.0 - 180.0,
               s[5] + (target.c - s[5] + 180.0) % 360.0 - 180.0]
        half_lash = p.backlash_mm / 2
        if half_lash:
            for i in range(3):
                d = round(end[i] - s[i], 6)
                if d:
                    self._backlash[i] = 1.0 if d > 0 else -1.0
                end[i] -= self._backlash[i] * half_lash
        self._start, self._end, self._t0 = s, end, now
        self.last_target = target
        self.fault_code = 0
        self._state = _MOVING
        # the normalised profile's limits: the tightest axis sets each (v, a, j in 1/s^n)
        v_u = a_u = j_u = math.inf
        moving = False
        if self._grouped:
            # vm / d falls as d grows, so the minimum over a group's moving axes is vm over its
            # largest distance: the same numbers as the loop per axis, bit for bit
            vl, al, jl = self._limits
            d = max(abs(end[0] - s[0]), abs(end[1] - s[1]), abs(end[2] - s[2]))
            if d > 1e-12:
                moving = True
                v_u, a_u, j_u = vl[0] / d, al[0] / d, jl[0] / d
            d = max(abs(end[3] - s[3]), abs(end[4] - s[4]), abs(end[5] - s[5]))
            if d > 1e-12:
                moving = True
                v_u, a_u, j_u = min(v_u, vl[3] / d), min(a_u, al[3] / d), min(j_u, jl[3] / d)
        else:
            for e, a, vm, am, jm in zip(end, s, *self._limits):
                d = abs(e - a)
                if d > 1e-12:
                    moving = True
                    if vm / d < v_u:
                        v_u = vm / d
                    if am / d < a_u:
                        a_u = am / d
                    if jm / d < j_u:
                        j_u = jm / d
        if not moving:
            self._profile = None
            return
        path = math.sqrt((end[0] - s[0]) ** 2 + (end[1] - s[1]) ** 2 + (end[2] - s[2]) ** 2)
        if path > 0:
            v_u = min(v_u, speed_mm_s / path)
        if self._jerk_limited:
            self._profile = SCurve.plan(v_u, a_u, j_u)
        else:
            self._profile = Trapezoid.plan(v_u, a_u)

    def _refill(self) -> None:
        """The next repeatability draws, drawn 1024 moves at a time: the same numbers, in the
        same order, as three `normal(0, 1)` draws per move, for a fraction of the cost."""
        self._draws = self.rng.standard_normal(3 * 1024).tolist()
        self._draw = 0

    def stop(self, now: float) -> None:
        """Halt: the reference freezes where it is at `now`; the servo brakes onto it."""
        self._advance(now)
        self._halt(now)
        if self._state is not _FAULT:
            self._state = _STOPPED

    def reset(self, now: float) -> None:
        """Clear a fault or stop; the arm stays where it is. Feeds the watchdog."""
        self.feed(now)
        self.stop(now)
        self._state = _IDLE
        self.fault_code = 0

    def feed(self, now: float) -> None:
        """The host said something (any request): restarts the watchdog's time."""
        self._advance(now)
        if now > self._last_feed:
            self._last_feed = now

    # -- readings ------------------------------------------------------------------------------
    def pose(self, now: float) -> Pose:
        """The reported pose at `now`: the encoders' belief + noise, quantised to the encoders.
        It never contains the calibration error, deflection or drift (see `true_pose`)."""
        self._advance(now)
        p = self.params
        x = self._actual()
        if p.noise_mm > 0:
            n = self.noise_rng.normal(0.0, p.noise_mm, 3).tolist()
            x[0] += n[0]
            x[1] += n[1]
            x[2] += n[2]
        if p.encoder_mm <= 0 and p.encoder_deg <= 0:     # an ideal encoder: no rounding
            return Pose(*x)
        return Pose(*(_quantise(v, p.encoder_mm if i < 3 else p.encoder_deg)
                      for i, v in enumerate(x)))

    def belief_pose(self, now: float) -> Pose:
        """The controller's belief without encoder noise or quantisation (mm, deg)."""
        self._advance(now)
        return Pose(*self._actual())

    def true_pose(self, now: float) -> Pose:
        """Where the tool physically is at `now` (what an external instrument measures): the
        belief through the calibration error, base rotation/scale, deflection and drift."""
        self._advance(now)
        x = self._actual()
        r, k = self._r_err, self._scale
        px, py, pz = x[0], x[1], x[2]
        if r is not None:
            px, py, pz = (r[0][0] * x[0] + r[0][1] * x[1] + r[0][2] * x[2],
                          r[1][0] * x[0] + r[1][1] * x[1] + r[1][2] * x[2],
                          r[2][0] * x[0] + r[2][1] * x[1] + r[2][2] * x[2])
            m = matrix_from_fixed_xyz(x[3], x[4], x[5])
            rm = tuple(tuple(sum(r[i][n] * m[n][j] for n in range(3)) for j in range(3))
                       for i in range(3))
            a, b, c = fixed_xyz_from_matrix(rm)  # type: ignore[arg-type]
        else:
            a, b, c = x[3], x[4], x[5]
        o, d = self._offset, self._drift(now) if self._drifts else (0.0,) * 6
        sag = self.params.deflection_mm_per_m * math.hypot(x[0], x[1]) / 1000.0
        return Pose(px * k + o[0] + d[0], py * k + o[1] + d[1], pz * k + o[2] + d[2] - sag,
                    a + o[3] + d[3], b + o[4] + d[4], c + o[5] + d[5])

    def state(self, now: float) -> ArmState:
        """The motion state at `now` (MOVING turns into ARRIVED when the arm is in position)."""
        self._advance(now)
        return self._state

    def fault(self, now: float, code: int) -> None:
        """Protective stop: halt at `now` and report FAULT with `code` until reset."""
        self.stop(now)
        self._state = _FAULT
        self.fault_code = code

    def motion_time(self) -> float:
        """Duration of the current or last motion profile, s (the servo settles after it)."""
        return self._profile.t_total if self._profile else 0.0

    # -- internals -----------------------------------------------------------------------------
    def _reference(self, now: float) -> list[float]:
        """Where the profile says the arm should be at `now` (a new list)."""
        if self._profile is None:
            return list(self._end)
        u = self._profile.u(now - self._t0)
        s0, s1, s2, s3, s4, s5 = self._start
        e0, e1, e2, e3, e4, e5 = self._end
        return [s0 + (e0 - s0) * u, s1 + (e1 - s1) * u, s2 + (e2 - s2) * u,
                s3 + (e3 - s3) * u, s4 + (e4 - s4) * u, s5 + (e5 - s5) * u]

    def _actual(self) -> list[float]:
        return self._servo.y.tolist() if self._servo is not None else self._reference(self._t)

    def _drift(self, now: float) -> list[float]:
        p = self.params
        k = 1.0 - math.exp(-(now - self._t_power) / p.drift_tau_s) if p.drift_tau_s > 0 else 1.0
        return [d * k for d in self._drift_v]

    def _halt(self, now: float) -> None:
        here = self._reference(now)
        self._start = self._end = here
        self._profile = None
        self._t0 = now

    def _advance(self, now: float) -> None:
        """Bring the servo and the state machine to `now` (never backwards)."""
        if now <= self._t:
            return
        p = self.params
        if p.watchdog_s > 0 and self._state is _MOVING \
                and now - self._last_feed > p.watchdog_s:
            trip = self._last_feed + p.watchdog_s
            self._integrate(max(trip, self._t))
            self._halt(max(trip, self._t))
            self._state = _FAULT
            self.fault_code = FAULT_WATCHDOG
        if self._servo is None:         # no lag: the state is the profile's at `now`
            self._t = now
            if self._state is _MOVING:
                self._check_arrival()
            return
        self._integrate(now)

    def _integrate(self, until: float) -> None:
        servo = self._servo
        if servo is None:
            self._t = max(self._t, until)
            self._check_arrival()
            return
        dt = servo.dt
        end = np.array(self._end)
        while self._t + dt <= until:
            done = self._profile is None or self._t - self._t0 >= self._profile.t_total
            if done and servo.settled(end, 1e-7):
                servo.snap(end)             # at rest: nothing left to integrate
                self._t = until
                break
            self._t += dt
            servo.step(np.array(self._reference(self._t)))
            self._check_arrival()
        self._check_arrival()

    def _check_arrival(self) -> None:
        if self._state is not _MOVING:
            return
        if self._profile is not None and self._t - self._t0 < self._profile.t_total:
            return
        if self._servo is None or self._servo.settled(np.array(self._end),
                                                      self.params.in_position_mm):
            self._state = _ARRIVED
