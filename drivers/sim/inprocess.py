"""`InProcessArm`: the simulated arm as a `RobotArm` in the caller's process (virtual time mode).

Time comes from the `time_fn` it is given (seconds), so a virtual clock makes runs faster than
real time and deterministic for a given seed. No I/O; calls never time out.
"""
from __future__ import annotations

from typing import Callable

from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm
from drivers.sim.arm import ArmParams, SimArm


class InProcessArm(RobotArm):
    """A `SimArm` behind the `RobotArm` interface, driven by `time_fn`."""

    def __init__(self, params: ArmParams, time_fn: Callable[[], float], name: str = "sim") -> None:
        self.params = params
        self.time_fn = time_fn
        self.name = f"inprocess:{name}"
        self.arm: SimArm | None = None
        self._seq = 0

    def connect(self) -> None:
        if self.arm is None:
            self.arm = SimArm(self.params, self.time_fn())

    def close(self) -> None:
        pass

    def _sim(self) -> SimArm:
        """The arm, fed: every call is a message from the host, like a request on the wire."""
        if self.arm is None:
            self.connect()
        assert self.arm is not None
        self.arm.feed(self.time_fn())
        return self.arm

    def read_pose(self) -> Pose:
        return self._sim().pose(self.time_fn())

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        self._seq = (self._seq + 1) % 65536
        self._sim().move(target, speed_mm_s, self.time_fn())
        return self._seq

    def read_status(self) -> ArmStatus:
        arm = self._sim()
        state = arm.state(self.time_fn())
        return ArmStatus(state=state, seq=self._seq, fault_code=arm.fault_code)

    def stop(self) -> None:
        self._seq = (self._seq + 1) % 65536
        self._sim().stop(self.time_fn())
