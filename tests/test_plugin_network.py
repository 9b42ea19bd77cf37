"""Network impairment in bench tests: the network mark, --bench-network, the `network` fixture."""
from __future__ import annotations

import pytest

from plugin_support import results, run

pytest_plugins = ["pytester"]

SWITCHING = """
import time
import pytest

def _round_trip(robot):
    t0 = time.monotonic()
    robot.read_pose()
    return time.monotonic() - t0

def test_switch_profile_inside_a_test(robot, network):
    assert network.profile == "ideal"
    fast = _round_trip(robot)
    network.set("telesurgery-300ms")          # 150 ms each way
    assert network.profile == "telesurgery-300ms"
    slow = _round_trip(robot)
    network.off()
    assert slow >= 0.3 and slow > fast + 0.25, (fast, slow)

@pytest.mark.network("telesurgery-300ms")
def test_marked(robot):
    t0 = time.monotonic()
    robot.read_status()
    assert time.monotonic() - t0 >= 0.3

@pytest.mark.network("no-such-profile")
def test_typo_fails_never_skips(robot):
    pass
"""


def test_network_mark_fixture_and_typo(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_net=SWITCHING)
    res = run(pytester)
    res.assert_outcomes(passed=2, failed=1)
    res.stdout.fnmatch_lines(["*@pytest.mark.network('no-such-profile'): unknown network "
                              "'no-such-profile'*"])
    tests = {t["nodeid"].split("::")[1]: t for t in results(pytester)["tests"]}
    assert tests["test_marked"]["network"]["profile"] == "telesurgery-300ms"
    log = open(tests["test_switch_profile_inside_a_test"]["traffic_log"]).read()
    assert "delay 150.0 ms" in log and "read_pose" in log


def test_bench_network_applies_to_every_bench_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_default="""
        import time
        def test_slow_link(robot):
            t0 = time.monotonic()
            robot.read_pose()
            assert time.monotonic() - t0 >= 0.3
        """)
    run(pytester, "--bench-network", "telesurgery-300ms").assert_outcomes(passed=1)
    assert results(pytester)["tests"][0]["network"]["profile"] == "telesurgery-300ms"


def test_bad_bench_network_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(robot): pass")
    res = run(pytester, "--bench-network", "nowhere.yaml")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--bench-network: nowhere.yaml: file not found*"])


def test_record_is_not_available_yet(pytester: pytest.Pytester) -> None:
    """--bench-record waits for the sessions recorder; it must say so, not silently ignore it."""
    pytester.makepyfile("def test_x(robot): pass")
    res = run(pytester, "--bench-record", "sessions")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--bench-record: session recording is not available*"])
