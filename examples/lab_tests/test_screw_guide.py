"""Screw guide placement: a slow approach to the entry point, then fine alignment steps.

The supervisory pattern of a remotely placed orthopaedic guide: approach from 40 mm above the
entry point at 100 mm/s, then correct the measured error in steps of at most 0.1 mm per axis until
the guide is within 0.05 mm of the entry point, under the 5G weak-to-strong link profile.
"""
from dataclasses import replace

import numpy as np
import pytest

from drivers.pose import Pose
from helpers import move_and_wait

ENTRY = Pose(430.0, 20.0, 280.0, 180.0, 0.0, 0.0)   # mm, deg (inside the lab's workspace)
STEP_MM = 0.1
GOOD_ENOUGH_MM = 0.05
MAX_STEPS = 12


@pytest.mark.network("5g-weak-to-strong")
def test_screw_guide_alignment(robot, measure):
    move_and_wait(robot, replace(ENTRY, z=ENTRY.z + 40.0), 250.0, "above entry")
    attained = move_and_wait(robot, ENTRY, 100.0, "entry (approach)")
    measure("approach_error", attained.distance_to(ENTRY), "mm", max=2.0)
    command = ENTRY
    steps = 0
    while attained.distance_to(ENTRY) > GOOD_ENOUGH_MM and steps < MAX_STEPS:
        error = ENTRY.position - attained.position
        step = np.clip(error, -STEP_MM, STEP_MM)
        command = replace(command, x=command.x + step[0], y=command.y + step[1],
                          z=command.z + step[2])
        steps += 1
        attained = move_and_wait(robot, command, 5.0, f"alignment step {steps}")
    measure("final_error", attained.distance_to(ENTRY), "mm", max=0.1, marginal=GOOD_ENOUGH_MM)
    measure("alignment_steps", steps, "", max=MAX_STEPS - 1)
