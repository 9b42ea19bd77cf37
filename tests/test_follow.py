"""A robot that runs its own program, a bench that only watches it, and virtual mode seeing a
robot through what its wire protocol carries (drivers/sim/program.py, bench/follow.py,
drivers/sim/shape.py)."""
from __future__ import annotations

import dataclasses

import pytest

from bench.clock import VirtualClock
from bench.follow import run_follow_scenario
from bench.scenario import load_scenario
from drivers.errors import ConfigError, DeviceTimeout
from drivers.modbus.regmap import load_map, resolve_map
from drivers.pose import Pose
from drivers.sim.arm import ArmParams
from drivers.sim.inprocess import InProcessArm
from drivers.sim.program import Program
from drivers.sim.shape import GRBL_SHAPE, ShapedArm, map_shape

CUBE = load_scenario("iso9283-follow")
PROGRAM = Program(tuple(CUBE.poses.values()), dwell_s=0.3, speed_mm_s=250.0)


def _programmed(clock: VirtualClock, program: Program = PROGRAM, seed: int = 3) -> ShapedArm:
    params = ArmParams(repeatability_mm=0.3, seed=seed, program=program,
                       home=next(iter(CUBE.poses.values())))
    # seen through the read-only igus map, as in virtual mode: any command is refused
    return ShapedArm(InProcessArm(params, clock.now), map_shape(load_map(resolve_map("igus_rebel"))))


def test_the_program_visits_its_poses_in_order_by_itself() -> None:
    clock = VirtualClock()
    arm = _programmed(clock, seed=0)
    arm.inner.params = dataclasses.replace(arm.inner.params, repeatability_mm=0.0)
    visited: list[str] = []
    for _ in range(800):                       # 8 s of 10 ms readings, no command sent
        p = arm.read_pose()
        near = [n for n, q in CUBE.poses.items() if q.distance_to(p) < 0.05]
        if near and (not visited or visited[-1] != near[0]):
            visited.append(near[0])
        clock.sleep(0.01)
    assert visited[:6] == ["P1", "P2", "P3", "P4", "P5", "P1"]


def test_follow_run_judges_the_rests_and_sends_nothing() -> None:
    clock = VirtualClock()
    arm = _programmed(clock)
    with pytest.raises(ConfigError, match="has no target registers"):
        arm.move_to(Pose(400, 0, 300, 180, 0, 0), 100.0)
    sc = dataclasses.replace(CUBE, cycles=3)
    samples = run_follow_scenario(sc, arm, clock)
    assert [(s.pose, s.cycle) for s in samples] == [
        (p, c) for c in (1, 2, 3) for p in ("P1", "P2", "P3", "P4", "P5")]
    errors = [s.commanded.distance_to(s.attained) for s in samples]
    assert 0 < max(errors) < 1.0                           # scatter of 0.3 mm RP, seen
    assert len({round(s.attained.x, 4) for s in samples if s.pose == "P2"}) == 3
    # readings through the map's 0.01 mm registers
    assert all(abs(s.attained.x * 100 - round(s.attained.x * 100)) < 1e-6 for s in samples)
    assert samples[-1].t_measured_ns > samples[0].t_measured_ns + 3 * 5 * 0.3e9


def test_follow_run_times_out_naming_the_pose_the_robot_never_reaches() -> None:
    clock = VirtualClock()
    elsewhere = Program((Pose(400, 0, 300, 180, 0, 0), Pose(300, 0, 300, 180, 0, 0)), 0.3)
    arm = _programmed(clock, elsewhere)
    sc = dataclasses.replace(CUBE, cycles=1, move_timeout_s=2.0)
    with pytest.raises(DeviceTimeout, match=r"did not come to rest at P2 \(cycle 1\)"):
        run_follow_scenario(sc, arm, clock)


def test_shape_of_a_single_axis_map_and_of_grbl() -> None:
    iai = map_shape(load_map(resolve_map("iai_robocylinder")))
    assert iai.write_axes == iai.read_axes == ("x",) and iai.resolution == {"x": 0.01}
    assert not iai.read_only and not iai.is_identity
    native = map_shape(load_map(resolve_map("native")))
    assert native.is_identity                              # float32 registers: nothing changes
    assert GRBL_SHAPE.read_axes == ("x", "y", "z")
    clock = VirtualClock()
    inner = InProcessArm(ArmParams(repeatability_mm=0.0, home=Pose(100, 0, 0, 0, 0, 0)),
                         clock.now)
    arm = ShapedArm(inner, iai)
    arm.move_to(Pose(123.4567, 50.0, 300.0, 180.0, 0, 0), 100.0)
    clock.sleep(2.0)
    seen, true = arm.read_pose(), inner.read_pose()
    assert (true.y, true.z, true.a) == (0.0, 0.0, 0.0)      # only x was sent
    assert seen == Pose(12346 * 0.01, 0, 0, 0, 0, 0)       # and read in 0.01 mm steps
