"""Frame registration: the instrument's frame to the robot base, and the marker on the tool.

* Point registration (rigid): paired points p_i (instrument frame) and q_i (robot base frame);
  R, t minimise sum |q_i - (R p_i + t)|^2. Closed form by SVD with the reflection fix: Umeyama,
  IEEE TPAMI 13(4):376-380, 1991 (Arun, Huang, Blostein, TPAMI 9(5), 1987, without his
  coplanar-only fallback): Sigma = (1/n) sum q'_i p'_i^T = U D V^T, S = diag(1, 1, det(U) det(V)),
  R = U S V^T, t = q_mean - R p_mean. Umeyama's scale c = tr(D S) / sigma_p^2 is reported as a
  unit check (c ~ 1000 or 25.4 means metres or inches were mixed with mm), never applied.
* FRE = RMS over the points of |q_i - (R p_i + t)|. For isotropic localisation error FLE,
  <FRE^2> ~ (1 - 2/N) <FLE^2> (Fitzpatrick, West, Maurer, IEEE TMI 17(5), 1998), so FRE is about
  the instrument's noise; it says nothing about the error at other points (TRE), so a small FRE is
  necessary, not sufficient.
* Marker on the flange at an unknown offset (hand-eye, robot-world form B_i = Y A_i X with
  A_i = T_base_flange, B_i = T_tracker_marker, X = T_flange_marker, Y = T_tracker_base): X from
  the motions (A_j^-1 A_i) X = X (B_j^-1 B_i) by Park & Martin, IEEE T-RA 10(5):717-721, 1994
  (R_X = (M^T M)^-1/2 M^T, M = sum beta alpha^T of the motions' log-rotations; t_X by least
  squares), then Y averaged over the poses.

A registration is judged before anything is judged with it: `check()` refuses (RegistrationError,
exit code 2) when the FRE is worse than the tolerance the run would judge against.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivers.errors import BenchError
from drivers.instrument.frames import inverse, matrix_of, pose_of
from drivers.pose import Pose


class RegistrationError(BenchError):
    """The registration cannot be computed, or is too poor to judge with (bad input: exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Registration:
    """T_base_instrument (4x4) with its fit figures: FRE (mm), number of points, Umeyama scale."""

    matrix: np.ndarray
    fre_mm: float = 0.0
    n: int = 0
    scale: float = 1.0
    method: str = "points"

    def to_base(self, p: np.ndarray) -> np.ndarray:
        """Instrument-frame points (n, 3) or one point (3,) in robot base coordinates, mm."""
        p = np.asarray(p, dtype=float)
        return p @ self.matrix[:3, :3].T + self.matrix[:3, 3]

    def pose_to_base(self, t_instrument_tool: np.ndarray) -> np.ndarray:
        """A 4x4 tool pose measured in the instrument frame, in the robot base frame."""
        return self.matrix @ t_instrument_tool

    @property
    def pose(self) -> Pose:
        """The instrument's pose in the robot base frame (mm, fixed-angle X-Y-Z deg)."""
        return pose_of(self.matrix)

    def as_dict(self) -> dict:
        """What a lab file saves (`instrument.registration`) and a report shows."""
        p = self.pose
        return {"pose": {"x": f"{p.x:.4f} mm", "y": f"{p.y:.4f} mm", "z": f"{p.z:.4f} mm",
                         "a": f"{p.a:.5f} deg", "b": f"{p.b:.5f} deg", "c": f"{p.c:.5f} deg"},
                "fre_mm": round(self.fre_mm, 5), "points": self.n, "method": self.method}

    @classmethod
    def from_pose(cls, pose: Pose, fre_mm: float = 0.0, n: int = 0,
                  method: str = "saved") -> "Registration":
        return cls(matrix_of(pose), fre_mm, n, 1.0, method)

    def check(self, tolerance_mm: float, what: str = "the tolerance") -> None:
        """Refuse to judge with a registration whose FRE exceeds `tolerance_mm`."""
        if abs(self.scale - 1.0) > 0.01:
            raise RegistrationError(f"registration scale {self.scale:.5g} (should be ~1): the "
                                    "point sets use different length units?")
        if not self.fre_mm <= tolerance_mm:
            raise RegistrationError(
                f"registration FRE {self.fre_mm:.4f} mm is worse than {what} "
                f"({tolerance_mm:.4f} mm): the instrument cannot judge it; re-register with more, "
                "better spread points or check the instrument")


def register_points(instrument_pts: np.ndarray, robot_pts: np.ndarray) -> Registration:
    """Rigid T_base_instrument from paired points (n, 3) in mm. RegistrationError for fewer
    than 3 pairs, mismatched shapes, non-finite values or collinear points."""
    p = np.asarray(instrument_pts, dtype=float)
    q = np.asarray(robot_pts, dtype=float)
    if p.ndim != 2 or p.shape[1] != 3 or p.shape != q.shape:
        raise RegistrationError(f"registration needs two (n, 3) point sets of the same size, got "
                                f"{p.shape} and {q.shape}")
    n = len(p)
    if n < 3:
        raise RegistrationError(f"registration needs at least 3 non-collinear points, got {n}")
    if not (np.isfinite(p).all() and np.isfinite(q).all()):
        raise RegistrationError("registration points must be finite numbers")
    pm, qm = p.mean(axis=0), q.mean(axis=0)
    pc, qc = p - pm, q - qm
    sigma = qc.T @ pc / n
    u, d, vt = np.linalg.svd(sigma)
    spread = math.sqrt(float((pc ** 2).sum()) / n)
    if spread == 0 or d[1] < 1e-9 * max(d[0], 1e-300):
        raise RegistrationError("registration points are collinear (or all the same): the "
                                "rotation about their line is undetermined")
    s = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        s[2] = -1.0                          # the reflection fix: a proper rotation, det = +1
    r = u @ np.diag(s) @ vt
    t = qm - r @ pm
    scale = float((d * s).sum()) / (spread ** 2)
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = r, t
    resid = q - (p @ r.T + t)
    fre = math.sqrt(float((resid ** 2).sum(axis=1).mean()))
    return Registration(m, fre, n, scale, "points")


def _log_rotation(r: np.ndarray) -> np.ndarray:
    c = max(-1.0, min(1.0, (float(np.trace(r)) - 1.0) / 2.0))
    theta = math.acos(c)
    if theta < 1e-12:
        return np.zeros(3)
    w = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
    return w * theta / (2 * math.sin(theta))


def hand_eye(flange_in_base: list[np.ndarray],
             marker_in_instrument: list[np.ndarray]) -> tuple[np.ndarray, Registration]:
    """(X = T_flange_marker, registration Y^-1 = T_base_instrument) from >= 3 paired 4x4 poses
    (Park & Martin for X, then Y averaged). The FRE is the RMS position residual of
    B_i vs Y A_i X. RegistrationError when the motions do not rotate about two axes."""
    a, b = list(flange_in_base), list(marker_in_instrument)
    if len(a) != len(b) or len(a) < 3:
        raise RegistrationError("hand-eye calibration needs at least 3 paired poses")
    alphas, betas, motions = [], [], []
    for i in range(1, len(a)):
        for j in range(i):
            ak = inverse(a[j]) @ a[i]
            bk = inverse(b[j]) @ b[i]
            alphas.append(_log_rotation(ak[:3, :3]))
            betas.append(_log_rotation(bk[:3, :3]))
            motions.append((ak, bk))
    m = np.zeros((3, 3))
    for al, bt in zip(alphas, betas):
        m += np.outer(bt, al)
    mtm = m.T @ m
    w, v = np.linalg.eigh(mtm)
    if w[1] < 1e-10 * max(w[2], 1e-300):
        raise RegistrationError("hand-eye calibration needs rotations about at least two "
                                "non-parallel axes")
    rx = v @ np.diag(1.0 / np.sqrt(w)) @ v.T @ m.T
    u_, _, vt_ = np.linalg.svd(rx)                  # project onto the nearest rotation
    rx = u_ @ np.diag([1.0, 1.0, np.linalg.det(u_ @ vt_)]) @ vt_
    lhs = np.vstack([ak[:3, :3] - np.eye(3) for ak, _ in motions])
    rhs = np.concatenate([rx @ bk[:3, 3] - ak[:3, 3] for ak, bk in motions])
    tx = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    x = np.eye(4)
    x[:3, :3], x[:3, 3] = rx, tx
    ys = [bi @ inverse(x) @ inverse(ai) for ai, bi in zip(a, b)]
    r_sum = np.zeros((3, 3))
    for yy in ys:
        r_sum += yy[:3, :3]
    u_, _, vt_ = np.linalg.svd(r_sum)
    y = np.eye(4)
    y[:3, :3] = u_ @ np.diag([1.0, 1.0, np.linalg.det(u_ @ vt_)]) @ vt_
    y[:3, 3] = np.mean([yy[:3, 3] for yy in ys], axis=0)
    resid = [float(np.linalg.norm((y @ ai @ x)[:3, 3] - bi[:3, 3])) for ai, bi in zip(a, b)]
    fre = math.sqrt(sum(r * r for r in resid) / len(resid))
    return x, Registration(inverse(y), fre, len(a), 1.0, "hand-eye")


def register_with_lever_arm(instrument_pts: np.ndarray, tool_in_base: list[np.ndarray],
                            iterations: int = 1000, tol_mm: float = 1e-9
                            ) -> tuple[np.ndarray, Registration]:
    """A point target (laser-tracker reflector, marker) at an unknown lever arm l on the tool:
    p_i = T_instrument_base . (T_base_tool_i . l). Alternates Umeyama for the frame with linear
    least squares for l until l moves less than `tol_mm`. Returns (l in the tool frame mm,
    T_base_instrument). RegistrationError as `register_points`, or when the tool orientations do
    not vary (l is then not observable)."""
    p = np.asarray(instrument_pts, dtype=float)
    poses = [np.asarray(t, dtype=float) for t in tool_in_base]
    if len(poses) != len(p):
        raise RegistrationError(f"{len(p)} points but {len(poses)} tool poses")
    rots = np.vstack([t[:3, :3] for t in poses])
    if np.linalg.matrix_rank(rots - np.tile(poses[0][:3, :3], (len(poses), 1)), tol=1e-6) < 3:
        raise RegistrationError("the tool orientations do not vary about two axes: a lever arm "
                                "cannot be told from the frame")
    q = np.array([t[:3, 3] for t in poses])
    lever = np.zeros(3)
    reg = register_points(p, q)
    for _ in range(iterations):
        reg = register_points(p, q + (rots @ lever).reshape(-1, 3))
        b = (reg.to_base(p) - q).reshape(-1)
        new = np.linalg.lstsq(rots, b, rcond=None)[0]
        done = float(np.linalg.norm(new - lever)) < tol_mm
        lever = new
        if done:
            break
    reg = register_points(p, q + (rots @ lever).reshape(-1, 3))
    return lever, Registration(reg.matrix, reg.fre_mm, reg.n, reg.scale, "points+lever-arm")
