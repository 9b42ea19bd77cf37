"""The plugin's `site` parameter: a test gets the robot of the site it names (one simulator per
site, each with its own envelope), on a lab with `sites:`."""
from __future__ import annotations

import json

import pytest

from plugin_support import run

pytest_plugins = ["pytester"]

SITE_TESTS = """
import json, pytest

@pytest.mark.parametrize("site", ["zhangjiakou", "tianjin"], indirect=True)
def test_each_site(robot, site, tmp_path_factory):
    pose = robot.read_pose()
    with open("seen.jsonl", "a") as fh:
        fh.write(json.dumps({"site": site, "robot": robot.name, "x": pose.x}) + "\\n")

def test_default_is_the_first_site(robot, site):
    assert site is None
    with open("seen.jsonl", "a") as fh:
        fh.write(json.dumps({"site": None, "robot": robot.name}) + "\\n")
"""


def test_site_parameter_gives_each_site_its_own_robot(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_site_param_inner=SITE_TESTS)   # unique: in-process runs
    res = run(pytester, "--bench-hardware", "three-sites")
    res.assert_outcomes(passed=3)
    seen = [json.loads(ln) for ln in (pytester.path / "seen.jsonl").read_text().splitlines()]
    robots = {s["site"]: s["robot"] for s in seen}
    assert set(robots) == {"zhangjiakou", "tianjin", None}
    assert robots["zhangjiakou"] != robots["tianjin"]      # two simulators, two endpoints
    assert robots[None] != robots["tianjin"]
