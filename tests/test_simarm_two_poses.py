"""The simulated arm's two poses: what the controller reports (its belief) and where the tool
really is (calibration error, base rotation/scale, deflection, drift), checked by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

from drivers.pose import Pose
from drivers.sim.arm import COBOT, ArmParams, SimArm
from drivers.sim.params import arm_params_from_section
from drivers.config import Section

HOME = Pose(400.0, 100.0, 300.0, 180.0, 0.0, 0.0)


def test_reported_pose_never_contains_the_systematic_errors() -> None:
    p = ArmParams(home=HOME, offset=Pose(0.2, -0.1, 0.05, 0.01, 0.0, 0.0),
                  base_rotation_deg=(0.0, 0.0, 0.02), scale_ppm=100.0, deflection_mm_per_m=0.5,
                  drift=Pose(0.03, 0.0, 0.0), drift_tau_s=100.0)
    arm = SimArm(p, 0.0)
    arm.move(Pose(450.0, 100.0, 300.0, 180.0, 0.0, 0.0), 500.0, 0.0)
    t = 50.0
    rep = arm.pose(t)
    assert (rep.x, rep.y, rep.z) == pytest.approx((450.0, 100.0, 300.0), abs=0.03)  # scatter
    belief = arm.belief_pose(t)
    true = arm.true_pose(t)
    # by hand: rotate about z by 0.02 deg, scale by 1 + 100e-6, add offset, sag, drift
    c, s = math.cos(math.radians(0.02)), math.sin(math.radians(0.02))
    k = 1 + 100e-6
    x = (c * belief.x - s * belief.y) * k + 0.2 + 0.03 * (1 - math.exp(-t / 100.0))
    y = (s * belief.x + c * belief.y) * k - 0.1
    z = belief.z * k + 0.05 - 0.5 * math.hypot(belief.x, belief.y) / 1000.0
    assert (true.x, true.y, true.z) == pytest.approx((x, y, z), abs=1e-9)
    assert true.c == pytest.approx(belief.c + 0.02, abs=1e-9)
    assert abs(((true.a - belief.a - 0.01) + 180) % 360 - 180) < 1e-9


def test_an_ideal_arm_has_one_pose() -> None:
    arm = SimArm(ArmParams(home=HOME, repeatability_mm=0.0), 0.0)
    arm.move(Pose(420.0, 90.0, 310.0, 180.0, 0.0, 10.0), 500.0, 0.0)
    assert arm.true_pose(5.0) == arm.belief_pose(5.0) == arm.pose(5.0)


def test_cobot_preset_misses_by_a_realistic_amount() -> None:
    """Field figures for uncalibrated arms: 0.2-2 mm (shared/reference/accuracy.md 2.3)."""
    arm = SimArm(ArmParams(**{**COBOT.__dict__, "watchdog_s": 0.0}), 0.0)   # no host here
    errors = []
    for i, target in enumerate([Pose(x, y, z, 180, 0, 0) for x in (300, 500) for y in (-100, 100)
                                for z in (200, 400)]):
        arm.move(target, 250.0, 10.0 * i)
        t = 10.0 * i + 9.0
        errors.append(arm.true_pose(t).distance_to(arm.belief_pose(t)))
    assert 0.3 < min(errors) and max(errors) < 1.5
    assert max(errors) - min(errors) > 0.05      # not a constant: rotation, scale, sag vary


def test_lab_keys_for_the_error_field() -> None:
    sec = Section({"base_rotation": {"c": "0.02 deg"}, "scale": "120 ppm",
                   "deflection": "0.4 mm/m", "offset": {"x": "0.3 mm"}}, "lab.yaml")
    p = arm_params_from_section(sec)
    assert p.base_rotation_deg == (0.0, 0.0, 0.02) and p.scale_ppm == 120.0
    assert p.deflection_mm_per_m == 0.4 and p.offset.x == 0.3 and p.has_systematic_error
    assert not ArmParams().has_systematic_error
    assert np.isfinite(COBOT.scale_ppm)
