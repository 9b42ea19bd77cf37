"""The `instrument` fixture on the `cobot-ndi` lab (a simulated Polaris served by the robot
simulator's process, watching the simulated arm): the test moves the robot and measures it."""
from __future__ import annotations

import pytest

from plugin_support import results, run

pytest_plugins = ["pytester"]

INSTRUMENT_TESTS = """
import pytest
from drivers.pose import Pose

def test_tracker_follows_the_arm(robot, instrument, measure):
    (before,) = instrument.read()
    assert before.visible
    robot.move_to(Pose(420, 0, 300, 180, 0, 0), 200.0)
    import time
    t0 = time.monotonic()
    while robot.read_status().state.value != "arrived" and time.monotonic() - t0 < 5:
        time.sleep(0.01)
    time.sleep(0.1)
    frames = [instrument.read()[0] for _ in range(3)]
    # the tracker looks down from 1.8 m (a = 180 deg): +x in the base is +x in the tracker
    dx = frames[-1].position_mm[0] - before.position_mm[0]
    measure("moved", dx, "mm")
    assert 19.0 < dx < 21.0

@pytest.mark.hardware("instrument")
def test_needs_real_tracker(instrument):
    instrument.read()
"""


def test_instrument_fixture_reads_the_simulated_tracker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inst=INSTRUMENT_TESTS)
    res = run(pytester, "-rs", "--bench-hardware", "cobot-ndi")
    res.assert_outcomes(passed=1, skipped=1)
    res.stdout.fnmatch_lines(["*instrument: simulated*",
                              "SKIPPED*needs the real instrument*"])
    test = next(t for t in results(pytester)["tests"]
                if t["nodeid"].endswith("test_tracker_follows_the_arm"))
    assert test["devices"]["instrument"]["use"] == "sim"
    log = open(test["traffic_log"]).read()
    assert " instrument open ndi:" in log and " instrument tool at " in log


def test_lab_without_instrument_skips_instrument_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inst=INSTRUMENT_TESTS)
    res = run(pytester, "-rs")
    res.assert_outcomes(skipped=2)
    res.stdout.fnmatch_lines(["*instrument not available: instrument: not in the lab*"])
