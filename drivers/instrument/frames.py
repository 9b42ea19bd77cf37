"""Rigid transforms as 4x4 numpy matrices, between `Pose` (mm, fixed-angle X-Y-Z degrees) and
instrument frames. ``T_a_b`` maps coordinates in frame b to frame a (p_a = T_a_b @ p_b)."""
from __future__ import annotations

import math

import numpy as np

from drivers.pose import Pose
from drivers.rotation import fixed_xyz_from_matrix, matrix_from_fixed_xyz


def matrix_of(pose: Pose) -> np.ndarray:
    """The 4x4 transform of `pose` (rotation Rz(c) Ry(b) Rx(a), translation x, y, z mm)."""
    t = np.eye(4)
    t[:3, :3] = matrix_from_fixed_xyz(pose.a, pose.b, pose.c)
    t[:3, 3] = (pose.x, pose.y, pose.z)
    return t


def pose_of(t: np.ndarray) -> Pose:
    """The `Pose` of a 4x4 rigid transform."""
    r = t[:3, :3]
    m = tuple(tuple(float(v) for v in row) for row in r)
    a, b, c = fixed_xyz_from_matrix(m)  # type: ignore[arg-type]
    return Pose(float(t[0, 3]), float(t[1, 3]), float(t[2, 3]), a, b, c)


def inverse(t: np.ndarray) -> np.ndarray:
    """Inverse of a rigid 4x4 transform."""
    out = np.eye(4)
    r = t[:3, :3]
    out[:3, :3] = r.T
    out[:3, 3] = -r.T @ t[:3, 3]
    return out


def rotation_angle_deg(r: np.ndarray) -> float:
    """Angle (deg, 0..180) of the rotation `r` (3x3)."""
    c = (float(np.trace(r[:3, :3])) - 1.0) / 2.0
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))
