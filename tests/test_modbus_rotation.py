"""Rotation-vector <-> fixed-angle X-Y-Z conversions used by the UR map (orientation:
rotation_vector), including the 180-degree cases a tool pointing down produces."""
from __future__ import annotations

import math
import random

import pytest

from drivers.rotation import (fixed_xyz_from_rotvec_deg, matrix_from_fixed_xyz,
                              rotvec_deg_from_fixed_xyz)


def _same_rotation(p: tuple, q: tuple) -> float:
    m1, m2 = matrix_from_fixed_xyz(*p), matrix_from_fixed_xyz(*q)
    return max(abs(m1[i][j] - m2[i][j]) for i in range(3) for j in range(3))


def test_round_trip_over_random_orientations_and_near_180_degrees() -> None:
    rng = random.Random(5)
    cases = [(rng.uniform(-180, 180), rng.uniform(-89.9, 89.9), rng.uniform(-180, 180))
             for _ in range(3000)]
    cases += [(a, 0.0, c) for a in (180.0, -180.0, 179.999, 0.0, 90.0)
              for c in (0.0, 90.0, 180.0, -90.0, 0.001)]
    for p in cases:
        back = fixed_xyz_from_rotvec_deg(*rotvec_deg_from_fixed_xyz(*p))
        assert _same_rotation(p, back) < 1e-9, p


def test_known_values() -> None:
    # tool pointing down: 180 deg about X is the rotation vector (pi, 0, 0)
    assert rotvec_deg_from_fixed_xyz(180.0, 0.0, 0.0) == pytest.approx((180.0, 0.0, 0.0))
    # 90 deg about Z
    assert rotvec_deg_from_fixed_xyz(0.0, 0.0, 90.0) == pytest.approx((0.0, 0.0, 90.0))
    # a rotation vector's length is the angle: 3.142 rad ~ 180.0 deg
    rx = math.degrees(3.142)
    a, b, c = fixed_xyz_from_rotvec_deg(rx, 0.0, 0.0)
    assert abs(abs(a) - 180.0) < 0.03 and abs(b) < 1e-9 and abs(c) < 1e-9
