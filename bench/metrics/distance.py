"""ISO 9283:1998 clause 7.4: distance accuracy AD and distance repeatability RD.

Two command poses Pc1, Pc2 (normally P2 and P4) are visited n times; cycle j attains P1j, P2j.
  D_j = |P1j - P2j|,  Dc = |Pc1 - Pc2|,  D̄ = (1/n) sum D_j
  AD_p = D̄ - Dc                          (signed, mm)
  AD_x = D̄_x - Dc_x with D_xj = x1j - x2j (likewise y, z)
  RD   = 3 S_D,  S_D = sqrt(sum (D_j - D̄)^2 / (n - 1))   (reported as the half-width of +-3 S_D)
The reference is the **commanded** distance, not the distance between the first attained points.
Failure modes: ValueError when the arrays differ in shape; RD is NaN below 2 cycles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DistanceStats:
    """AD (signed) and RD of one pair of poses, mm."""

    n: int
    AD: float
    ADx: float
    ADy: float
    ADz: float
    RD: float

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def distance_stats(cmd1: np.ndarray, cmd2: np.ndarray, att1: np.ndarray,
                   att2: np.ndarray) -> DistanceStats:
    """AD/RD from commanded positions (3,) and attained positions (n, 3+) paired by cycle."""
    p1 = np.asarray(att1, dtype=float)[:, :3]
    p2 = np.asarray(att2, dtype=float)[:, :3]
    if p1.shape != p2.shape:
        raise ValueError(f"attained arrays must pair up cycle by cycle: {p1.shape} vs {p2.shape}")
    dc_vec = np.asarray(cmd1, dtype=float)[:3] - np.asarray(cmd2, dtype=float)[:3]
    d_vec = p1 - p2
    d = np.linalg.norm(d_vec, axis=1)
    comp = d_vec.mean(axis=0) - dc_vec
    rd = float(3.0 * d.std(ddof=1)) if len(d) > 1 else float("nan")
    return DistanceStats(n=len(d), AD=float(d.mean() - np.linalg.norm(dc_vec)),
                         ADx=float(comp[0]), ADy=float(comp[1]), ADz=float(comp[2]), RD=rd)
