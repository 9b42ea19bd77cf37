"""ISO 9283 AP/RP on a data set small enough to compute by hand, and the classic mistakes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from bench.metrics.iso9283 import barycentre, pose_accuracy, pose_repeatability, pose_stats

# Commanded position and four attained positions, mm.
CMD = np.array([10.0, 20.0, 30.0])
ATT = np.array([
    [11.0, 20.0, 30.0],
    [13.0, 20.0, 30.0],
    [12.0, 21.0, 30.0],
    [12.0, 19.0, 30.0],
])
# By hand: barycentre G = (12, 20, 30); AP = |G - C| = |(2, 0, 0)| = 2.
# Distances to G: l = [1, 1, 1, 1] -> l̄ = 1, S_l = 0 -> RP = 1.


def test_barycentre_and_ap_by_hand() -> None:
    assert barycentre(ATT) == pytest.approx([12.0, 20.0, 30.0])
    ap, comp = pose_accuracy(CMD, ATT)
    assert ap == pytest.approx(2.0)
    assert comp == pytest.approx([2.0, 0.0, 0.0])


def test_rp_with_equal_distances_is_the_distance() -> None:
    assert pose_repeatability(ATT) == pytest.approx(1.0)


def test_rp_uses_sample_deviation_not_population() -> None:
    # Points on the x axis around G = 0: x = -1, +1, -3, +3 -> l = [1, 1, 3, 3]
    pts = np.array([[-1.0, 0, 0], [1.0, 0, 0], [-3.0, 0, 0], [3.0, 0, 0]])
    l = np.array([1.0, 1.0, 3.0, 3.0])
    mean = 2.0
    s_sample = math.sqrt(((l - mean) ** 2).sum() / 3)      # n - 1 = 3 -> sqrt(4/3)
    s_population = math.sqrt(((l - mean) ** 2).sum() / 4)  # the classic mistake: 1.0
    rp = pose_repeatability(pts)
    assert rp == pytest.approx(mean + 3 * s_sample)
    assert rp != pytest.approx(mean + 3 * s_population)
    assert rp == pytest.approx(2.0 + 3 * math.sqrt(4 / 3))


def test_ap_is_measured_from_the_command_not_the_first_attained_point() -> None:
    ap, _ = pose_accuracy(CMD, ATT)
    # measuring from the first attained point (11, 20, 30) would give 1.0
    wrong = float(np.linalg.norm(barycentre(ATT) - ATT[0]))
    assert wrong == pytest.approx(1.0)
    assert ap == pytest.approx(2.0)


def test_ap_uses_all_three_axes() -> None:
    att = ATT + np.array([0.0, 3.0, -4.0])   # G - C = (2, 3, -4)
    ap, comp = pose_accuracy(CMD, att)
    assert ap == pytest.approx(math.sqrt(4 + 9 + 16))
    assert comp == pytest.approx([2.0, 3.0, -4.0])


def test_rp_is_nan_for_a_single_sample_and_stats_carry_n() -> None:
    assert math.isnan(pose_repeatability(ATT[:1]))
    st = pose_stats(np.r_[CMD, 0, 0, 0], np.c_[ATT, np.zeros((4, 3))])
    assert st.n == 4 and st.AP == pytest.approx(2.0) and st.RP == pytest.approx(1.0)


def test_wrong_shape_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        pose_repeatability(np.zeros((5, 2)))
