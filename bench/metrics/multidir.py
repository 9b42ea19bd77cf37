"""ISO 9283:1998 clause 7.3: multi-directional pose accuracy variation vAP.

The same command pose is approached from several directions h (usually three, parallel to the
base axes), n cycles each. With the barycentre G_h of each direction's attained positions:
  vAP_p = max over h, k of |G_h - G_k|            (mm)
  vAP_a = max over h, k of |ā_h - ā_k|            (likewise b, c; degrees)
where ā_h is the mean over direction h of the differences a_j - a_c, each wrapped to +-180 deg
(as for APa in clause 7.2.1).
This is the figure that shows backlash / lost motion, which a unidirectional AP/RP test hides.
Failure modes: ValueError with fewer than two directions or a direction without samples.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from bench.metrics.iso9283 import wrap_deg


def multidirectional_variation(by_direction: Mapping[str, np.ndarray],
                               commanded: np.ndarray | None = None) -> dict[str, float]:
    """vAP from {direction: attained (n, 3|6)}; orientation (vAPa/b/c) needs 6 columns and the
    commanded pose (6,), because angles are compared as wrapped differences from the command."""
    if len(by_direction) < 2:
        raise ValueError("vAP needs at least two approach directions")
    arrays = {}
    for name, a in by_direction.items():
        arr = np.asarray(a, dtype=float)
        if arr.ndim != 2 or len(arr) == 0:
            raise ValueError(f"direction {name!r}: no samples")
        arrays[name] = arr
    g = np.stack([a[:, :3].mean(axis=0) for a in arrays.values()])
    pair = np.linalg.norm(g[:, None, :] - g[None, :, :], axis=2)
    out = {"vAP": float(pair.max())}
    if commanded is not None and all(a.shape[1] == 6 for a in arrays.values()):
        c = np.asarray(commanded, dtype=float)[3:6]
        means = np.stack([wrap_deg(a[:, 3:6] - c).mean(axis=0) for a in arrays.values()])
        spread = means.max(axis=0) - means.min(axis=0)
        out.update(vAPa=float(spread[0]), vAPb=float(spread[1]), vAPc=float(spread[2]))
    return out
