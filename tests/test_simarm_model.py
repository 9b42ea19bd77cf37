"""The faithful arm simulator: profiles respect their limits, servo lag, encoder quantisation,
seeded noise, backlash, thermal drift, repeatability, and the watchdog's protective stop (also as
the Modbus driver reports it)."""
from __future__ import annotations

import time

import numpy as np
import pytest
from _simserver import SimServer

from drivers.modbus.robot import ModbusRobotArm
from drivers.modbus.transport import ModbusSettings
from drivers.pose import Pose
from drivers.robot import ArmState
from dataclasses import replace

from drivers.sim.arm import COBOT, FAULT_WATCHDOG, ArmParams, SimArm
from drivers.sim.profile import SCurve, Trapezoid

IDEAL = dict(repeatability_mm=0.0, noise_mm=0.0, encoder_mm=0.0, encoder_deg=0.0)


def _derivatives(profile, n: int = 40001):
    t = np.linspace(0.0, profile.t_total, n)
    u = np.array([profile.u(x) for x in t])
    dt = t[1] - t[0]
    v = np.diff(u) / dt
    a = np.diff(v) / dt
    return u, v, a, np.diff(a) / dt


@pytest.mark.parametrize("v,a,j", [(2.0, 10.0, 200.0), (0.5, 2.0, 10.0), (10.0, 5.0, 100.0),
                                   (10.0, 100.0, 20.0)])
def test_jerk_limited_profile_respects_all_three_limits(v, a, j) -> None:
    p = SCurve.plan(v, a, j)
    u, vel, acc, jerk = _derivatives(p)
    assert u[0] == 0.0 and u[-1] == 1.0 and np.all(np.diff(u) >= -1e-12)
    assert vel.max() <= v * 1.001 and np.abs(acc).max() <= a * 1.01
    assert np.abs(jerk[5:-5]).max() <= j * 1.05      # finite differences blur the corners
    t = Trapezoid.plan(v, a)
    assert p.t_total >= t.t_total - 1e-9              # limiting jerk never makes it faster


def test_servo_lags_the_profile_and_arrives_in_position() -> None:
    arm = SimArm(ArmParams(**IDEAL, servo_hz=10.0, servo_damping=0.7), 0.0)
    arm.move(Pose(500.0, 0.0, 300.0, 180.0, 0.0, 0.0), 500.0, 0.0)
    half = arm.motion_time() / 2
    ref_x = 400.0 + 100.0 * arm._profile.u(half)
    assert arm.true_pose(half).x < ref_x - 1.0         # behind the reference while moving
    assert arm.state(arm.motion_time()) is ArmState.MOVING   # profile done, servo not yet
    t = arm.motion_time()
    while arm.state(t) is not ArmState.ARRIVED:
        t += 0.01
        assert t < arm.motion_time() + 2.0
    assert abs(arm.true_pose(t).x - 500.0) <= arm.params.in_position_mm


def test_readings_are_quantised_and_seeded() -> None:
    def readings(seed: int) -> list[float]:
        arm = SimArm(ArmParams(seed=seed, encoder_mm=0.005, noise_mm=0.01, servo_hz=15.0), 0.0)
        return [arm.pose(0.1 * i).x for i in range(20)]
    r1, r2 = readings(4), readings(4)
    assert r1 == r2 and r1 != readings(5)
    assert all(abs(x / 0.005 - round(x / 0.005)) < 1e-6 for x in r1)
    assert np.std(r1) > 0.003                          # the noise is there


def test_backlash_makes_the_error_depend_on_the_approach_direction() -> None:
    arm = SimArm(ArmParams(**IDEAL, backlash_mm=0.04, servo_hz=0.0), 0.0)
    t = 0.0

    def visit(x: float) -> float:
        nonlocal t
        arm.move(Pose(x, 0.0, 300.0, 180.0, 0.0, 0.0), 1000.0, t)
        t += arm.motion_time() + 0.01
        return arm.true_pose(t).x
    from_below = [visit(450.0), visit(500.0)][1]
    visit(550.0)
    from_above = visit(500.0)
    assert from_above - from_below == pytest.approx(0.04, abs=1e-9)


def test_thermal_drift_grows_towards_its_amplitude() -> None:
    arm = SimArm(ArmParams(**IDEAL, drift=Pose(0.05, 0, 0.02), drift_tau_s=600.0), 0.0)
    assert arm.true_pose(0.0).x == pytest.approx(400.0)
    assert arm.true_pose(600.0).x - 400.0 == pytest.approx(0.05 * (1 - np.exp(-1)), abs=1e-9)
    assert arm.true_pose(6000.0).z - 300.0 == pytest.approx(0.02, abs=1e-5)


def test_repeatability_of_the_cobot_preset_is_about_0_03_mm() -> None:
    arm = SimArm(replace(COBOT, seed=11), 0.0)
    t, pts = 0.0, []
    for _ in range(30):
        for target in (Pose(450, 50, 350, 180, 0, 0), Pose(400, 0, 300, 180, 0, 0)):
            arm.move(target, 1000.0, t)
            while arm.state(t) is not ArmState.ARRIVED:
                t += 0.01
            t += 0.05
            pts.append(arm.pose(t).position)
    p = np.array(pts[1::2])
    d = np.linalg.norm(p - p.mean(axis=0), axis=1)
    rp = d.mean() + 3 * d.std(ddof=1)                  # ISO 9283 RP
    assert 0.015 < rp < 0.05


def test_watchdog_protective_stop_when_the_host_goes_silent() -> None:
    arm = SimArm(ArmParams(**IDEAL, watchdog_s=0.2), 0.0)
    arm.move(Pose(700.0, 0.0, 300.0, 180.0, 0.0, 0.0), 200.0, 0.0)   # a 1.5 s move
    for k in range(1, 6):
        arm.feed(0.1 * k)                              # host talking: keeps moving
    assert arm.state(0.5) is ArmState.MOVING
    assert arm.state(1.0) is ArmState.FAULT and arm.fault_code == FAULT_WATCHDOG
    x_stop = arm.true_pose(1.0).x
    assert 400.0 < x_stop < 600.0                      # stopped where it was at 0.7 s
    assert arm.true_pose(3.0).x == pytest.approx(x_stop, abs=0.5)
    arm.move(Pose(400.0, 0.0, 300.0, 180.0, 0.0, 0.0), 200.0, 3.0)
    assert arm.state(3.1) is ArmState.FAULT            # holds until reset
    arm.reset(3.2)
    arm.move(Pose(400.0, 0.0, 300.0, 180.0, 0.0, 0.0), 200.0, 3.2)
    assert arm.state(3.3) is ArmState.MOVING


def test_driver_reports_the_watchdog_stop_over_modbus() -> None:
    params = replace(COBOT, seed=1, watchdog_s=0.2)
    with SimServer("native", params) as srv:
        link = ModbusSettings(timeout_s=0.5).with_endpoint(srv.endpoint)
        with ModbusRobotArm(srv.regmap, link) as arm:
            seq = arm.move_to(Pose(650.0, 0.0, 300.0, 180.0, 0.0, 0.0), 100.0)   # 2.5 s
            time.sleep(0.1)
            assert arm.read_status().state is ArmState.MOVING
            time.sleep(0.5)                            # silence > watchdog
            st = arm.read_status()
            assert st.state is ArmState.FAULT and st.fault_code == FAULT_WATCHDOG
            assert st.seq == seq
            assert arm.read_pose().x < 450.0


def test_cobot_lab_passes_in_wire_and_virtual_mode_with_matching_accuracy(tmp_path) -> None:
    import json
    import subprocess
    import sys
    reports = {}
    for mode in ("wire", "virtual"):
        out = subprocess.run([sys.executable, "-m", "bench", "run", "--lab", "cobot", "--cycles",
                              "3", "--mode", mode, "--out", str(tmp_path / mode), "-q"],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        reports[mode] = json.loads((tmp_path / mode / "report.json").read_text())
    w, v = reports["wire"], reports["virtual"]
    assert w["verdict"] == v["verdict"] == "pass"
    for pose in w["poses"]:     # same motion draws; only reading noise and timing differ
        assert w["poses"][pose]["AP"] == pytest.approx(v["poses"][pose]["AP"], abs=0.005)
