"""`BenchArm`: the `RobotArm` a test gets from the `robot` fixture.

A decorator around the session's connected arm that
- refuses motion on real hardware unless the run is armed (`--bench-arm`), and any target outside
  the lab's workspace envelope or faster than its speed limit, before anything is sent
  (SafetyError);
- tells every call to a `RunObserver` as it happens (traffic log, session recorder), with the
  monotonic time in ns, and errors as "error" events before they propagate.
`connect`/`close` do nothing: the bench owns the connection for the whole session.
"""
from __future__ import annotations

import time
from typing import Callable

from bench.observer import RunObserver
from bench.safety import Workspace
from drivers.errors import BenchError, SafetyError
from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm


class BenchArm(RobotArm):
    """Guarded, observed view of `inner` for one test."""

    def __init__(self, inner: RobotArm, observer: RunObserver, *, real: bool, armed: bool,
                 workspace: Workspace | None, lab_path: str = "") -> None:
        self.inner = inner
        self.name = inner.name
        self.observer = observer
        self.real = real
        self.armed = armed
        self.workspace = workspace
        self.lab_path = lab_path

    def connect(self) -> None:
        """The bench keeps the session's connection open; nothing to do."""

    def close(self) -> None:
        """The bench closes the connection at the end of the session; nothing to do."""

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        return self.inner.set_wire_tap(tap)

    def _guarded(self, what: str, fn):
        try:
            return fn()
        except BenchError as exc:
            self.observer.on_event(time.monotonic_ns(), "error",
                                   {"device": "robot", "call": what, "error": type(exc).__name__,
                                    "message": str(exc)})
            raise

    def read_pose(self) -> Pose:
        pose = self._guarded("read_pose", self.inner.read_pose)
        self.observer.on_pose(time.monotonic_ns(), pose)
        return pose

    def read_status(self) -> ArmStatus:
        st = self._guarded("read_status", self.inner.read_status)
        self.observer.on_status(time.monotonic_ns(), st)
        return st

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        if self.real and not self.armed:
            exc = SafetyError(f"{self.name}: real robot, motion refused: the test run is not "
                              f"armed (add --bench-arm or HIL_BENCH_ARM=1). Nothing was sent.")
            self.observer.on_event(time.monotonic_ns(), "error",
                                   {"device": "robot", "call": "move_to", "error": "SafetyError",
                                    "message": str(exc)})
            raise exc
        if self.workspace is not None:
            ws = self.workspace
            label = f"{self.lab_path}: move_to"

            def check() -> None:
                ws.check(target, f"{label} target")
                ws.check_motion(speed_mm_s, label)
            self._guarded("move_to", check)
        seq = self._guarded("move_to", lambda: self.inner.move_to(target, speed_mm_s))
        self.observer.on_command(time.monotonic_ns(), seq, "", target, speed_mm_s)
        return seq

    def stop(self) -> None:
        self.observer.on_event(time.monotonic_ns(), "stop", {"device": "robot",
                                                           "reason": "requested by the test"})
        self._guarded("stop", self.inner.stop)
