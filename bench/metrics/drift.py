"""ISO 9283:1998 clause 7.7: drift of pose characteristics.

Over a long run of cycles (the standard uses about 8 h from a cold start), AP and RP are computed
for the first and the last block of cycles, and
  dAP = |AP(first) - AP(last)|,   dRP = |RP(first) - RP(last)|      (mm)
where AP and RP follow clause 7.2 (see `iso9283`). The block size is a parameter (ISO evaluates
blocks of cycles at the start and at the end of the drift run).
Failure modes: ValueError when fewer than 2 * block cycles are given.
"""
from __future__ import annotations

import numpy as np

from bench.metrics.iso9283 import pose_stats


def drift(commanded: np.ndarray, attained_in_order: np.ndarray, block: int) -> dict[str, float]:
    """dAP and dRP of one pose from its attained positions (n, 3+) in cycle order, mm."""
    a = np.asarray(attained_in_order, dtype=float)
    if block < 2 or len(a) < 2 * block:
        raise ValueError(f"drift needs at least 2 x {block} cycles (block >= 2), got {len(a)}")
    c = np.asarray(commanded, dtype=float)[:3]
    first = pose_stats(c, a[:block, :3])
    last = pose_stats(c, a[-block:, :3])
    return {"dAP": abs(first.AP - last.AP), "dRP": abs(first.RP - last.RP),
            "AP_first": first.AP, "AP_last": last.AP, "RP_first": first.RP, "RP_last": last.RP}
