"""Orientation conversions between the bench's fixed-angle X-Y-Z angles and rotation vectors.

`Pose` orientation a, b, c (degrees) means R = Rz(c) . Ry(b) . Rx(a) (rotations about the fixed base
axes X, then Y, then Z). Universal Robots report a rotation vector (axis x angle, radians). Both
functions are pure numpy; near the gimbal lock (b = +-90 deg) a is set to 0 and c absorbs the rest.
"""
from __future__ import annotations

import math

import numpy as np


def matrix_from_fixed_xyz(a_deg: float, b_deg: float, c_deg: float) -> np.ndarray:
    """Rotation matrix of fixed-angle X-Y-Z angles in degrees."""
    a, b, c = (math.radians(v) for v in (a_deg, b_deg, c_deg))
    ca, sa, cb, sb, cc, sc = math.cos(a), math.sin(a), math.cos(b), math.sin(b), math.cos(c), \
        math.sin(c)
    return np.array([
        [cc * cb, cc * sb * sa - sc * ca, cc * sb * ca + sc * sa],
        [sc * cb, sc * sb * sa + cc * ca, sc * sb * ca - cc * sa],
        [-sb, cb * sa, cb * ca],
    ])


def fixed_xyz_from_matrix(m: np.ndarray) -> tuple[float, float, float]:
    """Fixed-angle X-Y-Z angles (deg) of a rotation matrix; b in [-90, 90]."""
    sb = -float(m[2, 0])
    b = math.asin(max(-1.0, min(1.0, sb)))
    if abs(sb) > 1 - 1e-12:           # gimbal lock: only a +- c is defined
        a = 0.0
        c = math.atan2(-float(m[0, 1]), float(m[1, 1]))
    else:
        a = math.atan2(float(m[2, 1]), float(m[2, 2]))
        c = math.atan2(float(m[1, 0]), float(m[0, 0]))
    return math.degrees(a), math.degrees(b), math.degrees(c)


def matrix_from_rotvec(rx: float, ry: float, rz: float) -> np.ndarray:
    """Rotation matrix of a rotation vector in radians (Rodrigues)."""
    v = np.array([rx, ry, rz], dtype=float)
    theta = float(np.linalg.norm(v))
    if theta < 1e-12:
        return np.eye(3)
    k = v / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(theta) * kx + (1 - math.cos(theta)) * (kx @ kx)


def rotvec_from_matrix(m: np.ndarray) -> tuple[float, float, float]:
    """Rotation vector (radians, angle in [0, pi]) of a rotation matrix."""
    cos_t = max(-1.0, min(1.0, (float(np.trace(m)) - 1.0) / 2.0))
    theta = math.acos(cos_t)
    if theta < 1e-9:
        return 0.0, 0.0, 0.0
    if math.pi - theta < 1e-6:        # 180 deg: axis from the diagonal, sign from off-diagonals
        axis = np.sqrt(np.maximum((np.diag(m) + 1.0) / 2.0, 0.0))
        i = int(np.argmax(axis))
        for j in range(3):
            if j != i and m[i, j] < 0:
                axis[j] = -axis[j]
        axis /= np.linalg.norm(axis)
        return tuple(float(x) for x in axis * theta)  # type: ignore[return-value]
    w = np.array([m[2, 1] - m[1, 2], m[0, 2] - m[2, 0], m[1, 0] - m[0, 1]]) / (2 * math.sin(theta))
    return tuple(float(x) for x in w * theta)  # type: ignore[return-value]


def rotvec_deg_from_fixed_xyz(a: float, b: float, c: float) -> tuple[float, float, float]:
    """Fixed-angle X-Y-Z (deg) -> rotation vector with components in degrees (angle x axis)."""
    r = rotvec_from_matrix(matrix_from_fixed_xyz(a, b, c))
    return tuple(math.degrees(v) for v in r)  # type: ignore[return-value]


def fixed_xyz_from_rotvec_deg(rx: float, ry: float, rz: float) -> tuple[float, float, float]:
    """Rotation vector with components in degrees -> fixed-angle X-Y-Z (deg)."""
    return fixed_xyz_from_matrix(matrix_from_rotvec(*(math.radians(v) for v in (rx, ry, rz))))
