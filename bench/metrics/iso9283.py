"""ISO 9283:1998 pose accuracy and repeatability (clause 7.2), vectorised with numpy.

Positions in mm, angles in degrees. Other characteristics live next to this module:
`distance` (7.4 AD/RD), `multidir` (7.3 vAP), `stabilisation` (7.5 / 7.6), `drift` (7.7),
`path` (8.2 AT/RT) and `timedomain` (teleoperation figures, not from the standard).

- Pose accuracy (7.2.1): the barycentre G = (x̄, ȳ, z̄) of the n attained positions and
  AP_p = |G - Pc|, with AP_x = x̄ - x_c, AP_y = ȳ - y_c, AP_z = z̄ - z_c. The reference is the
  **commanded** pose, never the first attained one nor the mean of all poses. Orientation, as the
  standard defines it on the pose's own angles a, b, c (rotations about the base X, Y, Z axes; the
  bench's angles are fixed X-Y-Z, see `drivers.pose`): AP_a = ā - a_c (likewise b, c), where ā is
  a_c plus the mean of the differences a_j - a_c, each **wrapped to +-180 deg** first (179.9 vs
  -179.9 is a 0.2 deg difference; raw angles near +-180 are never averaged).
- Pose repeatability (7.2.2): l_j = |P_j - G|, RP_l = l̄ + 3 S_l with the **sample** standard
  deviation S_l = sqrt(sum (l_j - l̄)^2 / (n - 1)); orientation RP_a = +-3 S_a (likewise b, c)
  with S_a over the wrapped differences a_j - ā (n - 1), reported as the positive half-width 3 S_a.
- `AP_rot` (not an ISO 9283 figure): the rotation from the commanded orientation to the mean
  attained orientation (angles ā, b̄, c̄ as above) as a rotation vector in the **command frame**,
  magnitude and x/y/z components, degrees. For small errors about the tool it is the better
  physical quantity (the ISO angles mix and flip sign with the tool's orientation: at a = 180 deg
  the tool's y and z axes point against the base's), which is why it is kept under its own name.
- Everything is per commanded pose; poses are never pooled (`pose_table` groups by pose name).
- `worst` (not an ISO characteristic): the largest single-visit distance |P_j - Pc|, mm, for a
  surgical "no single placement beyond 2 mm" requirement.

Failure modes: ValueError for arrays of the wrong shape or a pose name with more than one
commanded pose; fewer than 2 samples give RP = NaN (which any limit judges as a fail).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

from bench.metrics.rotation import orientation_error

NAN = float("nan")


@dataclass(frozen=True)
class PoseStats:
    """ISO 9283 figures of one commanded pose: mm for positions, degrees for orientation.

    Orientation fields are None when no orientation was measured.
    """

    n: int
    AP: float
    APx: float
    APy: float
    APz: float
    RP: float
    worst: float = NAN
    APa: float | None = None
    APb: float | None = None
    APc: float | None = None
    RPa: float | None = None
    RPb: float | None = None
    RPc: float | None = None
    AP_rot: float | None = None
    AP_rot_x: float | None = None
    AP_rot_y: float | None = None
    AP_rot_z: float | None = None

    def as_dict(self) -> dict[str, float | int]:
        """Figures as a dict; orientation keys only when measured."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    @classmethod
    def empty(cls) -> "PoseStats":
        """A pose that was never measured: NaN everywhere (fails any limit)."""
        return cls(0, NAN, NAN, NAN, NAN, NAN, NAN)


def _positions(attained: np.ndarray) -> np.ndarray:
    a = np.asarray(attained, dtype=float)
    if a.ndim != 2 or a.shape[1] < 3:
        raise ValueError(f"attained positions must be an (n, 3+) array, got shape {a.shape}")
    return a[:, :3]


def barycentre(attained: np.ndarray) -> np.ndarray:
    """Mean attained position G (x̄, ȳ, z̄), mm."""
    return _positions(attained).mean(axis=0)


def pose_accuracy(commanded: np.ndarray, attained: np.ndarray) -> tuple[float, np.ndarray]:
    """(AP_p, [AP_x, AP_y, AP_z]) in mm, from the commanded position to the barycentre."""
    c = np.asarray(commanded, dtype=float)[:3]
    d = barycentre(attained) - c
    return float(np.linalg.norm(d)), d


def pose_repeatability(attained: np.ndarray) -> float:
    """RP_l = l̄ + 3 S_l (sample deviation, n - 1), mm. NaN for fewer than 2 samples."""
    p = _positions(attained)
    if len(p) < 2:
        return NAN
    l = np.linalg.norm(p - p.mean(axis=0), axis=1)
    return float(l.mean() + 3.0 * l.std(ddof=1))


def wrap_deg(d: np.ndarray) -> np.ndarray:
    """Angle differences in degrees wrapped to [-180, 180)."""
    return np.remainder(np.asarray(d, dtype=float) + 180.0, 360.0) - 180.0


def _wrap_fast(d: np.ndarray) -> np.ndarray:
    """`wrap_deg` in place on a fresh array, with rint instead of remainder (several times
    faster on a million rows); +-180 itself may stay +180 or -180 (the same angle)."""
    t = d / 360.0
    np.rint(t, out=t)
    t *= 360.0
    d -= t
    return d


def pose_stats(commanded: np.ndarray, attained: np.ndarray) -> PoseStats:
    """AP, RP and worst single error of one pose; orientation too when both have 6 columns."""
    att = np.asarray(attained, dtype=float)
    cmd = np.broadcast_to(np.asarray(commanded, dtype=float), (len(att), np.size(commanded)))
    return pose_table(np.zeros(len(att), dtype=int), cmd, att)[0]


def _group(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unique labels, index of each label's first row, label index of every row).

    Small non-negative integer labels take a sort-free path (bincount), so a million rows
    group in milliseconds; anything else goes through np.unique.
    """
    if lab.dtype.kind in "iu" and lab.size and lab.min() >= 0 and lab.max() < 1_000_000:
        present = np.bincount(lab) > 0
        uniq = np.flatnonzero(present)
        remap = np.cumsum(present) - 1
        inv = remap[lab]
        first = np.full(len(uniq), len(lab))
        np.minimum.at(first, inv, np.arange(len(lab)))
        return uniq, first, inv
    return np.unique(lab, return_index=True, return_inverse=True)


def pose_table(labels: Sequence | np.ndarray, commanded: np.ndarray,
               attained: np.ndarray) -> dict:
    """Per-pose ISO 9283 figures for many visits at once, in one vectorised pass.

    `labels` (n,) names the commanded pose of each row (any hashable; ints are fastest),
    `commanded` and `attained` are (n, 3) positions in mm or (n, 6) poses with angles in degrees.
    Returns {label: PoseStats} in order of first appearance. Orientation figures are computed
    when both arrays have 6 columns. Raises ValueError on mismatched shapes or when one label has
    rows with different commanded poses (per-pose statistics need one command per pose).
    """
    att = np.asarray(attained, dtype=float)
    cmd = np.asarray(commanded, dtype=float)
    lab = np.asarray(labels)
    if att.ndim != 2 or att.shape[1] not in (3, 6) or cmd.shape != att.shape \
            or lab.shape != (len(att),):
        raise ValueError(f"labels (n,), commanded and attained (n, 3|6) must match: got "
                         f"{lab.shape}, {cmd.shape}, {att.shape}")
    if len(att) == 0:
        return {}
    uniq, first, inv = _group(lab)
    k = len(uniq)
    count = np.bincount(inv, minlength=k).astype(float)

    def gmean(v: np.ndarray) -> np.ndarray:
        return np.bincount(inv, weights=v, minlength=k) / count

    def gstd(v: np.ndarray, mean: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            ss = np.bincount(inv, weights=(v - mean[inv]) ** 2, minlength=k)
            return np.where(count > 1, np.sqrt(ss / np.maximum(count - 1, 1)), np.nan)

    cfirst = cmd[first]                                      # one command per pose
    # column by column on contiguous copies: every pass below reads memory in order
    a_cols = np.ascontiguousarray(att.T)
    c_cols = np.ascontiguousarray(cmd.T)
    for j in range(cmd.shape[1]):
        diff = c_cols[j] - cfirst[inv, j]
        if j >= 3:                                           # 180 and -180 deg are one angle
            diff = _wrap_fast(diff)
        bad_rows = np.flatnonzero(np.abs(diff) > 1e-6)
        if bad_rows.size:
            raise ValueError(f"pose {uniq[inv[bad_rows[0]]]!r} has more than one commanded pose")
    g = np.stack([gmean(a_cols[i]) for i in range(3)], axis=1)
    ap = g - cfirst[:, :3]
    l2 = np.zeros(len(att))
    e2 = np.zeros(len(att))
    for i in range(3):
        d = a_cols[i] - g[inv, i]
        l2 += d * d
        d = a_cols[i] - c_cols[i]
        e2 += d * d
    l = np.sqrt(l2)
    lbar = gmean(l)
    rp = lbar + 3.0 * gstd(l, lbar)
    worst = np.full(k, -np.inf)
    np.maximum.at(worst, inv, e2)
    worst = np.sqrt(worst)
    orient = None
    if att.shape[1] == 6:
        # ISO 9283 7.2: differences of the pose's own angles, each wrapped before averaging
        om = np.empty((k, 3))
        osd = np.empty((k, 3))
        for i in range(3):
            d = _wrap_fast(a_cols[3 + i] - c_cols[3 + i])
            om[:, i] = gmean(d)
            osd[:, i] = 3.0 * gstd(d, om[:, i])
        rot = orientation_error(cfirst[:, 3:], cfirst[:, 3:] + om)   # one per pose: cheap
        orient = (om, osd, rot)
    order = np.argsort(first, kind="stable")
    out = {}
    for i in order:
        extra = {}
        if orient is not None:
            om, osd, rot = orient
            extra = dict(APa=float(om[i, 0]), APb=float(om[i, 1]), APc=float(om[i, 2]),
                         RPa=float(osd[i, 0]), RPb=float(osd[i, 1]), RPc=float(osd[i, 2]),
                         AP_rot=float(np.linalg.norm(rot[i])), AP_rot_x=float(rot[i, 0]),
                         AP_rot_y=float(rot[i, 1]), AP_rot_z=float(rot[i, 2]))
        key = uniq[i].item() if hasattr(uniq[i], "item") else uniq[i]
        out[key] = PoseStats(
            n=int(count[i]), AP=float(math.hypot(*ap[i])), APx=float(ap[i, 0]),
            APy=float(ap[i, 1]), APz=float(ap[i, 2]), RP=float(rp[i]), worst=float(worst[i]),
            **extra)
    return out
