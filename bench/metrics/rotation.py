"""Orientation helpers, vectorised with numpy: rotation matrices, quaternions, rotation vectors.

Angles follow `drivers.pose`: a, b, c in degrees as fixed-angle (extrinsic) X-Y-Z rotations, so
R = Rz(c) @ Ry(b) @ Rx(a). `orientation_error` gives the rotation vector of Rc^T @ R (the attained
orientation seen from the commanded frame), in degrees: signed small angles about the **command
frame's** x, y, z axes. That is NOT how ISO 9283 defines APa/b/c and RPa/b/c (the standard takes
differences of the pose's own angles, see `bench.metrics.iso9283`): at a = 180 deg its y and z
components have the opposite sign of the ISO figures, and at general orientations the components
mix. The bench reports it under its own name (`AP_rot`). Valid for deviations below about 170 deg.
"""
from __future__ import annotations

import numpy as np


def euler_to_matrix(abc_deg: np.ndarray) -> np.ndarray:
    """(n, 3) fixed-angle X-Y-Z angles in degrees -> (n, 3, 3) rotation matrices."""
    abc = np.radians(np.asarray(abc_deg, dtype=float).reshape(-1, 3))
    ca, cb, cc = np.cos(abc).T
    sa, sb, sc = np.sin(abc).T
    r = np.empty((len(abc), 3, 3))
    r[:, 0, 0] = cc * cb
    r[:, 0, 1] = cc * sb * sa - sc * ca
    r[:, 0, 2] = cc * sb * ca + sc * sa
    r[:, 1, 0] = sc * cb
    r[:, 1, 1] = sc * sb * sa + cc * ca
    r[:, 1, 2] = sc * sb * ca - cc * sa
    r[:, 2, 0] = -sb
    r[:, 2, 1] = cb * sa
    r[:, 2, 2] = cb * ca
    return r


def matrix_to_rotvec(r: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotation matrices -> (n, 3) rotation vectors in degrees."""
    w = 0.5 * np.stack([r[:, 2, 1] - r[:, 1, 2], r[:, 0, 2] - r[:, 2, 0],
                        r[:, 1, 0] - r[:, 0, 1]], axis=1)
    s = np.linalg.norm(w, axis=1)                       # sin(theta)
    cos = 0.5 * (r[:, 0, 0] + r[:, 1, 1] + r[:, 2, 2] - 1.0)
    theta = np.arctan2(s, cos)
    # theta / sin(theta) -> 1 as theta -> 0; guard the division for identical orientations
    scale = np.where(s > 1e-12, theta / np.where(s > 1e-12, s, 1.0), 1.0)
    return np.degrees(w * scale[:, None])


def euler_to_quaternion(abc_deg: np.ndarray) -> np.ndarray:
    """(n, 3) fixed-angle X-Y-Z angles in degrees -> (4, n) unit quaternions (w, x, y, z) of
    R = Rz(c) Ry(b) Rx(a). Returned component-major so each row is a contiguous array."""
    h = np.radians(np.asarray(abc_deg, dtype=float).reshape(-1, 3)) * 0.5
    ca, cb, cc = (np.cos(h[:, i]) for i in range(3))
    sa, sb, sc = (np.sin(h[:, i]) for i in range(3))
    cccb, sccb, ccsb, scsb = cc * cb, sc * cb, cc * sb, sc * sb
    return np.stack([cccb * ca + scsb * sa, cccb * sa - scsb * ca,
                     ccsb * ca + sccb * sa, sccb * ca - ccsb * sa])


def orientation_error(commanded_abc: np.ndarray, attained_abc: np.ndarray) -> np.ndarray:
    """Signed orientation error per row, degrees (n, 3): rotation vector of Rc^T R.

    `commanded_abc` is (n, 3) or (3,) (one command for all rows), `attained_abc` is (n, 3).
    Computed with quaternions (q_err = conj(q_c) * q), which is exact and about ten times faster
    than building rotation matrices for a million rows.
    """
    w2, x2, y2, z2 = euler_to_quaternion(attained_abc)
    w1, x1, y1, z1 = euler_to_quaternion(commanded_abc)
    x1, y1, z1 = -x1, -y1, -z1                          # conjugate of the command
    w = w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2
    x = w1 * x2 + w2 * x1 + y1 * z2 - z1 * y2
    y = w1 * y2 + w2 * y1 + z1 * x2 - x1 * z2
    z = w1 * z2 + w2 * z1 + x1 * y2 - y1 * x2
    sign = np.where(w < 0, -1.0, 1.0)                   # q and -q are the same rotation
    s = np.sqrt(x * x + y * y + z * z)
    angle = 2.0 * np.arctan2(s, np.abs(w))
    scale = sign * np.where(s > 1e-15, angle / np.where(s > 1e-15, s, 1.0), 2.0)
    return np.degrees(np.stack([x * scale, y * scale, z * scale], axis=1))
