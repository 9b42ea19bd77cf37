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


# -- a guide axis in a scenario: the tip `depth` along the tool z axis, judged per placement --

SEAT = Pose(405.2, 10.2, 304.4, 180.0, 0.0, 0.0)


def test_guide_depth_puts_the_tip_along_the_tool_axis_by_hand() -> None:
    from bench.metrics.trajectory import GuideAxis
    g = GuideAxis("seat", depth_mm=30.0)
    assert g.subject == "seat+30mm"
    # 0.3 mm off in x, tilted 1 deg about the base x axis (a = 181): tool z = (0, sin 1, -cos 1)
    got = Pose(405.5, 10.2, 304.4, 181.0, 0.0, 0.0)
    d = g.placement(SEAT, got)
    s1, c1 = math.sin(math.radians(1.0)), math.cos(math.radians(1.0))
    # planned tip (405.2, 10.2, 274.4); achieved tip (405.5, 10.2 + 30 sin 1, 304.4 - 30 cos 1)
    assert d.entry_mm == pytest.approx(0.3) and d.entry_normal_mm == pytest.approx(0.3)
    assert d.target_mm == pytest.approx(math.sqrt(0.3**2 + (30 * s1) ** 2 + (30 - 30 * c1) ** 2))
    assert d.target_mm == pytest.approx(0.603448, abs=1e-6)
    assert d.target_normal_mm == pytest.approx(math.hypot(0.3, 30 * s1))   # off the vertical line
    assert d.angle_deg == pytest.approx(1.0)


GUIDE_SCENARIO = """name: g
poses:
  entry: {x: 405, y: 10, z: 305, a: 180}
  seat:  {x: 405.2, y: 10.2, z: 304.4, a: 180}
cycles: 2
guide: {entry: seat, depth: 30 mm}
tolerances:
  entry_deviation: {max: 2.0 mm, marginal: 0.5 mm}
  target_deviation: {max: 2.0 mm, marginal: 0.5 mm}
  angular_deviation: {max: 5 deg, marginal: 2.5 deg}
"""


def _samples(attained: dict[tuple[str, int], Pose], sc) -> list:
    from bench.runner import Sample
    return [Sample(p, c, sc.poses[p], a, 0, 0, 0) for (p, c), a in attained.items()]


def test_evaluate_judges_the_worst_placement_and_reports_the_means(tmp_path) -> None:
    from bench.evaluate import evaluate
    from bench.scenario import load_scenario
    path = tmp_path / "g.yaml"
    path.write_text(GUIDE_SCENARIO)
    sc = load_scenario(str(path))
    seat = sc.poses["seat"]
    samples = _samples({("entry", 1): sc.poses["entry"], ("seat", 1): SEAT,
                        ("entry", 2): sc.poses["entry"],
                        ("seat", 2): Pose(405.8, 10.2, 304.4, 183.0, 0.0, 0.0)}, sc)
    ev = evaluate(sc, samples)
    got = {m.name: m for m in ev.measurements if m.subject == "seat+30mm"}
    assert seat == SEAT and set(got) == {"entry_deviation", "target_deviation",
                                         "angular_deviation"}
    s3, c3 = math.sin(math.radians(3.0)), math.cos(math.radians(3.0))
    tip2 = math.sqrt(0.6**2 + (30 * s3) ** 2 + (30 - 30 * c3) ** 2)     # 1.6803 mm
    assert got["entry_deviation"].value == pytest.approx(0.6)           # cycle 2, the worst
    assert got["target_deviation"].value == pytest.approx(tip2)
    assert got["angular_deviation"].value == pytest.approx(3.0)
    # 0.6 mm: "inaccurate" (marginal); 3 deg likewise; tip 1.68 mm below "unacceptable" 2 mm
    assert {m.outcome.value for m in got.values()} == {"marginal"}
    assert ev.trajectory is not None and ev.trajectory["placements"] == 2
    assert ev.trajectory["entry_deviation_mm"] == pytest.approx(0.3)    # mean of 0 and 0.6
    assert ev.trajectory["angular_deviation_deg"] == pytest.approx(1.5)
    # a cycle whose seat is missing gives no placement; none at all: a limit on it fails
    ev = evaluate(sc, [s for s in samples if s.pose != "seat"])
    assert all(m.value is None and m.outcome.value == "fail"
               for m in ev.measurements if m.subject == "seat+30mm")


@pytest.mark.parametrize("guide,match", [
    ("", "needs a `guide:` section"),
    ("guide: {entry: nope, depth: 30 mm}\n", "unknown pose 'nope'"),
    ("guide: {entry: seat, target: entry, depth: 30 mm}\n", "either a target pose or a depth"),
    ("guide: {entry: seat}\n", "either a target pose or a depth"),
    ("guide: {entry: entry, target: seat, axis: points}\n", "at least 5 mm apart"),
])
def test_guide_sections_are_checked(tmp_path, guide: str, match: str) -> None:
    from bench.scenario import load_scenario
    from drivers.errors import ConfigError
    path = tmp_path / "g.yaml"
    path.write_text(GUIDE_SCENARIO.replace("guide: {entry: seat, depth: 30 mm}\n", guide))
    with pytest.raises(ConfigError, match=match):
        load_scenario(str(path))


def test_screw_guide_scenario_uses_the_study_thresholds() -> None:
    from bench.scenario import load_scenario
    sc = load_scenario("screw-guide")
    assert sc.guide is not None and (sc.guide.entry, sc.guide.depth_mm) == ("seat", 30.0)
    lim = {k: (v.max, v.marginal) for k, v in sc.tolerances.items()}
    assert lim["entry_deviation"] == lim["target_deviation"] == (2.0, 0.5)
    assert lim["angular_deviation"] == (5.0, 2.5)
