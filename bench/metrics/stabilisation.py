"""ISO 9283:1998 clauses 7.5 and 7.6: position stabilisation time and position overshoot.

Given time-stamped positions of one approach (seconds, mm) and a limit band around the final
attained position (the manufacturer's value, or RP when none is given):
- stabilisation time (7.5): from the instant the measuring point first enters the band to the
  instant after which it stays inside the band; 0 when it never leaves again;
- overshoot (7.6): the largest distance from the final attained position after the first entry
  into the band; 0 when the point never leaves the band again (motion inside the band is settling
  noise, not overshoot).
The standard asks for 3 cycles per pose and the mean over cycles; `stabilisation` handles one
approach, callers average. Sampling must be fast compared with the motion (ISO suggests >= 500 Hz
on real hardware; in virtual time the poll period sets the resolution).
Failure modes: ValueError on mismatched arrays; NaN for both figures when the point never enters
the band (a never-stabilised approach fails any limit).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Stabilisation:
    """Figures of one approach: times in s from the first sample, distances in mm."""

    t_first_entry_s: float
    stabilisation_s: float
    overshoot_mm: float
    settled_at_s: float


def stabilisation(t_s: np.ndarray, positions: np.ndarray, band_mm: float,
                  final: np.ndarray | None = None) -> Stabilisation:
    """Stabilisation time and overshoot of one approach. `final` defaults to the last sample."""
    t = np.asarray(t_s, dtype=float)
    p = np.asarray(positions, dtype=float)[:, :3]
    if t.ndim != 1 or len(t) != len(p) or len(t) == 0:
        raise ValueError(f"need matching non-empty t (m,) and positions (m, 3): {t.shape}, {p.shape}")
    ref = p[-1] if final is None else np.asarray(final, dtype=float)[:3]
    d = np.linalg.norm(p - ref, axis=1)
    inside = d <= band_mm
    if not inside.any():
        nan = float("nan")
        return Stabilisation(nan, nan, nan, nan)
    i0 = int(np.argmax(inside))
    out = np.flatnonzero(~inside[i0:])
    if out.size == 0:
        return Stabilisation(float(t[i0] - t[0]), 0.0, 0.0, float(t[i0] - t[0]))
    last_out = i0 + int(out[-1])
    if last_out + 1 >= len(t):          # outside at the last sample: never stabilised
        nan = float("nan")
        return Stabilisation(float(t[i0] - t[0]), nan, float(d[i0:].max()), nan)
    settled = float(t[last_out + 1] - t[0])
    return Stabilisation(float(t[i0] - t[0]), float(t[last_out + 1] - t[i0]),
                         float(d[i0:].max()), settled)
