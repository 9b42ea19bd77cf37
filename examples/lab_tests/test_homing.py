"""Homing on the real arm: a hardware-only check (skipped on simulators, with how to run it).

Moves the real robot, so it also needs an armed run: pytest --bench-mode hw
--bench-hardware hardware/my-lab.yaml --bench-arm
"""
import pytest

from drivers.pose import Pose
from helpers import move_and_wait

HOME = Pose(400.0, 0.0, 300.0, 180.0, 0.0, 0.0)   # the lab's home pose, mm and deg


@pytest.mark.hardware("robot")
def test_homing_reaches_home(robot, measure):
    attained = move_and_wait(robot, HOME, 100.0, "home")
    measure("home_error", attained.distance_to(HOME), "mm", max=1.0, marginal=0.5)
