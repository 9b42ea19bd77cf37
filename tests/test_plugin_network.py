"""Network impairment in bench tests: the network mark, --bench-network, the `network` fixture."""
from __future__ import annotations

import pytest

from bench.session import read_session, session_info
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

@pytest.mark.network("no-such-profile")
def test_typo_fails_never_skips(robot):
    pass
"""


def test_network_mark_fixture_and_typo(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_net=SWITCHING)
    res = run(pytester)
    res.assert_outcomes(passed=1, failed=1)
    res.stdout.fnmatch_lines(["*@pytest.mark.network('no-such-profile'): unknown network "
                              "'no-such-profile'*"])
    tests = {t["nodeid"].split("::")[1]: t for t in results(pytester)["tests"]}
    assert tests["test_switch_profile_inside_a_test"]["network"]["profile"] == "ideal"
    log = open(tests["test_switch_profile_inside_a_test"]["traffic_log"]).read()
    # on the wire: the proxy's events (150 ms each way) next to the frames that crossed it
    assert " net    up   12 B delay 150.0 ms" in log and " net    down " in log
    assert " robot  tx   " in log and " robot  rx   " in log


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


def test_record_writes_one_session_per_test(pytester: pytest.Pytester) -> None:
    """--bench-record DIR: an MCAP session per robot test, readable by the sessions reader."""
    pytester.makepyfile(test_rec="""
        import pytest
        from drivers.pose import Pose

        @pytest.mark.network("5g-urban")
        def test_moves(robot):
            robot.move_to(Pose(420, 10, 300, 180, 0, 0), 500.0)
            robot.read_status()
            robot.read_pose()

        def test_fails(robot):
            robot.read_pose()
            assert False, "on purpose"
        """)
    run(pytester, "--bench-record", "sessions").assert_outcomes(passed=1, failed=1)
    tests = {t["nodeid"].split("::")[1]: t for t in results(pytester)["tests"]}
    moves = session_info(tests["test_moves"]["session"])
    assert moves["finished"] and not moves["truncated"]
    assert moves["topics"]["/robot/command"] == 1
    assert moves["topics"]["/robot/pose"] == 1 and moves["topics"]["/robot/status"] >= 1
    assert moves["topics"]["/network/event"] >= 6      # up and down for each of 3 calls
    ends = [m.data for m in read_session(tests["test_fails"]["session"], ["/bench/event"])
            if m.data.get("kind") == "end"]
    assert ends and ends[-1]["detail"]["verdict"] == "failed"


def test_serial_robot_is_impaired_through_the_serial_proxy(pytester: pytest.Pytester) -> None:
    """The GRBL lab: a simulated G-code controller on a pty, the serial proxy in between."""
    pytester.makepyfile(test_grbl="""
        import time
        import pytest

        @pytest.mark.network("telesurgery-300ms")
        def test_slow_serial_link(robot):
            t0 = time.monotonic()
            robot.read_pose()
            assert time.monotonic() - t0 >= 0.3
        """)
    run(pytester, "--bench-hardware", "grbl").assert_outcomes(passed=1)
    test = results(pytester)["tests"][0]
    assert test["devices"]["robot"]["name"].startswith("grbl:/dev/pts/")
    log = open(test["traffic_log"]).read()
    assert " net    up   1 B delay 150.0 ms" in log        # GRBL's '?' status query, delayed
