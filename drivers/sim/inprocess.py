"""`InProcessArm`: the simulated arm as a `RobotArm` in the caller's process (virtual time mode).

Time comes from the `time_fn` it is given (seconds), so a virtual clock makes runs faster than
real time and deterministic for a given seed. No I/O; calls never time out.
"""
from __future__ import annotations

from typing import Callable

from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm
from drivers.sim.arm import ArmParams, SimArm
from drivers.sim.program import sim_arm
from drivers.sim.reach import FAULT_UNREACHABLE, unreachable


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
            self.arm = sim_arm(self.params, self.time_fn(), self.params.program)

    def close(self) -> None:
        pass

    def _sim(self) -> tuple[SimArm, float]:
        """The arm, fed, and the time it was fed at (s): every call is a message from the host,
        like a request on the wire."""
        if self.arm is None:
            self.connect()
        assert self.arm is not None
        now = self.time_fn()
        self.arm.feed(now)
        return self.arm, now

    def read_pose(self) -> Pose:
        arm = self.arm                 # `_sim` inlined: a stream reads a pose every setpoint
        if arm is None:
            arm, now = self._sim()
        else:
            now = self.time_fn()
            arm.feed(now)
        return arm.pose(now)

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        self._seq = (self._seq + 1) % 65536
        if self.arm is None:
            self.connect()
        assert self.arm is not None
        if unreachable(target):      # refused like the served controller: a fault, no motion
            self.arm.feed(self.time_fn())
            self.arm.fault(self.time_fn(), FAULT_UNREACHABLE)
            return self._seq
        self.arm.move(target, speed_mm_s, self.time_fn())     # a command feeds the watchdog
        return self._seq

    def read_status(self) -> ArmStatus:
        arm, now = self._sim()
        return ArmStatus(state=arm.state(now), seq=self._seq, fault_code=arm.fault_code)

    def reset(self) -> None:
        self._seq = (self._seq + 1) % 65536
        arm, now = self._sim()
        arm.reset(now)

    def stop(self) -> None:
        self._seq = (self._seq + 1) % 65536
        arm, now = self._sim()
        arm.stop(now)
