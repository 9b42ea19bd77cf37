"""The network between the operator side (the bench's controller) and the robot side (the arm).

Messages are pipelined, as on a streaming link: a command is delivered to the arm one one-way delay
after it was sent, and the arm's state is sampled at the robot and delivered to the operator one
one-way delay later. Commands and readings each stay in order (a late message holds back the ones
behind it, like TCP). With no delay source, or a delay of zero, every message is delivered at once,
so the same controllers run unchanged on a real arm in wire mode.

Delay values come from a `DelaySource` (seconds, or None for a lost message). The bench's
impairment engine (`bench.impair`) provides the models through `delay_sources(profile, seed)`;
`ConstantDelay` is the trivial one for tests. Time only moves through `advance`, on the run's clock, so in virtual
time each message is delivered at its exact due time.
Failure modes: whatever the arm raises (DeviceTimeout, DeviceFault, ...) propagates.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Any, Protocol

from bench.clock import Clock
from bench.observer import RunObserver
from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm


class DelaySource(Protocol):
    """One-way delay per message, seconds; None when the message is lost."""

    def sample(self, t_s: float) -> float | None: ...


@dataclass(frozen=True)
class ConstantDelay:
    """The same one-way delay for every message."""

    delay_s: float

    def sample(self, t_s: float) -> float | None:
        return self.delay_s


@dataclass(frozen=True)
class Reading:
    """The arm's state sampled at the robot at `t_s`; `seq` is the operator's command number
    the status refers to (-1 before the first delivered command)."""

    t_s: float
    pose: Pose
    status: ArmStatus | None          # None when only the pose was read
    seq: int


@dataclass(order=True)
class _Msg:
    due: float
    order: int
    kind: str = field(compare=False)
    payload: Any = field(compare=False)


class ArmChannel:
    """Pipelined command and feedback channels around one arm (see the module docstring)."""

    def __init__(self, arm: RobotArm, clock: Clock, up: DelaySource | None = None,
                 down: DelaySource | None = None, observer: RunObserver | None = None) -> None:
        self.arm, self.clock = arm, clock
        self.up, self.down = up, down
        self.obs = observer or RunObserver()
        self._queue: list[_Msg] = []
        self._order = itertools.count()
        self._last_due = {"cmd": float("-inf"), "fb": float("-inf")}
        self._seq = 0
        self._delivered_seq = -1
        self._arm_seq: int | None = None
        self.latest: Reading | None = None
        #: the latest delivered reading that carries a status
        self.latest_status: Reading | None = None
        self._last_pose: Pose | None = None
        #: (t_s, "up"|"down", delay_ms or None when lost) for every message with a delay source
        self.delays: list[tuple[float, str, float | None]] = []

    def _delay(self, source: DelaySource | None, direction: str) -> float | None:
        if source is None:
            return 0.0
        now = self.clock.now()
        d = source.sample(now)
        self.delays.append((now, direction, None if d is None else d * 1e3))
        return d

    def _schedule(self, kind: str, delay: float | None, payload: Any) -> None:
        if delay is None:
            return                                              # lost
        due = max(self.clock.now() + delay, self._last_due[kind])   # in order
        self._last_due[kind] = due
        if due <= self.clock.now() and not any(m.kind == kind for m in self._queue):
            self._deliver(kind, payload)
        else:
            heapq.heappush(self._queue, _Msg(due, next(self._order), kind, payload))

    def _deliver(self, kind: str, payload: Any) -> None:
        if kind == "cmd":
            seq, target, speed = payload
            self._arm_seq = self.arm.move_to(target, speed)
            self._delivered_seq = seq
        else:
            self.latest = payload
            if payload.status is not None:
                self.latest_status = payload

    @property
    def pending(self) -> int:
        """Messages still in flight."""
        return len(self._queue)

    def send_move(self, target: Pose, speed_mm_s: float, label: str = "") -> int:
        """Send a motion command; returns the operator's command number."""
        self._seq += 1
        self.obs.on_command(self.clock.now_ns(), self._seq, label, target, speed_mm_s)
        self._schedule("cmd", self._delay(self.up, "up"), (self._seq, target, speed_mm_s))
        return self._seq

    def sample(self, status: bool = True) -> Reading:
        """Read the arm at the robot now (the instrument's truth), and send it to the operator.

        `status=False` reads only the pose: on the wire every reading is a transaction, so a
        controller skips the status while the pose shows the arm still moving."""
        pose = self.arm.read_pose()
        st = self.arm.read_status() if status else None
        now_ns = self.clock.now_ns()
        if st is not None:
            self.obs.on_status(now_ns, st)
        self.obs.on_pose(now_ns, pose, "")
        seq = self._delivered_seq if st is not None and st.seq == self._arm_seq else -1
        status_ = st
        r = Reading(self.clock.now(), pose, status_, seq)
        self._last_pose = pose
        self._schedule("fb", self._delay(self.down, "down"), r)
        return r

    def last_reading(self) -> Reading:
        """The last pose read at the robot (by `sample` or `note_measured`) as a reading, without
        a new transaction; reads the arm when nothing was read yet."""
        if self._last_pose is None:
            return self.sample(status=False)
        return Reading(self.clock.now(), self._last_pose, None, -1)

    def note_measured(self, pose: Pose) -> None:
        """The runner measured `pose` at the robot: the next approach starts from it."""
        self._last_pose = pose

    def sample_status(self) -> Reading:
        """Read only the status at the robot (the pose is the last one read) and send it."""
        st = self.arm.read_status()
        self.obs.on_status(self.clock.now_ns(), st)
        seq = self._delivered_seq if st.seq == self._arm_seq else -1
        pose = self._last_pose if self._last_pose is not None else self.arm.read_pose()
        r = Reading(self.clock.now(), pose, st, seq)
        self._schedule("fb", self._delay(self.down, "down"), r)
        return r

    def advance(self, dt_s: float) -> None:
        """Let `dt_s` seconds pass, delivering every message that falls due, in time order."""
        t_end = self.clock.now() + max(dt_s, 0.0)
        while self._queue and self._queue[0].due <= t_end:
            msg = heapq.heappop(self._queue)
            self.clock.sleep(msg.due - self.clock.now())
            self._deliver(msg.kind, msg.payload)
        self.clock.sleep(t_end - self.clock.now())

    def drain_commands(self, timeout_s: float) -> bool:
        """Advance until every command in flight was delivered (or `timeout_s` passed)."""
        t_end = self.clock.now() + timeout_s
        while any(m.kind == "cmd" for m in self._queue) and self.clock.now() < t_end:
            nxt = min(m.due for m in self._queue if m.kind == "cmd")
            self.advance(min(nxt, t_end) - self.clock.now())
        return not any(m.kind == "cmd" for m in self._queue)

    @property
    def ride(self) -> Any:
        """The arm's ride-through wrapper (`bench.ridethrough.RideThroughArm`), or None."""
        return self.arm if hasattr(self.arm, "trouble_since") else None

    def reset_arm(self) -> None:
        """Clear a protective stop at the controller (a command over the link, like a move; the
        commands still in flight are dropped: the operator starts again from here)."""
        self._queue = [m for m in self._queue if m.kind != "cmd"]
        heapq.heapify(self._queue)
        self.obs.on_event(self.clock.now_ns(), "reset", {})
        self.arm.reset()

    def stop_now(self) -> None:
        """Stop the arm at the robot (a local protective stop, not sent over the network)."""
        self._queue = [m for m in self._queue if m.kind != "cmd"]
        heapq.heapify(self._queue)
        self.arm.stop()



class ImpairedDirection:
    """Adapter: one direction of a `bench.impair` link as a `DelaySource` (the impairment engine
    decides delay, jitter, loss, outages and ordering; this only asks it per message).

    `t_s` is the run clock; the engine's time starts at `t0_s` (the link's creation)."""

    def __init__(self, direction: Any, t0_s: float = 0.0, size_bytes: int = 40) -> None:
        self.direction, self.t0_s, self.size_bytes = direction, t0_s, size_bytes

    def sample(self, t_s: float) -> float | None:
        fate = self.direction.send(t_s - self.t0_s, self.size_bytes)
        return None if fate.lost else max(0.0, fate.delay_s)


def delay_sources(profile: Any, seed: int, t0_s: float = 0.0,
                  tcp: bool = False) -> tuple[DelaySource, DelaySource]:
    """(uplink, downlink) delay sources from a `bench.impair.NetworkProfile`, seeded. With `tcp` the
    link is one TCP connection (`bench.impair.tcp`, the profile's `tcp:` parameters): what the
    link loses arrives late instead, as in `hil-bench run`."""
    link = profile.link(seed)
    if tcp:
        conn = _Reconnecting(link, profile.tcp)
        return (ImpairedDirection(_Way(conn, "up"), t0_s),
                ImpairedDirection(_Way(conn, "down"), t0_s))
    return ImpairedDirection(link.uplink, t0_s), ImpairedDirection(link.downlink, t0_s)


class _Reconnecting:
    """A TCP connection over `link` that the operator re-opens when it is reset (as the
    ride-through policy does in `hil-bench run`): what was stuck on the old connection is sent
    again on the new one when the old one resets."""

    def __init__(self, link: Any, spec: Any) -> None:
        from bench.impair.tcp import TcpConnection
        self.make = lambda: TcpConnection(link, spec)
        self.conn = self.make()
        self.resend_from = float("-inf")       # the old connection's reset time

    def send(self, way: str, t: float, n: int) -> Any:
        if t < self.resend_from:               # stuck until the old connection resets
            return self._again(self.conn.direction(way).send(self.resend_from, n), t)
        fate = self.conn.direction(way).send(t, n)
        if fate.lost and fate.cause in ("stall", "reset"):
            reset_at = self.conn.reset_at()
            self.resend_from = t if reset_at is None else max(t, reset_at)
            self.conn = self.make()
            fate = self._again(self.conn.direction(way).send(self.resend_from, n), t)
        return fate

    @staticmethod
    def _again(fate: Any, t: float) -> Any:
        """A fate sent again later, as seen from the first send at `t`."""
        if not fate.lost:
            fate.retransmits += 1
            fate.stall_s += fate.t_send_s - t
            fate.t_send_s = t
        return fate


class _Way:
    def __init__(self, conn: _Reconnecting, way: str) -> None:
        self.conn, self.way = conn, way

    def send(self, t: float, n: int) -> Any:
        return self.conn.send(self.way, t, n)
