"""Orientation conversions between the bench's fixed-angle X-Y-Z angles and rotation vectors.

`Pose` orientation a, b, c (degrees) means R = Rz(c) . Ry(b) . Rx(a) (rotations about the fixed base
axes X, then Y, then Z). Universal Robots report a rotation vector (axis x angle, radians). Plain
math on 3x3 nested lists (tuples): this runs on every pose read, and numpy's per-call overhead is
larger than the arithmetic. Near the gimbal lock (b = +-90 deg) a is set to 0 and c absorbs the rest.
"""
from __future__ import annotations

import math

Matrix = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


def matrix_from_fixed_xyz(a_deg: float, b_deg: float, c_deg: float) -> Matrix:
    """Rotation matrix of fixed-angle X-Y-Z angles in degrees."""
    a, b, c = math.radians(a_deg), math.radians(b_deg), math.radians(c_deg)
    ca, sa, cb, sb, cc, sc = math.cos(a), math.sin(a), math.cos(b), math.sin(b), math.cos(c), \
        math.sin(c)
    return ((cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa),
            (sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa),
            (-sb, cb * sa, cb * ca))


def fixed_xyz_from_matrix(m: Matrix) -> tuple[float, float, float]:
    """Fixed-angle X-Y-Z angles (deg) of a rotation matrix; b in [-90, 90]."""
    sb = -m[2][0]
    b = math.asin(max(-1.0, min(1.0, sb)))
    if abs(sb) > 1 - 1e-12:           # gimbal lock: only a +- c is defined
        a = 0.0
        c = math.atan2(-m[0][1], m[1][1])
    else:
        a = math.atan2(m[2][1], m[2][2])
        c = math.atan2(m[1][0], m[0][0])
    return math.degrees(a), math.degrees(b), math.degrees(c)


def matrix_from_rotvec(rx: float, ry: float, rz: float) -> Matrix:
    """Rotation matrix of a rotation vector in radians (Rodrigues)."""
    theta = math.sqrt(rx * rx + ry * ry + rz * rz)
    if theta < 1e-12:
        return ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    x, y, z = rx / theta, ry / theta, rz / theta
    s, c = math.sin(theta), math.cos(theta)
    t = 1.0 - c
    return ((c + x * x * t, x * y * t - z * s, x * z * t + y * s),
            (y * x * t + z * s, c + y * y * t, y * z * t - x * s),
            (z * x * t - y * s, z * y * t + x * s, c + z * z * t))


def rotvec_from_matrix(m: Matrix) -> tuple[float, float, float]:
    """Rotation vector (radians, angle in [0, pi]) of a rotation matrix."""
    cos_t = max(-1.0, min(1.0, (m[0][0] + m[1][1] + m[2][2] - 1.0) / 2.0))
    theta = math.acos(cos_t)
    if theta < 1e-9:
        return 0.0, 0.0, 0.0
    if math.pi - theta < 1e-2:
        # near 180 deg sin(theta) vanishes: take the axis from the symmetric part
        # (R + R^T)/2 - cos(theta) I = (1 - cos(theta)) k k^T, the sign from the antisymmetric part
        one_c = 1.0 - cos_t
        i = max(range(3), key=lambda n: m[n][n])
        ki = math.sqrt(max((m[i][i] - cos_t) / one_c, 0.0))
        w = (m[2][1] - m[1][2], m[0][2] - m[2][0], m[1][0] - m[0][1])
        if w[i] < 0:
            ki = -ki
        axis = [((m[i][j] + m[j][i]) / 2.0) / (one_c * ki) if j != i else ki for j in range(3)]
        n = math.sqrt(sum(v * v for v in axis))
        return axis[0] / n * theta, axis[1] / n * theta, axis[2] / n * theta
    k = theta / (2 * math.sin(theta))
    return (m[2][1] - m[1][2]) * k, (m[0][2] - m[2][0]) * k, (m[1][0] - m[0][1]) * k


def rotvec_deg_from_fixed_xyz(a: float, b: float, c: float) -> tuple[float, float, float]:
    """Fixed-angle X-Y-Z (deg) -> rotation vector with components in degrees (angle x axis)."""
    r = rotvec_from_matrix(matrix_from_fixed_xyz(a, b, c))
    return math.degrees(r[0]), math.degrees(r[1]), math.degrees(r[2])


def fixed_xyz_from_rotvec_deg(rx: float, ry: float, rz: float) -> tuple[float, float, float]:
    """Rotation vector with components in degrees -> fixed-angle X-Y-Z (deg)."""
    return fixed_xyz_from_matrix(matrix_from_rotvec(math.radians(rx), math.radians(ry),
                                                    math.radians(rz)))
