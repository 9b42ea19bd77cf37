"""`pytest -n 2`: each xdist worker gets its own simulator on its own port; one results.json."""
from __future__ import annotations

import pytest

from plugin_support import copy_examples, results, run

pytest_plugins = ["pytester"]

# Each test moves the arm and checks it arrived where *it* sent it: two workers sharing one
# simulated arm would move it under each other's feet.
MOVES = """
import pytest
from drivers.pose import Pose
from helpers import move_and_wait

@pytest.mark.parametrize("i", range(6))
def test_move(robot, measure, i):
    target = Pose(350 + 20 * i, -50 + 10 * i, 280, 180, 0, 0)
    attained = move_and_wait(robot, target, 1000.0, f"target {i}")
    measure("error", attained.distance_to(target), "mm", max=1.0)
"""


def test_two_workers_two_simulators(pytester: pytest.Pytester) -> None:
    copy_examples(pytester)
    pytester.makepyfile(test_moves=MOVES)
    res = run(pytester, "-n", "2", "--junitxml", "junit.xml", "--bench-record", "sessions",
              subprocess=True)
    res.assert_outcomes(passed=9, skipped=1)
    res.stdout.fnmatch_lines(["*= hil-bench =*", "measurements: * marginal, 0 fail"])
    doc = results(pytester)
    endpoints: dict[str, set[str]] = {}
    for t in doc["tests"]:
        if "robot" in t["devices"] and "name" in t["devices"]["robot"]:
            endpoints.setdefault(t["worker"], set()).add(t["devices"]["robot"]["name"])
    assert set(endpoints) == {"gw0", "gw1"}, endpoints
    gw0, gw1 = (endpoints[w] for w in ("gw0", "gw1"))
    assert len(gw0) == 1 and len(gw1) == 1 and gw0 != gw1   # one simulator each, own port
    assert all(name.startswith("modbus:native@tcp://127.0.0.1:") for name in gw0 | gw1)
    logs = list((pytester.path / "out" / "traffic").glob("*.log"))
    assert len(logs) == 9   # one per test that used the robot, none overwritten
    # relative paths are the controller's: every worker records into the same folder
    assert len(list((pytester.path / "sessions").glob("*.mcap"))) == 9
