"""Ride-through: how the operator side behaves when the link to the robot fails.

A real 5G link has coverage holes and loss bursts; the bench must tell what the robot did through
them, not give up at the first timeout. `RideThroughArm` wraps any `RobotArm` (wire or virtual)
and, when a call fails because of the link (DeviceTimeout: no reply; ProtocolError: a damaged
reply; DeviceError: connection gone), keeps retrying the same call with a bounded exponential
back-off (`backoff_first_s`, doubling up to `backoff_max_s`), reconnecting first when the
connection is gone, until the link has been failing for `link_loss_limit_s`; only then the call
raises (DeviceTimeout, exit 3). Device faults (exception replies, alarms) are not link failures and
pass through at once.

The controller's own reaction is the other half: its watchdog stops the arm when the host is
silent (`bench.arrival.ProtectiveStop`). The control modes answer a protective stop that follows
link trouble with `after_stop`: ``resume`` (reset the stop and re-send the current target, at most
`max_resumes` times per target), ``skip`` (reset and go on with the next target; the visit is not
measured) or ``stop`` (end the run with the device error, as before ride-through existed).

Everything is told to the observer as events: ``link_lost`` {call, error}, ``reconnect``
{attempt, why}, ``link_restored`` {call, down_s, attempts, reconnects}, ``protective_stop``,
``reset``, ``resume``, ``skip`` (see `bench.linkloss` for the figures computed from them).
Times in seconds on the run's clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, TypeVar

from bench.clock import Clock
from bench.observer import RunObserver
from drivers.errors import (BenchError, ConfigError, DeviceError, DeviceFault, DeviceTimeout,
                            SafetyError)
from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm

T = TypeVar("T")
AFTER_STOP = ("resume", "skip", "stop")


@dataclass(frozen=True)
class RideThrough:
    """The ride-through policy of a scenario (seconds). The default link-loss limit (30 s) is
    well above the longest outage of the shipped network profiles (coverage-hole: 3 s)."""

    link_loss_limit_s: float = 30.0
    backoff_first_s: float = 0.05
    backoff_max_s: float = 1.0
    after_stop: str = "resume"
    max_resumes: int = 3

    def __post_init__(self) -> None:
        if self.after_stop not in AFTER_STOP:
            raise ValueError(f"after_stop must be one of {', '.join(AFTER_STOP)}")


#: no ride-through: the first link failure ends the run (the bench's behaviour before it)
OFF = RideThrough(link_loss_limit_s=0.0, after_stop="stop", max_resumes=0)


def is_link_failure(exc: BaseException) -> bool:
    """A failure the link may cause (and a working link cures): no reply, a damaged reply, a
    connection gone. Faults the device reports, bad configuration and safety refusals are not."""
    if isinstance(exc, (DeviceFault, ConfigError, SafetyError)):
        return False
    return isinstance(exc, DeviceError)


class SkipTarget(BenchError):
    """The policy says: give up this target after a protective stop and go on with the next."""


class RideThroughArm(RobotArm):
    """`inner` with the ride-through policy on every call (see the module docstring)."""

    def __init__(self, inner: RobotArm, clock: Clock, policy: RideThrough,
                 observer: RunObserver | None = None) -> None:
        self.inner, self.clock, self.policy = inner, clock, policy
        self.obs = observer or RunObserver()
        self.name = inner.name
        #: (start_s, end_s) of every window the link failed, on the run's clock
        self.windows: list[tuple[float, float]] = []
        self.failing_since: float | None = None

    def trouble_since(self, t_s: float) -> bool:
        """Whether the link failed at any time since `t_s` (or is failing now)."""
        return self.failing_since is not None or any(end >= t_s for _, end in self.windows)

    def down_since(self, t_s: float) -> float:
        """Seconds the link was failing since `t_s` (the operator could not see the arm)."""
        now = self.clock.now()
        ws = [*self.windows, *([(self.failing_since, now)] if self.failing_since is not None
                               else [])]
        return sum(max(0.0, b - max(a, t_s)) for a, b in ws)

    def _call(self, call: str, fn: Callable[[], T], failed: BenchError | None = None) -> T:
        """`fn()` under the policy; `failed`: the error its first attempt already raised."""
        clock, policy = self.clock, self.policy
        t_fail: float | None = None
        backoff = policy.backoff_first_s
        attempts = reconnects = 0
        while True:
            try:
                if failed is not None:
                    first, failed = failed, None
                    raise first
                result = fn()
            except BenchError as exc:
                if not is_link_failure(exc) or policy.link_loss_limit_s <= 0:
                    raise                          # limit 0: no ride-through at all
                now = clock.now()
                attempts += 1
                if t_fail is None:
                    t_fail = self.failing_since if self.failing_since is not None else now
                    self.failing_since = t_fail
                    self.obs.on_event(clock.now_ns(), "link_lost",
                                      {"call": call, "error": str(exc)})
                if now - t_fail >= policy.link_loss_limit_s:
                    raise DeviceTimeout(
                        f"{self.name}: {call}: link lost for {now - t_fail:.1f} s, beyond the "
                        f"link_loss_limit of {policy.link_loss_limit_s:g} s (last error: {exc})"
                    ) from None
                clock.sleep(min(backoff, max(0.0, t_fail + policy.link_loss_limit_s - now)))
                backoff = min(2.0 * backoff, policy.backoff_max_s)
                if type(exc) is DeviceError and call != "connect":     # the connection is gone
                    reconnects += 1
                    self._reconnect(call, reconnects)
                continue
            if t_fail is not None:
                now = clock.now()
                self.windows.append((t_fail, now))
                self.failing_since = None
                self.obs.on_event(clock.now_ns(), "link_restored",
                                  {"call": call, "down_s": round(now - t_fail, 6),
                                   "attempts": attempts, "reconnects": reconnects})
            return result

    def _reconnect(self, why: str, attempt: int) -> None:
        self.obs.on_event(self.clock.now_ns(), "reconnect", {"attempt": attempt, "why": why})
        try:
            self.inner.close()
            self.inner.connect()
        except BenchError as exc:
            if not is_link_failure(exc):
                raise                      # the next attempt of the call retries the link

    # -- RobotArm ------------------------------------------------------------------------------
    def connect(self) -> None:
        self._call("connect", self.inner.connect)

    def close(self) -> None:
        self.inner.close()

    # the calls of every setpoint try the link once directly (a 100 Hz stream makes two per
    # setpoint) and enter the policy's loop only when that attempt failed
    def read_pose(self) -> Pose:
        try:
            return self.inner.read_pose()
        except BenchError as exc:
            return self._call("read_pose", self.inner.read_pose, exc)

    def read_status(self) -> ArmStatus:
        try:
            return self.inner.read_status()
        except BenchError as exc:
            return self._call("read_status", self.inner.read_status, exc)

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        try:
            return self.inner.move_to(target, speed_mm_s)
        except BenchError as exc:
            return self._call("move_to", lambda: self.inner.move_to(target, speed_mm_s), exc)

    def stop(self) -> None:
        self._call("stop", self.inner.stop)

    def reset(self) -> None:
        self._call("reset", self.inner.reset)

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        return self.inner.set_wire_tap(tap)
