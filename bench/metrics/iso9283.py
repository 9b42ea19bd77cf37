"""ISO 9283:1998 pose characteristics, vectorised with numpy. Positions in mm, angles in degrees.

- Pose accuracy (clause 7.2.1): the barycentre G of the n attained positions, and
  AP_p = |G - commanded|, with components AP_x = x̄ - x_c, AP_y = ȳ - y_c, AP_z = z̄ - z_c.
  It is measured from the **commanded** pose, never from the first attained one.
- Pose repeatability (clause 7.2.2): l_j = |P_j - G|, RP_l = l̄ + 3 S_l with the **sample**
  standard deviation S_l = sqrt(sum (l_j - l̄)^2 / (n - 1)).

Failure modes: ValueError for arrays of the wrong shape; fewer than 2 samples give RP = NaN
(which any limit judges as a fail).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PoseStats:
    """AP/RP figures of one commanded pose."""

    n: int
    AP: float
    APx: float
    APy: float
    APz: float
    RP: float

    def as_dict(self) -> dict[str, float | int]:
        return {"n": self.n, "AP": self.AP, "APx": self.APx, "APy": self.APy, "APz": self.APz,
                "RP": self.RP}


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
        return float("nan")
    l = np.linalg.norm(p - p.mean(axis=0), axis=1)
    return float(l.mean() + 3.0 * l.std(ddof=1))


def pose_stats(commanded: np.ndarray, attained: np.ndarray) -> PoseStats:
    """AP and RP of one pose."""
    ap, comp = pose_accuracy(commanded, attained)
    return PoseStats(n=len(_positions(attained)), AP=ap, APx=float(comp[0]),
                     APy=float(comp[1]), APz=float(comp[2]), RP=pose_repeatability(attained))
