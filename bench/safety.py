"""Workspace envelope: every target is checked before it is sent to a robot.

A box given as min/max corners in mm (base frame). A refused target raises SafetyError naming the
target, the violated limit and the lab file.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.config import Section
from drivers.errors import SafetyError
from drivers.pose import Pose


@dataclass(frozen=True)
class Workspace:
    """Axis-aligned box in mm; `source` names where it was configured."""

    min_mm: tuple[float, float, float]
    max_mm: tuple[float, float, float]
    source: str = ""

    def check(self, target: Pose, label: str = "target") -> None:
        """Raise SafetyError when `target` is outside the box or not finite."""
        if not target.is_finite():
            raise SafetyError(f"{label} {target} is not a finite pose (refused, {self.source})")
        for axis, lo, hi in zip("xyz", self.min_mm, self.max_mm):
            v = getattr(target, axis)
            if not lo <= v <= hi:
                raise SafetyError(f"{label} {target} is outside the workspace: {axis} = {v:.3f} mm "
                                  f"not in [{lo:g}, {hi:g}] mm (refused before sending; "
                                  f"workspace from {self.source})")


def workspace_from_section(s: Section) -> Workspace:
    """Parse ``{box: {min: [x, y, z], max: [x, y, z]}}`` (mm). ConfigError on bad input."""
    box = s.section("box")
    lo = box.convert("min", _triple)
    hi = box.convert("max", _triple)
    box.done()
    s.done()
    if any(a >= b for a, b in zip(lo, hi)):
        raise box.error("max", "each max must be greater than the matching min")
    return Workspace(lo, hi, f"{s.source}:{s.line}")


def _triple(v: object) -> tuple[float, float, float]:
    if (not isinstance(v, list) or len(v) != 3
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
        raise ValueError(f"expected [x, y, z] in mm, got {v!r}")
    return (float(v[0]), float(v[1]), float(v[2]))
