"""Surgical trajectory figures for a guide axis (the screw-guide kind of scenario), as
robot-assisted spine surgery studies report them (shared/reference/instruments.md 6: Scharll et
al. 2022, iSYS-1; ExcelsiusGPS, Chin Neurosurg J 2018; Mazor cadaver thresholds 2023):

* entry deviation (mm): achieved vs planned entry point, Euclidean, and its normal part (the
  distance of the achieved entry from the planned line);
* target (tip) deviation (mm): the same at the target point;
* angular deviation (deg): angle between the planned and the achieved axis.

A scenario names its guide axis in a `guide:` section (`GuideAxis`): either two visited poses
(entry and target), or one pose (the guide seated at the entry) and a `depth` along its tool z
axis, where the target (the screw tip) lies: the achieved target is then the attained entry plus
`depth` along the attained tool z axis, so an angular error shows at the tip as it would in bone
(the RGS cadaver study measured at the entry and "at a depth of 30 mm along the wire": Spine
2015, https://insights.ovid.com/spne/201512150/00007632-201512150-00003).

The planned line runs through the planned entry and target points. The axes are, with
`axis="tool-z"` (default: a guide holds the drill along its tool z axis), the tool z axes of the
commanded and the attained orientation at the target pose, or with `axis="points"` the direction
entry -> target (planned and achieved positions; needs points far enough apart, >= 5 mm here).
Inputs in mm and fixed-angle X-Y-Z degrees (`Pose`); one figure set per cycle, reduced to the
mean and the worst.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from drivers.pose import Pose
from drivers.rotation import matrix_from_fixed_xyz

AXES = ("tool-z", "points")
MIN_AXIS_MM = 5.0
#: measurement catalogue name -> TrajectoryDeviation.as_dict key; each judged as the worst
#: placement over the cycles (the studies classify every screw, not the mean screw)
FIGURES = {"entry_deviation": "entry_deviation_mm", "entry_normal": "entry_normal_mm",
           "target_deviation": "target_deviation_mm", "target_normal": "target_normal_mm",
           "angular_deviation": "angular_deviation_deg"}


@dataclass(frozen=True)
class GuideAxis:
    """A scenario's planned trajectory: pose names, or one pose and a depth (mm) along its
    tool z axis; `axis` as in `deviation`."""

    entry: str
    target: str | None = None
    depth_mm: float = 0.0
    axis: str = "tool-z"

    @property
    def subject(self) -> str:
        """The subject of the figures in reports: ``entry->seat`` or ``seat+30mm``."""
        return f"{self.entry}->{self.target}" if self.target else \
            f"{self.entry}+{self.depth_mm:g}mm"

    def placement(self, planned_entry: Pose, achieved_entry: Pose,
                  planned_target: Pose | None = None,
                  achieved_target: Pose | None = None) -> TrajectoryDeviation:
        """One cycle's deviation. With a depth, the targets are computed along the tool z axes
        (the given targets are ignored); ValueError as `deviation`."""
        if self.target is None:
            planned_target = along_tool_z(planned_entry, self.depth_mm)
            achieved_target = along_tool_z(achieved_entry, self.depth_mm)
        if planned_target is None or achieved_target is None:
            raise ValueError(f"guide {self.subject}: the target pose has no sample")
        return deviation(planned_entry, planned_target, achieved_entry, achieved_target,
                         self.axis)


@dataclass(frozen=True)
class TrajectoryDeviation:
    """One placement: deviations in mm and deg."""

    entry_mm: float
    entry_normal_mm: float
    target_mm: float
    target_normal_mm: float
    angle_deg: float

    def as_dict(self) -> dict[str, float]:
        return {"entry_deviation_mm": self.entry_mm, "entry_normal_mm": self.entry_normal_mm,
                "target_deviation_mm": self.target_mm, "target_normal_mm": self.target_normal_mm,
                "angular_deviation_deg": self.angle_deg}


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n < 1e-12:
        raise ValueError("a trajectory axis has zero length")
    return v / n


def _tool_z(p: Pose) -> np.ndarray:
    m = matrix_from_fixed_xyz(p.a, p.b, p.c)
    return np.array([m[0][2], m[1][2], m[2][2]])


def along_tool_z(p: Pose, depth_mm: float) -> Pose:
    """`p` moved `depth_mm` along its own tool z axis (same orientation)."""
    x, y, z = p.position + depth_mm * _tool_z(p)
    return Pose(float(x), float(y), float(z), p.a, p.b, p.c)


def _angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    # atan2 of |u x v| and u . v stays accurate for tiny angles (acos does not)
    return math.degrees(math.atan2(float(np.linalg.norm(np.cross(u, v))), float(np.dot(u, v))))


def deviation(planned_entry: Pose, planned_target: Pose, achieved_entry: Pose,
              achieved_target: Pose, axis: str = "tool-z") -> TrajectoryDeviation:
    """Deviation of one placement. ValueError for an unknown `axis` or a degenerate line."""
    if axis not in AXES:
        raise ValueError(f"axis must be one of {AXES}")
    pe, pt = planned_entry.position, planned_target.position
    ae, at = achieved_entry.position, achieved_target.position
    if axis == "points":
        if np.linalg.norm(pt - pe) < MIN_AXIS_MM:
            raise ValueError(f"entry and target are closer than {MIN_AXIS_MM} mm: use the "
                             "tool-z axis")
        d_plan, d_got = _unit(pt - pe), _unit(at - ae)
    else:
        d_plan, d_got = _tool_z(planned_target), _tool_z(achieved_target)
    line = _unit(pt - pe) if np.linalg.norm(pt - pe) >= 1e-9 else d_plan

    def normal(p: np.ndarray) -> float:
        w = p - pe
        return float(np.linalg.norm(w - np.dot(w, line) * line))
    return TrajectoryDeviation(float(np.linalg.norm(ae - pe)), normal(ae),
                               float(np.linalg.norm(at - pt)), normal(at),
                               _angle_deg(d_plan, d_got))


def trajectory_figures(placements: list[TrajectoryDeviation]) -> dict[str, float]:
    """Mean and worst of each figure over the placements (cycles); NaN when there are none."""
    out: dict[str, float] = {"placements": float(len(placements))}
    for key in ("entry_deviation_mm", "entry_normal_mm", "target_deviation_mm",
                "target_normal_mm", "angular_deviation_deg"):
        vals = [p.as_dict()[key] for p in placements]
        out[key] = float(np.mean(vals)) if vals else math.nan
        out[key.replace("_mm", "_max_mm").replace("_deg", "_max_deg")] = \
            float(np.max(vals)) if vals else math.nan
    return out
