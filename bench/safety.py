"""Safety envelope: every target is checked before it is sent to a robot.

Shapes (mm, base frame): an axis-aligned box (``min``/``max`` corners), a sphere (``center``,
``radius``), or a vertical cylinder (``center`` of its base circle axis in x/y, ``radius``,
``z_min``/``z_max``). Optional ``max_speed`` (mm/s) and ``max_accel`` (mm/s^2) bound what a
scenario may command. A refused target raises SafetyError naming the target, the violated limit
and where the envelope was configured; nothing is sent.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from drivers.config import Section
from drivers.errors import SafetyError
from drivers.pose import Pose


@dataclass(frozen=True)
class Workspace:
    """An envelope shape plus motion limits; `source` names the lab file and line."""

    shape: str                       # "box" | "sphere" | "cylinder"
    params: dict[str, tuple[float, ...] | float]
    source: str = ""
    max_speed_mm_s: float | None = None
    max_accel_mm_s2: float | None = None

    def violation(self, p: Pose) -> str | None:
        """Why `p` is outside the envelope, or None when it is inside."""
        if self.shape == "box":
            lo, hi = self.params["min"], self.params["max"]
            for axis, a, b in zip("xyz", lo, hi):       # type: ignore[arg-type]
                v = getattr(p, axis)
                if not a <= v <= b:
                    return f"{axis} = {v:.3f} mm not in [{a:g}, {b:g}] mm"
            return None
        c = self.params["center"]
        r = float(self.params["radius"])                 # type: ignore[arg-type]
        if self.shape == "sphere":
            d = math.dist((p.x, p.y, p.z), c)            # type: ignore[arg-type]
            return None if d <= r else f"{d:.3f} mm from the sphere centre (radius {r:g} mm)"
        d = math.dist((p.x, p.y), c[:2])                 # type: ignore[index]
        if d > r:
            return f"{d:.3f} mm from the cylinder axis (radius {r:g} mm)"
        z0, z1 = float(self.params["z_min"]), float(self.params["z_max"])  # type: ignore[arg-type]
        if not z0 <= p.z <= z1:
            return f"z = {p.z:.3f} mm not in [{z0:g}, {z1:g}] mm"
        return None

    def check(self, target: Pose, label: str = "target") -> None:
        """Raise SafetyError when `target` is outside the envelope or not finite."""
        if not target.is_finite():
            raise SafetyError(f"{label} {target} is not a finite pose (refused, {self.source})")
        why = self.violation(target)
        if why:
            raise SafetyError(f"{label} {target} is outside the {self.shape} workspace: {why} "
                              f"(refused before sending; workspace from {self.source})")

    def check_motion(self, speed_mm_s: float, label: str, accel_mm_s2: float | None = None
                     ) -> None:
        """Raise SafetyError when a commanded speed or acceleration exceeds the limits."""
        if self.max_speed_mm_s is not None and speed_mm_s > self.max_speed_mm_s:
            raise SafetyError(f"{label}: speed {speed_mm_s:g} mm/s exceeds the workspace limit "
                              f"{self.max_speed_mm_s:g} mm/s (refused; limit from {self.source})")
        if (accel_mm_s2 is not None and self.max_accel_mm_s2 is not None
                and accel_mm_s2 > self.max_accel_mm_s2):
            raise SafetyError(f"{label}: acceleration {accel_mm_s2:g} mm/s^2 exceeds the limit "
                              f"{self.max_accel_mm_s2:g} mm/s^2 (refused; from {self.source})")


def workspace_from_section(s: Section) -> Workspace:
    """Parse a `workspace:` mapping (exactly one of box, sphere, cylinder). ConfigError on bad
    input, naming the file, line and key."""
    shapes = [k for k in ("box", "sphere", "cylinder") if s.has(k)]
    if len(shapes) != 1:
        raise s.error(shapes[1] if len(shapes) > 1 else "box",
                      "give exactly one of box, sphere or cylinder")
    shape = shapes[0]
    sh = s.section(shape)
    params: dict[str, tuple[float, ...] | float] = {}
    if shape == "box":
        params["min"] = sh.convert("min", _triple)
        params["max"] = sh.convert("max", _triple)
        if any(a >= b for a, b in zip(params["min"], params["max"])):  # type: ignore[arg-type]
            raise sh.error("max", "each max must be greater than the matching min")
    else:
        params["center"] = sh.convert("center", _triple)
        params["radius"] = sh.quantity("radius", "mm", min=1e-6)
        if shape == "cylinder":
            params["z_min"] = sh.quantity("z_min", "mm")
            params["z_max"] = sh.quantity("z_max", "mm")
            if params["z_min"] >= params["z_max"]:                      # type: ignore[operator]
                raise sh.error("z_max", "must be greater than z_min")
    sh.done()
    ws = Workspace(shape, params, f"{s.source}:{s.line}",
                   max_speed_mm_s=s.quantity("max_speed", "mm/s", None, min=1e-6),
                   max_accel_mm_s2=s.quantity("max_accel", "mm/s^2", None, min=1e-6))
    s.done()
    return ws


def _triple(v: object) -> tuple[float, float, float]:
    if (not isinstance(v, list) or len(v) != 3
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)):
        raise ValueError(f"expected [x, y, z] in mm, got {v!r}")
    out = (float(v[0]), float(v[1]), float(v[2]))
    if not all(math.isfinite(x) for x in out):   # a NaN corner would make every check pass
        raise ValueError(f"expected finite [x, y, z] in mm, got {v!r}")
    return out
