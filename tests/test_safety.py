"""The safety envelope refuses targets and speeds outside it, for every shape."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.safety import workspace_from_section
from drivers.config import Section, load_yaml_text
from drivers.errors import ConfigError, SafetyError
from drivers.pose import Pose


def ws(text: str):
    return workspace_from_section(Section(load_yaml_text(text, "lab.yaml"), "lab.yaml",
                                          "robot.workspace"))


@pytest.mark.parametrize("text,inside,outside,why", [
    ("box: {min: [0, 0, 0], max: [10, 10, 10]}", Pose(5, 5, 5), Pose(5, 11, 5), "y = 11.000"),
    ("sphere: {center: [0, 0, 0], radius: 10 mm}", Pose(6, 0, 7.9), Pose(6, 0, 8.1),
     "from the sphere centre"),
    ("cylinder: {center: [100, 0, 0], radius: 5, z_min: 0, z_max: 50}", Pose(103, 3.9, 25),
     Pose(104, 4, 25), "from the cylinder axis"),
    ("cylinder: {center: [100, 0, 0], radius: 5, z_min: 0, z_max: 50}", Pose(100, 0, 50),
     Pose(100, 0, 50.01), "z = 50.010"),
])
def test_shapes(text: str, inside: Pose, outside: Pose, why: str) -> None:
    w = ws(text)
    w.check(inside)
    with pytest.raises(SafetyError, match=why) as e:
        w.check(outside, "pose X")
    assert "pose X" in str(e.value) and "lab.yaml:1" in str(e.value)


def test_nan_target_is_refused() -> None:
    with pytest.raises(SafetyError, match="not a finite pose"):
        ws("box: {min: [0, 0, 0], max: [10, 10, 10]}").check(Pose(float("nan"), 1, 1))


def test_speed_and_accel_limits() -> None:
    w = ws("box: {min: [0, 0, 0], max: [10, 10, 10]}\nmax_speed: 0.1 m/s\nmax_accel: 1 m/s^2")
    w.check_motion(100.0, "speed")
    with pytest.raises(SafetyError, match="speed 100.5 mm/s exceeds the workspace limit 100"):
        w.check_motion(100.5, "speed")
    with pytest.raises(SafetyError, match="acceleration 2000"):
        w.check_motion(50.0, "accel", accel_mm_s2=2000.0)


@pytest.mark.parametrize("text,message", [
    ("box: {min: [0, 0], max: [1, 1, 1]}", r"lab.yaml:1: robot.workspace.box.min: expected \[x"),
    ("box: {min: [0, 0, 0], max: [1, 0, 1]}", r"box.max: each max must be greater"),
    ("sphere: {center: [0, 0, 0]}", r"sphere.radius: required key is missing"),
    ("sphere: {center: [0, 0, 0], radius: -1}", r"sphere.radius: must be >="),
    ("box: {min: [0, 0, 0], max: [1, 1, 1]}\nsphere: {center: [0, 0, 0], radius: 1}",
     r"exactly one of box, sphere or cylinder"),
    ("cone: {}", r"exactly one of box"),
    ("box: {min: [0, 0, 0], max: [1, 1, 1]}\nmax_sped: 3", r"lab.yaml:2: robot.workspace.max_sped"),
])
def test_bad_envelopes(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ws(text)


def test_scenario_faster_than_the_lab_allows_is_refused(tmp_path: Path) -> None:
    import subprocess
    import sys
    sc = tmp_path / "fast.yaml"
    sc.write_text("name: fast\nposes:\n  A: {x: 400, y: 0, z: 300}\ncycles: 2\nspeed: 2 m/s\n")
    res = subprocess.run([sys.executable, "-m", "bench", "run", str(sc), "--out",
                          str(tmp_path / "o")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "speed 2000 mm/s exceeds the workspace limit 1000 mm/s" in res.stderr
    assert not (tmp_path / "o").exists()
