"""`ImpairedArm`: any `RobotArm` behind an impaired link, in virtual (or real) time. No sockets.

Each call is one request/reply exchange, like a Modbus transaction: the request travels the
uplink, the inner arm executes it when it arrives (so a command takes effect one uplink delay
after it was sent), the reply travels the downlink (so a reading reflects the inner arm's state as
it was one downlink delay before the call returns). The caller's clock advances by the whole round
trip; with a `VirtualClock` that costs no real time and is deterministic for a given seed.

A request or reply lost (loss model or outage), or a reply that would arrive after `timeout_s`,
costs the caller `timeout_s`; after `retries` extra attempts the call raises DeviceTimeout naming
the cause. A request that arrives after the caller gave up is still executed, at the start of
the next call (late commands are real: the robot may move after the operator saw a timeout).

Around a TCP transport (`tcp=` a `TcpSpec`: Modbus TCP, RTU/ASCII over TCP) a lost request or
reply is not lost: TCP retransmits it (`bench.impair.tcp`, as Linux times it), so it arrives late
and the call only times out when the stall outlasts `timeout_s`; bytes behind a stalled segment wait for
it. A stall longer than the spec's `reset_after_s` resets the connection: from that moment every
call raises DeviceError ("connection reset") until `connect()` opens a new connection.

Every message's fate is told to `observer.on_event(t_ns, "network", detail)`, where detail is
``{"dir": "up"|"down", "call": "move_to", "attempt": 1, "lost": false, "delay_ms": 7.512}``,
``{..., "retransmits": 1, "retransmitted_after_ms": 204.1}`` on TCP, or
``{..., "lost": true, "cause": "loss"|"outage"|"stall"|"reset"}``; `t_ns` is the send time on the
run's clock.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from bench.clock import Clock
from bench.impair.link import Fate, ImpairedLink
from bench.impair.profile import NetworkProfile
from bench.impair.tcp import TcpConnection, TcpSpec
from bench.observer import RunObserver
from drivers.errors import BenchError, DeviceError, DeviceTimeout
from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm

T = TypeVar("T")

#: approximate request/reply sizes in bytes of each call as Modbus TCP ADUs (for rate limits)
SIZES: dict[str, tuple[int, int]] = {
    "connect": (12, 11), "read_pose": (12, 33), "read_status": (12, 17),
    "move_to": (45, 12), "stop": (17, 12), "reset": (17, 12),
}


class ImpairedArm(RobotArm):
    """Wraps `inner` so that every call crosses the link built from `profile` with `seed`."""

    def __init__(self, inner: RobotArm, profile: NetworkProfile | ImpairedLink, clock: Clock, seed: int = 0,
                 observer: RunObserver | None = None, timeout_s: float = 0.5,
                 retries: int = 0, tcp: TcpSpec | None = None) -> None:
        if timeout_s <= 0 or retries < 0:
            raise ValueError("timeout_s must be > 0 and retries >= 0")
        self.inner = inner
        self.clock = clock
        self.observer = observer or RunObserver()
        self.timeout_s = timeout_s
        self.retries = retries
        self.seed = seed
        self.profile_name = "recorded"
        self.tcp = tcp
        self.conn: TcpConnection | None = None
        self._late: list[tuple[float, Callable[[], object]]] = []
        self.set_profile(profile, seed)

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.inner.name} via {self.profile_name}"

    def set_profile(self, profile: NetworkProfile | ImpairedLink, seed: int | None = None) -> None:
        """Switch to another profile (a fresh link whose time starts now)."""
        if isinstance(profile, NetworkProfile):
            self.profile_name = profile.name
            self.link = profile.link(self.seed if seed is None else seed)
        else:
            self.link = profile
        self._t0 = self.clock.now()
        self._new_connection()

    def _new_connection(self) -> None:
        """A fresh TCP connection over the link (no-op on a message link): what was in flight on
        the old one is gone with it."""
        self._reset_told = False
        if self.tcp is not None:
            self.conn = TcpConnection(self.link, self.tcp)
            self._late = []

    # -- the exchange ----------------------------------------------------------------------------
    def _record(self, t: float, call: str, attempt: int, fate: Fate) -> None:
        detail = fate.as_event()
        detail["call"] = call
        detail["attempt"] = attempt
        self.observer.on_event(int(round(t * 1e9)), "network", detail)

    def _apply_late(self) -> None:
        now = self.clock.now()
        due = [item for item in self._late if item[0] <= now]
        self._late = [item for item in self._late if item[0] > now]
        for _, fn in due:
            try:
                fn()
            except BenchError:
                pass        # nobody is waiting for this reply any more

    def _check_connection(self, call: str) -> None:
        reset = self.conn.reset_at() if self.conn is not None else None
        if reset is not None and self.clock.now() - self._t0 >= reset:
            assert self.tcp is not None
            if not self._reset_told:
                self._reset_told = True
                self.observer.on_event(int(round((self._t0 + reset) * 1e9)), "network",
                                       {"dir": "both", "lost": True, "cause": "reset",
                                        "call": call})
            raise DeviceError(f"{self.name}: {call}: connection reset (a segment was not "
                              f"acknowledged within {self.tcp.reset_after_s:g} s)")

    def _exchange(self, call: str, fn: Callable[[], T]) -> T:
        n_up, n_down = SIZES[call]
        clock, t0 = self.clock, self._t0
        link = self.conn if self.conn is not None else self.link
        causes: list[str] = []
        for attempt in range(1, self.retries + 2):
            self._apply_late()
            self._check_connection(call)
            t_send = clock.now()
            deadline = t_send + self.timeout_s
            up = link.uplink.send(t_send - t0, n_up)
            self._record(t_send, call, attempt, up)
            if up.lost:
                causes.append(f"request {up.describe()}")
                clock.sleep(deadline - clock.now())
                continue
            t_arrive = t0 + up.t_arrive_s
            if t_arrive > deadline:
                self._late.append((t_arrive, fn))
                causes.append(f"request {up.describe()}")
                clock.sleep(deadline - clock.now())
                continue
            clock.sleep(t_arrive - clock.now())
            self._apply_late()        # requests that arrived before this one execute first
            error: BenchError | None = None
            result: T | None = None
            try:
                result = fn()
            except BenchError as exc:      # the device's answer is an error: it travels back too
                error = exc
            t_reply = clock.now()
            down = link.downlink.send(t_reply - t0, n_down)
            self._record(t_reply, call, attempt, down)
            if down.lost or t0 + down.t_arrive_s > deadline:
                causes.append(f"reply {down.describe()}")
                clock.sleep(deadline - clock.now())
                continue
            clock.sleep(t0 + down.t_arrive_s - clock.now())
            if error is not None:
                raise error
            return result  # type: ignore[return-value]
        self._check_connection(call)
        raise DeviceTimeout(f"{self.name}: {call}: no reply within {self.timeout_s:g} s x "
                            f"{self.retries + 1} attempts (network: {', '.join(causes)})")

    # -- RobotArm --------------------------------------------------------------------------------
    def connect(self) -> None:
        """(Re)connect: a new TCP connection on a TCP link, then the first exchange."""
        self._new_connection()
        self.inner.connect()
        # the first exchange (a Modbus driver reads its sequence register) crosses the link too
        self._exchange("connect", lambda: None)

    def close(self) -> None:
        self.inner.close()

    def read_pose(self) -> Pose:
        return self._exchange("read_pose", self.inner.read_pose)

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        return self._exchange("move_to", lambda: self.inner.move_to(target, speed_mm_s))

    def read_status(self) -> ArmStatus:
        return self._exchange("read_status", self.inner.read_status)

    def stop(self) -> None:
        self._exchange("stop", self.inner.stop)

    def reset(self) -> None:
        self._exchange("reset", self.inner.reset)
