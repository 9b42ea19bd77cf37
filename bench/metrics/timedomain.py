"""Time-domain figures of one move, for teleoperation under delay (not ISO 9283 characteristics).

Inputs: sample times in seconds from the moment the move was commanded, attained positions (mm),
the start and commanded target positions, and a band (mm). The reference for "arrived" is the
final attained position (as in ISO 9283 clause 7.5), so a static offset (which AP reports) does
not count as overshoot or as a failure to settle.
- time_to_target_s: first time the point is within the band of the final position;
- settling_s: time after which it stays within the band (NaN if it is outside at the end);
- overshoot_mm: how far the point went beyond the final position along the approach direction
  (start -> target), >= 0; the quantity a drill guide next to bone must keep small;
- corrective_moves: reversals of the motion along the approach direction larger than the band
  (each one is a correction: an operator's move-and-wait step or a loop's oscillation);
- excursion_mm: largest distance from the commanded straight segment start -> target (the
  "largest excursion while streaming");
- final_error_mm: distance of the final position from the commanded target.
Failure modes: ValueError on mismatched arrays; NaN figures when the point never settles.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MoveFigures:
    """Figures of one move; seconds and millimetres."""

    time_to_target_s: float
    settling_s: float
    overshoot_mm: float
    corrective_moves: int
    excursion_mm: float
    final_error_mm: float

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def _reversals(s: np.ndarray, hysteresis: float) -> int:
    """Direction reversals of a 1-D signal larger than `hysteresis` (peak counting)."""
    count, direction, extreme = 0, 0, float(s[0])
    for v in s[1:].tolist():
        if direction == 0:
            if abs(v - extreme) > hysteresis:
                direction, extreme = (1 if v > extreme else -1), v
        elif direction * (v - extreme) > 0:          # still going the same way
            extreme = v
        elif abs(v - extreme) > hysteresis:          # turned back by more than the band
            count, direction, extreme = count + 1, -direction, v
    return count


def move_figures(t_s: np.ndarray, positions: np.ndarray, start: np.ndarray, target: np.ndarray,
                 band_mm: float, final: np.ndarray | None = None) -> MoveFigures:
    """Time-domain figures of one move (see the module docstring for definitions)."""
    t = np.asarray(t_s, dtype=float)
    p = np.asarray(positions, dtype=float)[:, :3]
    if t.ndim != 1 or len(t) != len(p) or len(t) == 0:
        raise ValueError(f"need matching non-empty t (m,) and positions (m, 3): {t.shape}, {p.shape}")
    a = np.asarray(start, dtype=float)[:3]
    b = np.asarray(target, dtype=float)[:3]
    ref = p[-1] if final is None else np.asarray(final, dtype=float)[:3]
    d = np.linalg.norm(p - ref, axis=1)
    inside = d <= band_mm
    nan = float("nan")
    ttt = float(t[int(np.argmax(inside))]) if inside.any() else nan
    if inside[-1]:
        outside = np.flatnonzero(~inside)
        settling = float(t[outside[-1] + 1]) if outside.size else float(t[0])
    else:
        settling = nan
    seg = b - a
    length = float(np.linalg.norm(seg))
    if length > 0:
        u = seg / length
        along = (p - a) @ u
        overshoot = max(0.0, float(np.max(along - float((ref - a) @ u))))
        frac = np.clip(along / length, 0.0, 1.0)
        closest = a + frac[:, None] * seg
        excursion = float(np.linalg.norm(p - closest, axis=1).max())
        reversals = _reversals(along, band_mm)
    else:
        overshoot = max(0.0, float(d.max() - d[0]))    # no direction: farther than at the start
        excursion = float(np.linalg.norm(p - a, axis=1).max())
        reversals = 0
    return MoveFigures(ttt, settling, overshoot, reversals, excursion,
                       float(np.linalg.norm(ref - b)))
