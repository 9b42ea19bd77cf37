"""`measure` in JUnit XML and results.json, limits that fail tests, traffic logs in failure reports."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from plugin_support import results, run

pytest_plugins = ["pytester"]

MEASURED = """
import pytest
from drivers.pose import Pose

def test_pass_and_marginal(robot, measure):
    pose = robot.read_pose()
    measure("home_x", pose.x, "mm", max=500.0)
    measure("jitter", 0.9, "ms", max=1.0, marginal=0.5)

def test_limit_fails_after_all_are_recorded(robot, measure):
    robot.read_status()
    measure("AP", 1.3, "mm", max=1.0, subject="P1")
    measure("RP", 0.02, "mm", max=0.1, subject="P1")

def test_nan_never_passes(measure):
    measure("lost", float("nan"), "mm", max=1.0)
"""


def test_measurements_in_junit_xml_and_results_json(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_measured=MEASURED)
    res = run(pytester, "--junitxml", "junit.xml")
    res.assert_outcomes(passed=1, failed=2)
    res.stdout.fnmatch_lines([
        "*measurement outside its limit: P1.AP = 1.3 mm, limit <= 1 mm: FAIL*",
        "*hil-bench traffic log*", "full log: *test_limit_fails_after_all_are_recorded.log",
        "last lines:", "*robot  stat idle seq=0 fault=0*",
        "*measurement outside its limit: lost = nan mm, limit <= 1 mm: FAIL*",
        "measurements: 2 pass, 1 marginal, 2 fail"])

    cases = {c.get("name"): c for c in ET.parse(pytester.path / "junit.xml").iter("testcase")}
    props = {p.get("name"): p.get("value")
             for p in cases["test_pass_and_marginal"].iter("property")}
    assert float(props["home_x"]) == pytest.approx(400.25, abs=0.5)   # the sim's home + offset
    assert props["home_x.unit"] == "mm" and props["home_x.outcome"] == "pass"
    assert props["jitter.limit"] == "<= 1 ms (marginal above 0.5)"
    assert props["jitter.outcome"] == "marginal"
    failed = {p.get("name"): p.get("value")
              for p in cases["test_limit_fails_after_all_are_recorded"].iter("property")}
    assert failed["P1.AP.outcome"] == "fail" and failed["P1.RP.outcome"] == "pass"

    doc = results(pytester)
    assert doc["summary"]["measurements"] == {"pass": 2, "marginal": 1, "fail": 2}
    tests = {t["nodeid"].split("::")[1]: t for t in doc["tests"]}
    fail = tests["test_limit_fails_after_all_are_recorded"]
    assert fail["outcome"] == "failed"
    assert [(m["subject"], m["name"], m["outcome"]) for m in fail["measurements"]] == [
        ("P1", "AP", "fail"), ("P1", "RP", "pass")]
    assert fail["measurements"][0]["limit"] == 1.0
    assert tests["test_nan_never_passes"]["measurements"][0]["value"] is None
    log = fail["traffic_log"]
    assert log and " tx   " in open(log).read()
