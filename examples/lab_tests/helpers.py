"""Small helpers for the example lab tests: move and wait, with the bench's own runner code."""
from __future__ import annotations

from bench.clock import RealClock
from bench.runner import wait_arrived
from drivers.pose import Pose
from drivers.robot import RobotArm

CLOCK = RealClock()


def move_and_wait(robot: RobotArm, target: Pose, speed_mm_s: float, label: str,
                  timeout_s: float = 10.0) -> Pose:
    """Command `target`, wait until the controller reports arrival, return the attained pose.

    Raises DeviceTimeout / DeviceFault (drivers.errors) like the bench's runner does.
    """
    seq = robot.move_to(target, speed_mm_s)
    wait_arrived(robot, CLOCK, seq, label, timeout_s, poll_s=0.005)
    CLOCK.sleep(0.02)    # settle before measuring, as a lab's procedure would
    return robot.read_pose()
