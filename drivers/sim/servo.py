"""A second-order servo lag: each axis's actual position y follows its reference r as
y'' = w^2 (r - y) - 2 zeta w y'  (natural frequency w = 2 pi f, damping zeta).

Integrated exactly for a reference held constant over each step `dt` (zero-order hold), with the
step's transition matrices computed once, so the result does not depend on how often it is
queried, only on `dt`. Units: whatever the positions are in (mm, deg), seconds.
"""
from __future__ import annotations

import math

import numpy as np


def _expm(m: np.ndarray) -> np.ndarray:
    """Matrix exponential by scaling and squaring of a Taylor series (small, well-scaled m)."""
    norm = float(np.abs(m).sum(axis=1).max())
    k = max(0, int(math.ceil(math.log2(norm))) + 1) if norm > 0.5 else 0
    a = m / (2 ** k)
    out, term = np.eye(len(m)), np.eye(len(m))
    for i in range(1, 20):
        term = term @ a / i
        out = out + term
    for _ in range(k):
        out = out @ out
    return out


class Servo:
    """State y, y' of n axes following a reference with a second-order lag."""

    def __init__(self, initial: np.ndarray, freq_hz: float, damping: float,
                 dt: float = 0.0005) -> None:
        if freq_hz <= 0 or damping <= 0 or dt <= 0:
            raise ValueError("servo frequency, damping and step must be positive")
        w = 2 * math.pi * freq_hz
        cont = np.array([[0.0, 1.0, 0.0], [-w * w, -2 * damping * w, w * w], [0, 0, 0]])
        d = _expm(cont * dt)
        self.ad, self.bd = d[:2, :2], d[:2, 2]
        self.dt = dt
        self.w = w
        self.y = np.array(initial, dtype=float)
        self.v = np.zeros_like(self.y)

    def step(self, reference: np.ndarray) -> None:
        """Advance one `dt` towards `reference` (held constant over the step)."""
        y, v = self.y, self.v
        self.y = self.ad[0, 0] * y + self.ad[0, 1] * v + self.bd[0] * reference
        self.v = self.ad[1, 0] * y + self.ad[1, 1] * v + self.bd[1] * reference

    def settled(self, reference: np.ndarray, tol: float) -> bool:
        """True when every axis is in position: error and speed together (e^2 + (v/w)^2, a
        measure of the axis's remaining energy) within `tol`, so it will not swing out again."""
        e2 = (self.y - reference) ** 2 + (self.v / self.w) ** 2
        return bool(np.all(e2 <= tol * tol))

    def snap(self, reference: np.ndarray) -> None:
        """Jump to rest at `reference` (used once the residual is far below any resolution)."""
        self.y = np.array(reference, dtype=float)
        self.v = np.zeros_like(self.y)
