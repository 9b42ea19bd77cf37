"""Fault injection on the simulator: the controller drops off the wire and comes back.

`sim_only`: it stops and restarts the simulator process itself, so it never runs on real hardware.
"""
import pytest

from drivers.errors import DeviceError
from drivers.robot import ArmState


@pytest.mark.sim_only
def test_power_cut_is_reported_and_recovered(bench, robot):
    robot.read_pose()
    sim = bench.simulator("robot")
    sim.kill()
    with pytest.raises(DeviceError):
        robot.read_pose()
    sim.restart()
    assert robot.read_status().state is ArmState.IDLE   # a restarted controller comes back idle
