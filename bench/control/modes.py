"""Control modes: how the operator side brings the arm to a target over the network.

- ``target`` (supervisory control): send the whole target once; the arm's own controller moves
  and the operator waits for the arrival report. Network delay only adds latency.
- ``stream``: send intermediate setpoints along the straight path at ``stream_rate`` (or along
  the scenario's command path for this pose, e.g. a circle); the arm follows them with its local
  servo; the last setpoint is the target.
- ``remote-loop``: close the position loop over the network: every ``period`` the operator reads
  the (delayed) position x_fb and moves the setpoint at velocity K (r - x_fb), K = ``gain`` in 1/s
  (capped at ``max_speed``), i.e. x' = K (r - x(t - T)) with T the round-trip delay; it stops once
  the feedback stays within ``deadband`` for ``hold``. Classic result: no overshoot for
  K T <= 1/e, damped oscillation up to K T = pi/2, unstable beyond. The loop's own period and the
  arm's servo lag add to T, so the measured boundary sits somewhat below pi/2 / K.
Every mode records the robot-side samples (the instrument's truth) as a `MoveTrace`.
Failure modes: DeviceTimeout when a target/stream move does not arrive within move_timeout;
DeviceFault on a controller fault. A remote loop that does not settle is not an error: it is
stopped at the robot (timeout, or excursion beyond the guard) and reported as not settled.
"""
from __future__ import annotations

import abc
import math
from dataclasses import dataclass

import numpy as np

from bench.arrival import WATCHDOG_FAULT, Arrival, ProtectiveStop
from bench.control.link import ArmChannel, Reading
from bench.metrics.path import points_along, polyline_length
from bench.metrics.timedomain import MoveFigures, move_figures
from bench.ridethrough import RideThrough, SkipTarget
from drivers.pose import Pose


@dataclass(frozen=True)
class ControlSettings:
    """A scenario's control mode and its parameters (Hz, 1/s, s, mm)."""

    mode: str = "target"
    stream_rate_hz: float = 50.0
    gain_per_s: float = 4.0
    period_s: float = 0.01
    hold_s: float = 0.1
    deadband_mm: float = 0.05
    max_speed_mm_s: float = 20.0


@dataclass
class MoveTrace:
    """Robot-side samples of one approach: times in s from the command, positions in mm."""

    t_s: np.ndarray
    positions: np.ndarray
    start: np.ndarray
    target: np.ndarray
    commands: int
    settled: bool

    def figures(self, band_mm: float, final: np.ndarray | None = None) -> MoveFigures:
        return move_figures(self.t_s, self.positions, self.start, self.target, band_mm, final)


class _Recorder:
    def __init__(self, t0: float, start: Reading) -> None:
        self.t0 = t0
        self.t: list[float] = [start.t_s - t0]
        self.p: list[np.ndarray] = [start.pose.position]

    def add(self, r: Reading) -> None:
        self.t.append(r.t_s - self.t0)
        self.p.append(r.pose.position)

    def trace(self, start: np.ndarray, target: Pose, commands: int, settled: bool) -> MoveTrace:
        return MoveTrace(np.array(self.t), np.array(self.p), start, target.position,
                         commands, settled)


@dataclass(frozen=True)
class MoveContext:
    """What a mode needs from the scenario for one approach."""

    label: str
    speed_mm_s: float
    poll_s: float
    move_timeout_s: float
    band_mm: float
    settings: ControlSettings
    #: stream mode: the command path (m, 3) mm to follow instead of the straight segment, and
    #: the pace along it, mm/s (None: speed_mm_s); each setpoint keeps speed_mm_s as allowance
    path: np.ndarray | None = None
    path_speed_mm_s: float | None = None
    ride_through: RideThrough = RideThrough()


class ControlMode(abc.ABC):
    """One way of bringing the arm to a target."""

    name: str = ""

    @abc.abstractmethod
    def approach(self, link: ArmChannel, target: Pose, ctx: MoveContext) -> MoveTrace:
        """Bring the arm to `target`; return the robot-side trace."""


class Ticks:
    """A fixed-rate schedule on absolute times t0 + i * period_s (s), as a real streaming
    operator keeps it: the pose read and the send after each tick cost a round trip on the wire
    (none in virtual time), and waiting a whole period after them would stream slower on the
    wire than the scenario says (50 Hz became 39 Hz on loopback: 25.7 ms per setpoint) and the
    arm would follow a different, slower stream than in virtual mode. A tick already missed is
    not waited for (the next send goes at once); the schedule is not shifted."""

    def __init__(self, link: ArmChannel, period_s: float) -> None:
        self.link, self.period_s = link, period_s
        self.t0 = link.clock.now()
        self.i = 0

    def next(self) -> None:
        """Let time pass (through the link) until the next tick."""
        self.i += 1
        self.link.advance(self.t0 + self.i * self.period_s - self.link.clock.now())


def _wait_arrival(link: ArmChannel, seq: int, rec: _Recorder, ctx: MoveContext) -> None:
    """Poll (through the link) until the operator sees command `seq` arrived (`bench.arrival`'s
    rule on the statuses the operator receives)."""
    rule = Arrival(link.clock, seq, ctx.label, ctx.move_timeout_s, link.arm.name)
    ride, t_start, base = link.ride, link.clock.now(), rule.deadline
    last: np.ndarray | None = None
    polls = 0
    while True:
        # the status is read only when the pose stands still (or every 8th poll, to see faults
        # early): on the wire each reading is one transaction and costs a round trip
        r = link.sample(status=False)
        rec.add(r)
        # 0.02 mm: above reading noise and encoder steps, far below any motion over one poll
        still = last is not None and float(np.abs(r.pose.position - last).max()) < 0.02
        last = r.pose.position
        polls += 1
        if still or polls % 8 == 0:
            link.sample_status()
        lat = link.latest_status
        if lat is not None and rule.judge(lat.status, lat.seq):
            return
        if ride is not None:          # time without a link does not count against the timeout
            rule.deadline = base + ride.down_since(t_start)
        rule.check_deadline()
        link.advance(ctx.poll_s)


def _arrive(link: ArmChannel, seq: int, rec: _Recorder, ctx: MoveContext, target: Pose) -> int:
    """`_wait_arrival`, answering a protective stop that follows link trouble (or the
    controller's watchdog) with the ride-through policy: reset and re-send the target (resume),
    reset and skip it (SkipTarget), or stop (the ProtectiveStop propagates). Returns the seq of
    the command that arrived."""
    policy = ctx.ride_through
    t_sent, resumes = link.clock.now(), 0
    while True:
        try:
            _wait_arrival(link, seq, rec, ctx)
            return seq
        except ProtectiveStop as stop:
            ride = link.ride
            caused = ride is not None and (stop.status.fault_code == WATCHDOG_FAULT
                                           or ride.trouble_since(t_sent))
            action = policy.after_stop if caused and resumes < policy.max_resumes else "stop"
            link.obs.on_event(link.clock.now_ns(), "protective_stop",
                              {"label": ctx.label, "state": stop.status.state.value,
                               "fault_code": stop.status.fault_code, "action": action})
            if action == "stop":
                raise
            link.reset_arm()
            if action == "skip":
                raise SkipTarget(str(stop)) from None
            resumes += 1
            seq = link.send_move(target, ctx.speed_mm_s, ctx.label)
            link.obs.on_event(link.clock.now_ns(), "resume", {"label": ctx.label,
                                                              "attempt": resumes})
            link.advance(ctx.poll_s)


class TargetMode(ControlMode):
    name = "target"

    def approach(self, link: ArmChannel, target: Pose, ctx: MoveContext) -> MoveTrace:
        first = link.last_reading()          # no extra transaction between moves
        rec = _Recorder(link.clock.now(), first)
        seq = link.send_move(target, ctx.speed_mm_s, ctx.label)
        link.advance(ctx.poll_s)
        _arrive(link, seq, rec, ctx, target)
        return rec.trace(first.pose.position, target, 1, True)


class StreamMode(ControlMode):
    name = "stream"

    def approach(self, link: ArmChannel, target: Pose, ctx: MoveContext) -> MoveTrace:
        first = link.sample()
        rec = _Recorder(link.clock.now(), first)
        a, b = first.pose.as_array(), target.as_array()
        dt = 1.0 / ctx.settings.stream_rate_hz
        path = ctx.path
        dist = float(np.linalg.norm(b[:3] - a[:3])) if path is None else polyline_length(path)
        pace = ctx.path_speed_mm_s or ctx.speed_mm_s
        steps = max(1, math.ceil(dist / (pace * dt)))
        along = None if path is None else points_along(path, np.arange(1, steps + 1) / steps)
        seq = 0
        tick = Ticks(link, dt)
        for i in range(1, steps + 1):
            if along is not None:            # a scenario path (line, circle): ISO 9283 8.2
                sp = b if i == steps else np.concatenate([along[i - 1], b[3:]])
            else:
                sp = b if i == steps else a + (b - a) * (i / steps)
            seq = link.send_move(Pose.from_seq(sp), ctx.speed_mm_s, ctx.label)
            tick.next()
            rec.add(link.sample())
        _arrive(link, seq, rec, ctx, target)
        return rec.trace(a[:3], target, steps, True)


class RemoteLoopMode(ControlMode):
    name = "remote-loop"

    def approach(self, link: ArmChannel, target: Pose, ctx: MoveContext) -> MoveTrace:
        st = ctx.settings
        first = link.sample()
        rec = _Recorder(link.clock.now(), first)
        r = target.position
        start = first.pose.position
        sp = start.copy()
        guard = 2.0 * float(np.linalg.norm(r - start)) + 10.0   # mm: stop a diverging loop
        deadline = link.clock.now() + ctx.move_timeout_s
        in_band, commands, settled = 0.0, 0, False
        tick = Ticks(link, st.period_s)
        while True:
            fresh = link.latest is not None and link.latest.t_s >= rec.t0
            fb = link.latest.pose.position if link.latest is not None else start
            e = r - fb
            err = float(np.linalg.norm(e))
            # only feedback sampled during this approach may declare it settled
            in_band = in_band + st.period_s if fresh and err <= st.deadband_mm else 0.0
            if in_band >= st.hold_s:
                settled = True
                break
            if err > guard or link.clock.now() >= deadline:
                link.stop_now()
                break
            v = st.gain_per_s * e
            speed = float(np.linalg.norm(v))
            vmax = min(st.max_speed_mm_s, ctx.speed_mm_s)
            if speed > vmax:                 # slow enough for the arm to follow each setpoint
                v *= vmax / speed
            sp = sp + v * st.period_s
            # the arm moves to each setpoint at full speed: the loop, not the arm, sets the pace
            link.send_move(Pose(sp[0], sp[1], sp[2], target.a, target.b, target.c),
                           ctx.speed_mm_s, ctx.label)
            commands += 1
            tick.next()
            rec.add(link.sample())
        if settled:                                          # let the last setpoints land
            link.drain_commands(ctx.move_timeout_s)
            rec.add(link.sample())
        return rec.trace(start, target, commands, settled)


#: control modes by the name used in scenario files
CONTROL_MODES: dict[str, type[ControlMode]] = {
    m.name: m for m in (TargetMode, StreamMode, RemoteLoopMode)}
