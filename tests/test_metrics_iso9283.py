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


# --- orientation as ISO 9283 7.2.1 / 7.2.2 define it, computed by hand -------------------------

def test_iso_orientation_tool_down_by_hand():
    """a = 180 deg (tool pointing down), the most common tool orientation."""
    cmd = [400, 0, 300, 180.0, 0.0, 0.0]
    att = [[400, 0, 300, 179.8, 0.10, -0.05],      # a - a_c wraps: -0.2
           [400, 0, 300, -179.9, 0.30, 0.05],      # +0.1 (not -359.9)
           [400, 0, 300, 179.9, -0.10, 0.15]]      # -0.1
    st = pose_stats(cmd, att)
    # a: differences -0.2, 0.1, -0.1 -> mean -1/15; deviations -2/15, 1/6, -1/30
    assert st.APa == pytest.approx(-1 / 15, abs=1e-12)
    assert st.RPa == pytest.approx(math.sqrt(21) / 10, abs=1e-12)    # 3 sqrt((42/900) / 2)
    # b: 0.1, 0.3, -0.1 -> mean 0.1, deviations 0, 0.2, -0.2 -> S 0.2
    assert st.APb == pytest.approx(0.1, abs=1e-12) and st.RPb == pytest.approx(0.6, abs=1e-12)
    # c: -0.05, 0.05, 0.15 -> mean 0.05, deviations -0.1, 0, 0.1 -> S 0.1
    assert st.APc == pytest.approx(0.05, abs=1e-12) and st.RPc == pytest.approx(0.3, abs=1e-12)
    # the command-frame rotation vector (not ISO) sees b and c with the opposite sign here
    assert st.AP_rot_y == pytest.approx(-0.1, abs=1e-4)
    assert st.AP_rot_z == pytest.approx(-0.05, abs=1e-4)
    assert st.AP_rot == pytest.approx(math.sqrt(st.AP_rot_x ** 2 + 0.1 ** 2 + 0.05 ** 2), abs=1e-4)


def test_iso_orientation_general_pose_by_hand():
    cmd = [0, 0, 0, 30.0, -20.0, 45.0]
    att = [[0, 0, 0, 30.2, -19.9, 44.7], [0, 0, 0, 29.9, -20.3, 45.1]]
    st = pose_stats(cmd, att)
    # two samples: mean of the two differences; S = |d1 - d2| / sqrt(2)
    assert (st.APa, st.APb, st.APc) == pytest.approx((0.05, -0.1, -0.1), abs=1e-12)
    assert st.RPa == pytest.approx(3 * 0.3 / math.sqrt(2), abs=1e-12)
    assert st.RPb == pytest.approx(3 * 0.4 / math.sqrt(2), abs=1e-12)
    assert st.RPc == pytest.approx(3 * 0.4 / math.sqrt(2), abs=1e-12)
    # at a general orientation the tool-frame rotation vector mixes the components
    rot = (st.AP_rot_x, st.AP_rot_y, st.AP_rot_z)
    assert rot != pytest.approx((st.APa, st.APb, st.APc), abs=0.01)
    assert st.AP_rot == pytest.approx(math.hypot(*rot), abs=1e-12)


def test_iso_orientation_across_the_wrap_by_hand():
    # c commanded at 179.95; attained on both sides of +-180
    cmd = [0, 0, 0, -180.0, 0.0, 179.95]
    att = [[0, 0, 0, 180.0, 0.0, -179.95],         # c - c_c = +0.1; a: -180 and 180 are equal
           [0, 0, 0, 180.0, 0.0, 179.85],          # -0.1
           [0, 0, 0, -180.0, 0.0, -179.85]]        # +0.2
    st = pose_stats(cmd, att)
    assert st.APc == pytest.approx(0.2 / 3, abs=1e-9)
    assert st.RPc == pytest.approx(3 * np.std([0.1, -0.1, 0.2], ddof=1), abs=1e-9)
    assert st.APa == pytest.approx(0, abs=1e-12) and st.RPa == pytest.approx(0, abs=1e-12)
    # a naive mean of the raw angles would put c near 60 deg, and 360 deg jumps in S
    assert abs(np.mean([-179.95, 179.85, -179.85]) - 179.95) > 100


def test_table_orientation_matches_bare_numpy():
    rng = np.random.default_rng(9)
    labels = np.arange(300) % 3
    centres = np.array([[0, 0, 0, 180, 0, -179.9], [1, 0, 0, 10, 20, 30], [2, 0, 0, -179.99, 5, 90]])
    cmd = centres[labels]
    att = cmd + rng.normal(0, 0.05, cmd.shape)
    att[:, 3:] = (att[:, 3:] + 180) % 360 - 180          # as a controller reports them
    table = pose_table(labels, cmd, att)
    for k in range(3):
        d = (att[labels == k, 3:] - centres[k, 3:] + 180) % 360 - 180
        st = table[k]
        assert (st.APa, st.APb, st.APc) == pytest.approx(tuple(d.mean(0)), abs=1e-12)
        assert (st.RPa, st.RPb, st.RPc) == pytest.approx(tuple(3 * d.std(0, ddof=1)), abs=1e-12)
