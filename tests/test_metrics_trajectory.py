"""Surgical trajectory figures checked against hand-computed values."""
from __future__ import annotations

import math

import pytest

from bench.metrics.trajectory import deviation, trajectory_figures
from drivers.pose import Pose

# a planned trajectory straight down (tool z points along base -z when a = 180 deg)
ENTRY = Pose(405.0, 10.0, 305.0, 180.0, 0.0, 0.0)
TARGET = Pose(405.0, 10.0, 265.0, 180.0, 0.0, 0.0)          # 40 mm deep


def test_offsets_by_hand() -> None:
    # entry 0.3 mm off sideways and 0.4 mm along the axis; tip 0.6 mm sideways, tilted 1 deg
    got_entry = Pose(405.3, 10.0, 305.4, 180.0, 0.0, 0.0)
    got_target = Pose(405.0, 10.6, 265.0, 181.0, 0.0, 0.0)
    d = deviation(ENTRY, TARGET, got_entry, got_target)
    assert d.entry_mm == pytest.approx(0.5)                 # 3-4-5
    assert d.entry_normal_mm == pytest.approx(0.3)          # only the sideways part
    assert d.target_mm == pytest.approx(0.6) and d.target_normal_mm == pytest.approx(0.6)
    assert d.angle_deg == pytest.approx(1.0, abs=1e-9)      # a = 181: tilt about x by 1 deg


def test_points_axis_and_tiny_angles() -> None:
    got_target = Pose(405.0 + 40.0 * math.tan(math.radians(0.01)), 10.0, 265.0, 180, 0, 0)
    d = deviation(ENTRY, TARGET, ENTRY, got_target, axis="points")
    assert d.angle_deg == pytest.approx(0.01, rel=1e-6)     # atan2 keeps 1e-2 deg exact
    with pytest.raises(ValueError, match="closer"):
        deviation(ENTRY, Pose(405.0, 10.0, 303.0, 180, 0, 0), ENTRY, ENTRY, axis="points")
    with pytest.raises(ValueError, match="axis"):
        deviation(ENTRY, TARGET, ENTRY, TARGET, axis="nope")


def test_figures_over_cycles() -> None:
    a = deviation(ENTRY, TARGET, Pose(405.3, 10.0, 305.0, 180, 0, 0), TARGET)
    b = deviation(ENTRY, TARGET, Pose(405.1, 10.0, 305.0, 180, 0, 0), TARGET)
    f = trajectory_figures([a, b])
    assert f["entry_deviation_mm"] == pytest.approx(0.2)
    assert f["entry_deviation_max_mm"] == pytest.approx(0.3)
    assert f["angular_deviation_max_deg"] == 0.0
    assert math.isnan(trajectory_figures([])["target_deviation_mm"])
