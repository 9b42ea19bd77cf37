"""The `Pose` value type used at every public interface.

Position x, y, z in millimetres; orientation a, b, c in degrees as **fixed-angle (extrinsic) X-Y-Z**
rotations: first a about the base X axis, then b about the base Y axis, then c about the base Z axis
(equivalent to intrinsic Z-Y'-X'' with angles c, b, a; the ISO 9283 / KUKA-style A, B, C ordering
differs, conversions belong in the vendor's register map scale, not here).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

AXES: tuple[str, ...] = ("x", "y", "z", "a", "b", "c")


@dataclass(frozen=True, slots=True)
class Pose:
    """A Cartesian pose: x, y, z in mm and a, b, c in degrees (fixed-angle X-Y-Z)."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    a: float = 0.0
    b: float = 0.0
    c: float = 0.0

    @classmethod
    def from_seq(cls, values: Iterable[float]) -> "Pose":
        """Build from 3 (position only) or 6 numbers in AXES order. Raises ValueError otherwise."""
        vals = [float(v) for v in values]
        if len(vals) not in (3, 6):
            raise ValueError(f"a pose needs 3 or 6 numbers, got {len(vals)}")
        return cls(*vals)

    @classmethod
    def from_mapping(cls, data: Mapping[str, float]) -> "Pose":
        """Build from a mapping with keys among x, y, z, a, b, c (missing keys are 0)."""
        return cls(**{k: float(data[k]) for k in AXES if k in data})

    def as_array(self) -> np.ndarray:
        """The six components as a float64 numpy array (mm, mm, mm, deg, deg, deg)."""
        return np.array([self.x, self.y, self.z, self.a, self.b, self.c], dtype=float)

    @property
    def position(self) -> np.ndarray:
        """x, y, z in mm as a numpy array."""
        return np.array([self.x, self.y, self.z], dtype=float)

    def as_dict(self) -> dict[str, float]:
        """Plain dict with keys x_mm ... c_deg, as written in reports and sessions."""
        return {
            "x_mm": self.x, "y_mm": self.y, "z_mm": self.z,
            "a_deg": self.a, "b_deg": self.b, "c_deg": self.c,
        }

    def distance_to(self, other: "Pose") -> float:
        """Euclidean distance between the positions, in mm (orientation ignored)."""
        return math.dist((self.x, self.y, self.z), (other.x, other.y, other.z))

    def is_finite(self) -> bool:
        """True when no component is NaN or infinite."""
        isf = math.isfinite
        return (isf(self.x) and isf(self.y) and isf(self.z)
                and isf(self.a) and isf(self.b) and isf(self.c))

    def __str__(self) -> str:
        return (f"({self.x:.3f}, {self.y:.3f}, {self.z:.3f} mm; "
                f"{self.a:.3f}, {self.b:.3f}, {self.c:.3f} deg)")


def _fast_init() -> None:
    """Give `Pose` an `__init__` that stores through its slots' descriptors: the same signature,
    defaults and frozen instance as the dataclass's own, at half the cost (the dataclass's goes
    through `object.__setattr__` once per field; a 100 Hz replay builds two poses a setpoint)."""
    sx, sy, sz, sa, sb, sc = (Pose.__dict__[k].__set__ for k in AXES)

    def __init__(self: Pose, x: float = 0.0, y: float = 0.0, z: float = 0.0, a: float = 0.0,
                 b: float = 0.0, c: float = 0.0) -> None:
        sx(self, x)
        sy(self, y)
        sz(self, z)
        sa(self, a)
        sb(self, b)
        sc(self, c)

    __init__.__qualname__ = "Pose.__init__"
    Pose.__init__ = __init__         # type: ignore[method-assign]


_fast_init()
