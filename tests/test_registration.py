"""Frame registration: known poses recovered, FRE as theory predicts, reflections refused,
ill-posed inputs refused, poor registrations refused before judging; hand-eye calibration."""
from __future__ import annotations

import math

import numpy as np
import pytest

from bench.registration import Registration, RegistrationError, hand_eye, register_points
from drivers.instrument.frames import inverse, matrix_of, rotation_angle_deg
from drivers.pose import Pose

TRUTH = Pose(412.3, -55.1, 1733.2, 171.3, -4.2, 33.3)        # T_base_tracker


def _points(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q = rng.uniform([200, -200, 100], [600, 200, 500], (n, 3))       # robot base, mm
    t = matrix_of(TRUTH)
    p = (q - t[:3, 3]) @ t[:3, :3]                                   # the tracker's frame
    return p, q


def _errors(reg: Registration) -> tuple[float, float]:
    t = matrix_of(TRUTH)
    dt = float(np.linalg.norm(reg.matrix[:3, 3] - t[:3, 3]))
    dr = rotation_angle_deg(reg.matrix[:3, :3].T @ t[:3, :3])
    return dt, dr


def test_recovers_a_known_pose_noiseless() -> None:
    p, q = _points(8)
    reg = register_points(p, q)
    dt, dr = _errors(reg)
    assert dt < 0.01 and dr < 0.01              # the bar; in fact ~1e-12
    assert dt < 1e-9 and dr < 1e-9 and reg.fre_mm < 1e-9
    assert reg.scale == pytest.approx(1.0, abs=1e-12)
    got = reg.pose
    assert (got.x, got.y, got.z) == pytest.approx((TRUTH.x, TRUTH.y, TRUTH.z), abs=1e-9)
    assert (got.a, got.b, got.c) == pytest.approx((TRUTH.a, TRUTH.b, TRUTH.c), abs=1e-9)


def test_fre_matches_the_configured_noise() -> None:
    """<FRE^2> = (1 - 2/N) <FLE^2>, FLE^2 = 3 sigma^2 (Fitzpatrick et al. 1998)."""
    sigma, n = 0.1, 12
    fres = []
    for seed in range(200):
        p, q = _points(n, seed)
        rng = np.random.default_rng(1000 + seed)
        fres.append(register_points(p + rng.normal(0, sigma, p.shape), q).fre_mm ** 2)
    predicted = (1 - 2 / n) * 3 * sigma ** 2
    assert np.mean(fres) == pytest.approx(predicted, rel=0.05)


def test_reflection_is_never_returned() -> None:
    p, q = _points(8)
    reg = register_points(p * np.array([1.0, 1.0, -1.0]), q)       # a mirrored point set
    assert np.linalg.det(reg.matrix[:3, :3]) == pytest.approx(1.0)
    assert reg.fre_mm > 10.0                                        # and it does not fit
    # plain V U^T would have given det -1 here
    pc, qc = p * [1, 1, -1] - (p * [1, 1, -1]).mean(0), q - q.mean(0)
    u, _, vt = np.linalg.svd(qc.T @ pc)
    assert np.linalg.det(u @ vt) == pytest.approx(-1.0)


def test_ill_posed_inputs_are_refused() -> None:
    p, q = _points(8)
    with pytest.raises(RegistrationError, match="at least 3"):
        register_points(p[:2], q[:2])
    line = np.outer(np.arange(5.0), [1.0, 2.0, 3.0])
    with pytest.raises(RegistrationError, match="collinear"):
        register_points(line, line + 5)
    with pytest.raises(RegistrationError, match="same size"):
        register_points(p, q[:5])
    with pytest.raises(RegistrationError):
        register_points(p * np.nan, q)


def test_poor_registration_refuses_to_judge() -> None:
    p, q = _points(8)
    rng = np.random.default_rng(5)
    reg = register_points(p + rng.normal(0, 0.3, p.shape), q)
    reg.check(1.0)                                   # fine against a 1 mm tolerance
    with pytest.raises(RegistrationError, match="FRE .* worse than") as info:
        reg.check(0.1, "the AP tolerance")
    assert info.value.exit_code == 2
    with pytest.raises(RegistrationError, match="units"):
        register_points(p / 1000.0, q).check(100.0)   # metres against millimetres


def test_hand_eye_recovers_marker_offset_and_tracker_pose() -> None:
    rng = np.random.default_rng(3)
    x_true = matrix_of(Pose(5.0, -3.0, 80.0, 10.0, 5.0, -20.0))     # T_flange_marker
    y_true = inverse(matrix_of(TRUTH))                             # T_tracker_base
    a = [matrix_of(Pose(*rng.uniform([250, -150, 150], [550, 150, 450]),
                        *rng.uniform(-40, 40, 3))) for _ in range(8)]
    b = [y_true @ ai @ x_true for ai in a]
    x, reg = hand_eye(a, b)
    assert np.abs(x - x_true).max() < 1e-8
    dt, dr = _errors(reg)
    assert dt < 1e-8 and dr < 1e-8 and reg.fre_mm < 1e-8 and reg.method == "hand-eye"
    with pytest.raises(RegistrationError, match="two"):
        same_axis = [matrix_of(Pose(400 + 10 * i, 0, 300, 0, 0, 20 * i)) for i in range(4)]
        hand_eye(same_axis, [y_true @ ai @ x_true for ai in same_axis])


def test_saved_registration_round_trips_through_the_lab_form() -> None:
    reg = Registration.from_pose(TRUTH, 0.08, 12)
    d = reg.as_dict()
    assert d["fre_mm"] == 0.08 and d["points"] == 12
    assert d["pose"]["x"] == "412.3000 mm" and d["pose"]["c"] == "33.30000 deg"
    pts = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 0.0]])
    assert np.allclose(reg.to_base(pts)[0], [TRUTH.x, TRUTH.y, TRUTH.z])
    assert math.isclose(float(np.linalg.norm(reg.to_base(pts)[1] - reg.to_base(pts)[0])), 10.0)
