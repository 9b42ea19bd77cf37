"""ISO 9283 pose metrics against data sets small enough to compute by hand, and the classic pitfalls."""
import math

import numpy as np
import pytest

from bench.metrics.iso9283 import pose_stats, pose_table
from bench.metrics.rotation import euler_to_matrix, orientation_error


def test_ap_rp_by_hand_uses_sample_deviation():
    # G = (2,0,0); l = [2, 0, 2]; l̄ = 4/3; S (n-1) = sqrt(((2/3)^2 + (4/3)^2 + (2/3)^2) / 2)
    st = pose_stats([0, 0, 0], [[0, 0, 0], [2, 0, 0], [4, 0, 0]])
    s = math.sqrt((4 / 9 + 16 / 9 + 4 / 9) / 2)
    assert st.n == 3
    assert st.AP == pytest.approx(2.0) and st.APx == pytest.approx(2.0)
    assert st.APy == 0 and st.APz == 0
    assert st.RP == pytest.approx(4 / 3 + 3 * s)
    s_biased = math.sqrt((4 / 9 + 16 / 9 + 4 / 9) / 3)          # the ddof=0 pitfall
    assert st.RP != pytest.approx(4 / 3 + 3 * s_biased)
    assert st.worst == pytest.approx(4.0)


def test_ap_is_measured_from_the_command_not_the_first_attained_point():
    st = pose_stats([10, 0, 0], [[11, 0, 0], [13, 0, 0]])
    assert st.AP == pytest.approx(2.0)      # G = 12; from the first attained point it would be 1


def test_rp_is_per_pose_not_pooled():
    labels = ["P1", "P1", "P2", "P2"]
    cmd = np.array([[0, 0, 0], [0, 0, 0], [100, 0, 0], [100, 0, 0]], float)
    att = cmd + np.array([[0.1, 0, 0], [-0.1, 0, 0], [0, 0.1, 0], [0, -0.1, 0]])
    table = pose_table(labels, cmd, att)
    assert list(table) == ["P1", "P2"]
    for st in table.values():               # l = [0.1, 0.1], S = 0
        assert st.RP == pytest.approx(0.1)
        assert st.AP == pytest.approx(0.0, abs=1e-12)
    pooled = pose_stats([50, 0, 0], att)    # what pooling would say: dominated by the 100 mm span
    assert pooled.RP > 40


def test_one_label_with_two_commands_is_refused():
    with pytest.raises(ValueError, match="P1"):
        pose_table(["P1", "P1"], [[0, 0, 0], [1, 0, 0]], [[0, 0, 0], [1, 0, 0]])


def test_rp_nan_below_two_samples():
    assert math.isnan(pose_stats([0, 0, 0], [[1, 0, 0]]).RP)


def test_orientation_signed_and_wraps_at_180():
    cmd = [0, 0, 0, 180.0, 0, 0]
    att = [[0, 0, 0, 179.9, 0, 0], [0, 0, 0, -179.8, 0, 0]]    # errors -0.1 and +0.2 about x
    st = pose_stats(cmd, att)
    assert st.APa == pytest.approx(0.05, abs=1e-9)             # naive Euler mean gives -179.95
    assert st.RPa == pytest.approx(3 * np.std([-0.1, 0.2], ddof=1), abs=1e-9)
    assert st.APb == pytest.approx(0, abs=1e-9) and st.APc == pytest.approx(0, abs=1e-9)
    neg = pose_stats(cmd, [[0, 0, 0, 179.9, 0, 0], [0, 0, 0, 179.7, 0, 0]])
    assert neg.APa == pytest.approx(-0.2, abs=1e-9)            # unsigned angles would give +0.2


def test_orientation_error_axes_in_command_frame():
    # attained = commanded rotated by 0.5 deg about the commanded frame's z axis
    rc = euler_to_matrix([[30.0, -20.0, 45.0]])[0]
    rz = euler_to_matrix([[0, 0, 0.5]])[0]
    r = rc @ rz
    # recover a, b, c of r (fixed X-Y-Z): b = -asin(r20), a = atan2(r21, r22), c = atan2(r10, r00)
    b = -math.degrees(math.asin(r[2, 0]))
    a = math.degrees(math.atan2(r[2, 1], r[2, 2]))
    c = math.degrees(math.atan2(r[1, 0], r[0, 0]))
    err = orientation_error([30.0, -20.0, 45.0], [[a, b, c]])[0]
    assert err == pytest.approx([0, 0, 0.5], abs=1e-9)


def test_table_with_orientation_matches_single_pose():
    rng = np.random.default_rng(3)
    cmd = np.tile([400, 0, 300, 180, 0, 0], (30, 1)).astype(float)
    att = cmd + rng.normal(0, 0.02, cmd.shape)
    one = pose_stats(cmd[0], att)
    tab = pose_table(np.zeros(30, int), cmd, att)[0]
    assert one == tab
    assert set(one.as_dict()) >= {"APa", "APb", "APc", "RPa", "RPb", "RPc"}
