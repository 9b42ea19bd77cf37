"""A pipelined command link for setpoint streams: commands are sent without waiting for a reply.

A teleoperation stream does not wait for each setpoint to be acknowledged (at 100 Hz over a 20 ms
link it could not): each setpoint reaches the arm one uplink delay after it was sent, in order (a
late setpoint holds back the later ones). Poses and statuses are read at the robot (the
instrument's truth), so the recorded tracking error is robot pose against the operator's setpoint
at the same instant. The delays come from the impairment engine's `ImpairedLink` (`bench.impair`): a
profile's seeded link, or `recorded_link` for the delays a session recorded; each one is told to
the observer as a ``network`` event (dir "up", call "move_to", delay_ms or lost/cause).

`PipelinedArm` and its `clock` go together: time must only pass through `clock.sleep`, which
delivers every setpoint that falls due at its exact arrival time (virtual or real time).
"""
from __future__ import annotations

import bisect
from collections import deque

from bench.clock import Clock
from bench.impair.link import ImpairedLink
from bench.impair.tcp import TcpConnection
from bench.observer import RunObserver
from drivers.errors import DeviceError
from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm

MOVE_BYTES = 45          # a move command as a Modbus TCP request, as the request/reply wrapper


class DeliveringClock(Clock):
    """The run's clock, delivering the link's due setpoints while time passes."""

    def __init__(self, inner: Clock, arm: "PipelinedArm") -> None:
        self.inner, self.arm = inner, arm
        # the inner clock's own methods, bound: reading the time is the replay loop's most
        # frequent call
        self.now = inner.now              # type: ignore[method-assign]
        self.now_ns = inner.now_ns        # type: ignore[method-assign]

    def now(self) -> float:
        return self.inner.now()

    def now_ns(self) -> int:
        return self.inner.now_ns()

    @property
    def virtual(self) -> bool:
        return self.inner.virtual

    def sleep(self, seconds: float) -> None:
        self.arm.advance(seconds)


class PipelinedArm(RobotArm):
    """`inner` behind a pipelined uplink built from `link` (see the module docstring)."""

    def __init__(self, inner: RobotArm, link: ImpairedLink | TcpConnection, clock: Clock,
                 observer: RunObserver | None = None, name: str = "pipelined") -> None:
        self.inner = inner
        self.link = link
        self._tcp = link.spec if isinstance(link, TcpConnection) else None
        self._base = link.base if isinstance(link, TcpConnection) else link
        self._clock = clock
        self.clock = DeliveringClock(clock, self)
        self.obs = observer or RunObserver()
        # building an event nobody records costs as much as the rest of a setpoint
        self._tell = type(self.obs).on_event is not RunObserver.on_event
        # plain deliveries are told only to observers that want them, or right after a loss
        self._tell_plain = self._tell and self.obs.every_network_event
        self._after_loss = False
        self.name = f"{inner.name} via {name} (pipelined)"
        self._t0 = clock.now()
        # setpoints on their way, by arrival time: the link keeps a direction in order (a late
        # setpoint holds back the later ones), so this is a FIFO; `bisect` keeps it sorted anyway
        self._queue: deque[tuple[float, int, Pose, float]] = deque()
        self._seq = 0
        self._map: dict[int, int] = {}         # inner seq -> operator seq

    def connect(self) -> None:
        """(Re)connect: on a TCP link a new connection (what was in flight is gone)."""
        if self._tcp is not None:
            self.link = TcpConnection(self._base, self._tcp)
            self._queue.clear()
        self.inner.connect()

    def close(self) -> None:
        self.inner.close()

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        self._seq = (self._seq + 1) % 65536
        now = self._clock.now()
        fate = self.link.uplink.send(now - self._t0, MOVE_BYTES)
        if self._tell and (self._tell_plain or fate.lost or fate.retransmits
                           or self._after_loss):
            self._after_loss = fate.lost
            ev = fate.as_event()
            ev["call"] = "move_to"
            if fate.cause == "reset":
                ev["dir"] = "both"            # the connection went, not one setpoint
            self.obs.on_event(self._clock.now_ns(), "network", ev)
        if fate.lost and fate.cause == "reset":
            raise DeviceError(f"{self.name}: move_to: connection reset (a setpoint was not "
                              f"acknowledged within the link's tcp.reset_after)")
        if not fate.lost:
            due = self._t0 + fate.t_arrive_s
            q = self._queue
            if not q:
                if due <= now:
                    self._deliver(self._seq, target, speed_mm_s)
                else:
                    q.append((due, self._seq, target, speed_mm_s))
            elif due >= q[-1][0]:
                q.append((due, self._seq, target, speed_mm_s))
            else:                       # a link that reorders: keep the queue sorted
                bisect.insort(q, (due, self._seq, target, speed_mm_s), key=lambda e: e[0])
        return self._seq

    def _deliver(self, seq: int, target: Pose, speed: float) -> None:
        self._map[self.inner.move_to(target, speed)] = seq
        if len(self._map) > 64:                 # only recent commands can still be polled
            self._map.pop(next(iter(self._map)))

    def advance(self, dt_s: float) -> None:
        """Let `dt_s` pass on the inner clock, delivering due setpoints at their arrival times."""
        clock = self._clock
        t_end = clock.now() + max(dt_s, 0.0)
        q = self._queue
        while q and q[0][0] <= t_end:
            due, seq, target, speed = q.popleft()
            wait = due - clock.now()
            if wait > 0:
                clock.sleep(wait)
            self._deliver(seq, target, speed)
        wait = t_end - clock.now()
        if wait > 0:
            clock.sleep(wait)

    def read_pose(self) -> Pose:
        return self.inner.read_pose()

    def read_status(self) -> ArmStatus:
        st = self.inner.read_status()
        return ArmStatus(st.state, self._map.get(st.seq, -1), st.fault_code, st.heartbeat)

    def stop(self) -> None:
        self._queue.clear()                     # a local protective stop at the robot
        self.inner.stop()

    def reset(self) -> None:
        self.inner.reset()
