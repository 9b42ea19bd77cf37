"""The pytest plugin's modes, on real inner pytest sessions against real simulators (pytester).

sim mode runs the example lab suite; hw mode fails tests whose declared device is missing (with
the probe's reason) and skips them only under --bench-allow-missing; hw mode with a lab of
simulators is a usage error; --bench-strict also fails fallbacks; auto mode falls back to the
simulator and says so;
a "real" robot (a Modbus server on loopback declared as hardware) never moves unarmed.
"""
from __future__ import annotations

import socket

import pytest

from drivers.sim.arm import ArmParams
from plugin_support import closed_port, copy_examples, real_lab, results, run

pytest_plugins = ["pytester"]

ROBOT_TESTS = """
import socket

import pytest
from drivers.pose import Pose

@pytest.mark.hardware("robot")
def test_needs_real_robot(robot):
    robot.read_pose()

def test_any_robot(robot):
    assert robot.read_pose().is_finite()
"""


def test_sim_mode_runs_the_example_suite(pytester: pytest.Pytester) -> None:
    copy_examples(pytester)
    res = run(pytester, "-rs", "--junitxml", "junit.xml")
    res.assert_outcomes(passed=3, skipped=1)
    res.stdout.fnmatch_lines([
        "*= hil-bench =*", "*robot: simulated*",
        "SKIPPED*test_homing.py:*: needs the real robot*run on the bench with: pytest "
        "--bench-mode hw --bench-hardware LAB.yaml --bench-arm*"])
    doc = results(pytester)
    entry = {t["nodeid"]: t for t in doc["tests"]}
    loss = entry["test_link_loss.py::test_power_cut_is_reported_and_recovered"]
    assert loss["outcome"] == "passed"
    assert loss["devices"]["robot"]["use"] == "sim"
    log = (pytester.path / "out" / "traffic").glob("test_link_loss*.log")
    text = next(log).read_text()
    assert " tx   " in text and " rx   " in text and "DeviceError" in text
    # the ISO cube ran under 5g-urban: its figures are in the JUnit XML and results.json
    iso = entry["test_iso_cube.py::test_iso_cube_accuracy"]
    assert iso["network"]["profile"] == "5g-urban"
    assert {(m["subject"], m["name"]) for m in iso["measurements"]} >= {
        (p, k) for p in ("P1", "P2", "P3", "P4", "P5") for k in ("AP", "RP")}
    assert all(m["outcome"] in ("pass", "marginal") for m in iso["measurements"])
    junit = (pytester.path / "junit.xml").read_text()
    assert '<property name="P1.AP" value="0.' in junit
    assert '<property name="P3.RP.limit" value="&lt;= 0.1 mm" />' in junit
    cube_log = next((pytester.path / "out" / "traffic").glob("test_iso_cube*.log")).read_text()
    assert "profile 5g-urban" in cube_log and " net    up   45 B delay " in cube_log


def test_hw_mode_with_a_missing_robot_fails_naming_device_and_reason(
        pytester: pytest.Pytester) -> None:
    lab = real_lab(pytester.path / "lab.yaml", closed_port(), with_simulator=False)
    pytester.makepyfile(test_robot=ROBOT_TESTS)
    res = run(pytester, "--bench-mode", "hw", "--bench-hardware", str(lab))
    res.assert_outcomes(failed=2)
    res.stdout.fnmatch_lines([
        "--bench-mode hw (--bench-allow-missing skips instead): needs the real robot*MISSING "
        "(cannot connect*",
        "--bench-mode hw (--bench-allow-missing skips instead): robot not available: robot: "
        "MISSING (cannot connect*",
        "*= hil-bench =*", "*robot: MISSING (cannot connect*"])
    assert res.ret == 1


def test_hw_mode_with_a_lab_of_simulators_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_robot=ROBOT_TESTS)
    res = run(pytester, "--bench-mode", "hw")           # default lab: sim, everything simulated
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--bench-mode hw: lab sim (*sim.yaml) declares no real device*"])


def test_allow_missing_skips_with_how_to_run(pytester: pytest.Pytester) -> None:
    lab = real_lab(pytester.path / "lab.yaml", closed_port(), with_simulator=False)
    pytester.makepyfile(test_robot=ROBOT_TESTS)
    res = run(pytester, "-rs", "--bench-mode", "hw", "--bench-hardware", str(lab),
              "--bench-allow-missing")
    res.assert_outcomes(skipped=2)
    res.stdout.fnmatch_lines([
        "*robot: MISSING*",
        f"*needs the real robot*MISSING*cannot connect*run on the bench with: pytest "
        f"--bench-mode hw --bench-hardware {lab} --bench-arm*"])
    assert res.ret == 0


def test_strict_also_fails_a_test_whose_robot_fell_back(pytester: pytest.Pytester) -> None:
    lab = real_lab(pytester.path / "lab.yaml", closed_port(), with_simulator=True)
    pytester.makepyfile(test_robot=ROBOT_TESTS)
    res = run(pytester, "--bench-mode", "auto", "--bench-hardware", str(lab), "--bench-strict")
    res.assert_outcomes(failed=1, passed=1)
    res.stdout.fnmatch_lines(["--bench-strict: needs the real robot*simulated (fallback: *cannot "
                              "connect*",
                              "FAILED test_robot.py::test_needs_real_robot - Failed*"])
    assert res.ret == 1
    res = run(pytester, "--bench-mode", "auto", "--bench-hardware", str(lab), "--bench-strict",
              "--bench-allow-missing")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--bench-strict and --bench-allow-missing contradict*"])


def test_auto_mode_without_a_simulator_to_fall_back_on_fails(pytester: pytest.Pytester) -> None:
    lab = real_lab(pytester.path / "lab.yaml", closed_port(), with_simulator=False)
    pytester.makepyfile(test_robot=ROBOT_TESTS)
    res = run(pytester, "--bench-mode", "auto", "--bench-hardware", str(lab))
    res.assert_outcomes(failed=2)
    res.stdout.fnmatch_lines(["--bench-mode auto (--bench-allow-missing skips instead): needs the "
                              "real robot*MISSING (cannot connect*"])


def test_strict_from_the_environment(pytester: pytest.Pytester,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    lab = real_lab(pytester.path / "lab.yaml", closed_port(), with_simulator=False)
    pytester.makepyfile(test_robot=ROBOT_TESTS)
    monkeypatch.setenv("HIL_BENCH_MODE", "hw")
    monkeypatch.setenv("HIL_BENCH_HARDWARE", str(lab))
    monkeypatch.setenv("HIL_BENCH_STRICT", "1")
    run(pytester).assert_outcomes(failed=2)
    monkeypatch.delenv("HIL_BENCH_STRICT")
    monkeypatch.setenv("HIL_BENCH_ALLOW_MISSING", "1")
    run(pytester).assert_outcomes(skipped=2)


def test_auto_mode_falls_back_to_the_simulator_and_says_so(pytester: pytest.Pytester) -> None:
    lab = real_lab(pytester.path / "lab.yaml", closed_port(), with_simulator=True)
    pytester.makepyfile(test_robot=ROBOT_TESTS)
    res = run(pytester, "-rs", "--bench-mode", "auto", "--bench-hardware", str(lab))
    res.assert_outcomes(passed=1, skipped=1)
    res.stdout.fnmatch_lines(["*robot: simulated (fallback: *cannot connect*FELL BACK TO THE "
                              "SIMULATOR*"])
    doc = results(pytester)
    assert doc["devices"]["robot"]["fallback"] is True
    passed = [t for t in doc["tests"] if t["outcome"] == "passed"]
    assert passed[0]["devices"]["robot"]["use"] == "sim"


def test_real_robot_never_moves_unarmed(pytester: pytest.Pytester, serve_arm) -> None:
    """A Modbus server on loopback stands in for the real controller (declared simulate: false)."""
    served = serve_arm(ArmParams())
    lab = real_lab(pytester.path / "lab.yaml", served.port, with_simulator=False)
    pytester.makepyfile(test_move="""
        import pytest
        from drivers.pose import Pose
        from drivers.errors import SafetyError

        @pytest.mark.hardware("robot")
        def test_move(robot):
            robot.move_to(Pose(450, 0, 300, 180, 0, 0), 100.0)

        @pytest.mark.sim_only
        def test_fault_injection(bench):
            bench.simulator("robot")
        """)
    args = ["-rs", "--bench-mode", "hw", "--bench-hardware", str(lab)]
    res = run(pytester, *args)
    res.assert_outcomes(failed=1, skipped=1)
    res.stdout.fnmatch_lines(["*SafetyError*not armed (add --bench-arm*Nothing was sent*",
                              "*sim_only: acts on the simulator, but this run uses real robot*"])
    assert served.bindings.ack_seq == 0   # nothing was written to the controller
    res = run(pytester, *args, "--bench-arm")
    res.assert_outcomes(passed=1, skipped=1)
    # the move, then the stop the bench sends when a test leaves the robot moving
    assert served.bindings.ack_seq == 2
    log = next((pytester.path / "out" / "traffic").glob("test_move.py__test_move.log"))
    assert "still moving at the end of the test: stop sent" in log.read_text()


def test_bad_lab_file_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(robot): pass")
    res = run(pytester, "--bench-hardware", "missing.yaml")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*--bench-hardware: missing.yaml: file not found*"])
    assert "Traceback" not in res.stderr.str()


def test_plugin_is_inert_for_plain_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain(): assert 1 + 1 == 2")
    res = run(pytester)
    res.assert_outcomes(passed=1)
    assert "== hil-bench ==" not in res.stdout.str().replace("=", "==")
    assert not (pytester.path / "out").exists()


def test_workspace_and_speed_limit_refuse_before_sending(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_envelope="""
        import pytest
        from drivers.errors import SafetyError
        from drivers.pose import Pose

        def test_outside(robot):
            status = robot.read_status()
            with pytest.raises(SafetyError, match="outside the box workspace"):
                robot.move_to(Pose(900, 0, 300, 180, 0, 0), 100.0)
            with pytest.raises(SafetyError, match="exceeds the workspace limit"):
                robot.move_to(Pose(400, 0, 300, 180, 0, 0), 5000.0)
            assert robot.read_status().seq == status.seq     # no command reached the arm
        """)
    run(pytester).assert_outcomes(passed=1)
    log = next((pytester.path / "out" / "traffic").glob("test_envelope*.log")).read_text()
    assert log.count("SafetyError") == 2
    frames = [ln.split(" tx   ", 1)[1].split() for ln in log.splitlines() if " tx   " in ln]
    assert frames and all(f[7] != "10" for f in frames)   # no FC16 (write) frame was sent


def test_probe_timeout_bounds_a_silent_device(pytester: pytest.Pytester) -> None:
    """A controller that accepts the connection but never answers costs the probe timeout only."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)            # the kernel accepts; nobody ever reads or replies
        lab = real_lab(pytester.path / "lab.yaml", silent.getsockname()[1], with_simulator=True)
        pytester.makepyfile(test_robot=ROBOT_TESTS)
        res = run(pytester, "--bench-mode", "auto", "--bench-hardware", str(lab),
                  "--bench-probe-timeout", "0.2")
    res.assert_outcomes(passed=1, skipped=1)
    res.stdout.fnmatch_lines(["*robot: simulated (fallback: no answer within 0.2 s)*"])


def test_real_device_is_not_shared_by_xdist_workers(pytester: pytest.Pytester, serve_arm) -> None:
    served = serve_arm(ArmParams())
    lab = real_lab(pytester.path / "lab.yaml", served.port, with_simulator=False)
    pytester.makepyfile(test_robot=ROBOT_TESTS)
    res = run(pytester, "-n", "2", "--bench-mode", "hw", "--bench-hardware", str(lab))
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*real robot cannot be shared by several pytest-xdist workers*"])


def test_a_killed_simulator_is_back_for_the_next_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_kill="""
        import pytest

        @pytest.mark.sim_only
        def test_1_kill_and_leave(bench, robot):
            robot.read_pose()
            bench.simulator("robot").kill()

        def test_2_next_test_has_a_robot(robot):
            assert robot.read_pose().is_finite()
        """)
    run(pytester).assert_outcomes(passed=2)
