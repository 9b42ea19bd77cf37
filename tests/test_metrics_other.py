"""AD/RD, vAP, drift, stabilisation/overshoot, AT/RT and time-domain figures on hand-made data."""
import math

import numpy as np
import pytest

from bench.metrics.distance import distance_stats
from bench.metrics.drift import drift
from bench.metrics.multidir import multidirectional_variation
from bench.metrics.path import path_stats
from bench.metrics.stabilisation import stabilisation
from bench.metrics.timedomain import move_figures


def test_distance_accuracy_from_commanded_distance():
    p2 = np.array([[0, 0, 0], [0, 0, 0]], float)
    p4 = np.array([[100.1, 0, 0], [100.3, 0, 0]], float)
    st = distance_stats([100, 0, 0], [0, 0, 0], p4, p2)
    assert st.AD == pytest.approx(0.2)          # D̄ - Dc; against D_1 it would be 0.1
    assert st.ADx == pytest.approx(0.2)
    assert st.RD == pytest.approx(3 * math.sqrt(0.02))     # S with n - 1: sqrt(0.02 / 1)


def test_vap_largest_barycentre_distance():
    out = multidirectional_variation({
        "x": np.array([[0.1, 0, 0], [-0.1, 0, 0]]),
        "y": np.array([[0.3, 0, 0], [0.3, 0, 0]]),
        "z": np.array([[0, 0.4, 0], [0, 0.4, 0]])})
    assert out["vAP"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        multidirectional_variation({"x": np.zeros((2, 3))})


def test_drift_first_and_last_block():
    a = np.zeros((6, 3))
    a[3:, 0] = 0.3                                  # the last block drifted 0.3 mm in x
    out = drift([0, 0, 0], a, block=3)
    assert out["dAP"] == pytest.approx(0.3) and out["dRP"] == pytest.approx(0.0)
    with pytest.raises(ValueError):
        drift([0, 0, 0], a, block=4)


def test_stabilisation_time_and_overshoot():
    t = np.arange(6.0)
    x = np.array([5, 0.05, -0.3, 0.02, 0.01, 0.0])
    p = np.stack([x, np.zeros(6), np.zeros(6)], axis=1)
    st = stabilisation(t, p, band_mm=0.1)
    assert st.t_first_entry_s == 1 and st.stabilisation_s == 2 and st.settled_at_s == 3
    assert st.overshoot_mm == pytest.approx(0.3)
    calm = stabilisation(t, np.stack([np.array([5, 1, 0.05, 0.02, 0.01, 0.0]),
                                      np.zeros(6), np.zeros(6)], axis=1), band_mm=0.1)
    assert calm.stabilisation_s == 0 and calm.overshoot_mm == 0


def test_stabilisation_never_settled_is_nan():
    t = np.arange(4.0)
    p = np.array([[0, 0, 0], [1, 0, 0], [0, 0, 0], [1, 0, 0]], float)
    st = stabilisation(t, p, band_mm=0.1, final=np.array([0, 0, 0]))
    assert math.isnan(st.stabilisation_s)


def test_move_figures_by_hand():
    t = np.arange(6) * 0.1
    x = np.array([0, 5, 10.4, 9.8, 10.05, 10.0])
    p = np.stack([x, np.zeros(6), np.zeros(6)], axis=1)
    f = move_figures(t, p, [0, 0, 0], [10, 0, 0], band_mm=0.1)
    assert f.time_to_target_s == pytest.approx(0.4)
    assert f.settling_s == pytest.approx(0.4)
    assert f.overshoot_mm == pytest.approx(0.4)
    assert f.corrective_moves == 2
    assert f.excursion_mm == pytest.approx(0.4)
    assert f.final_error_mm == pytest.approx(0.0)


def test_move_figures_static_offset_is_not_overshoot():
    t = np.arange(4) * 0.1
    x = np.array([0, 5, 10.3, 10.3])            # arrives 0.3 mm past the command and stays
    p = np.stack([x, np.zeros(4), np.zeros(4)], axis=1)
    f = move_figures(t, p, [0, 0, 0], [10, 0, 0], band_mm=0.1)
    assert f.overshoot_mm == 0 and f.corrective_moves == 0
    assert f.final_error_mm == pytest.approx(0.3)


def test_move_figures_not_settled_is_nan():
    t = np.arange(4) * 0.1
    p = np.array([[0, 0, 0], [12, 0, 0], [8, 0, 0], [12, 0, 0]], float)
    f = move_figures(t, p, [0, 0, 0], [10, 0, 0], band_mm=0.1, final=np.array([10, 0, 0]))
    assert math.isnan(f.settling_s) and math.isnan(f.time_to_target_s)
    assert f.overshoot_mm == pytest.approx(2.0)


def test_path_accuracy_uses_normal_planes_not_time_index():
    cmd = np.stack([np.linspace(0, 10, 11), np.zeros(11), np.zeros(11)], axis=1)
    x1 = np.arange(-0.5, 10.51, 0.25)
    x2 = np.arange(-0.9, 10.91, 0.1)               # other sampling: equal indices disagree
    a1 = np.stack([x1, np.full_like(x1, 0.1), np.zeros_like(x1)], axis=1)
    a2 = np.stack([x2, np.full_like(x2, 0.3), np.zeros_like(x2)], axis=1)
    out = path_stats(cmd, [a1, a2])
    assert out["AT"] == pytest.approx(0.2)         # mean offset 0.2 in y
    assert out["RT"] == pytest.approx(0.1)         # l = 0.1 each, S = 0


def test_path_that_stops_short_is_nan():
    cmd = np.stack([np.linspace(0, 10, 11), np.zeros(11), np.zeros(11)], axis=1)
    x = np.linspace(-1, 5, 30)
    a = np.stack([x, np.zeros_like(x), np.zeros_like(x)], axis=1)
    assert math.isnan(path_stats(cmd, [a, a])["AT"])
