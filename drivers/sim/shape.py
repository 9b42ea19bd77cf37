"""What a robot's wire protocol carries of a pose, applied to the in-process simulated arm, so
virtual mode sees the robot as wire mode does (both modes must agree about one lab).

Over the wire a driver writes only the target axes its register map has (the controller keeps
the others), reads only the axes the map has (the others read 0), in the registers' resolution
(an int32 in 0.01 mm reads in steps of 0.01 mm), and a map without target registers cannot move
the robot at all. `WireShape` says that for one map (or for GRBL's status report), and
`ShapedArm` applies it around any `RobotArm`. Units: mm and degrees.
Failure mode: `ShapedArm.move_to` raises ConfigError, as the wire driver does, for a read-only map.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from drivers.errors import ConfigError
from drivers.modbus.regmap import POSE_AXES, RegisterMap
from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm

FLOAT_TYPES = ("float32", "float64")


@dataclass(frozen=True)
class WireShape:
    """The axes a protocol writes and reads, each read's resolution (0: exact), and why it
    cannot command motion (empty: it can)."""

    write_axes: tuple[str, ...]
    read_axes: tuple[str, ...]
    resolution: dict[str, float] = field(default_factory=dict)
    read_only: str = ""
    write_resolution: dict[str, float] = field(default_factory=dict)

    @property
    def is_identity(self) -> bool:
        """True when the shape changes nothing (every axis both ways, exact, can command)."""
        return (set(self.write_axes) == set(self.read_axes) == set(POSE_AXES)
                and not any(self.resolution.values()) and not self.read_only
                and not any(self.write_resolution.values()))


def map_shape(regmap: RegisterMap) -> WireShape:
    """The shape of a Modbus register map: its target_* and actual_* fields and their scales.

    Orientation stored as a rotation vector (map `orientation: rotation_vector`) is converted by
    the driver, so its resolution is not a per-angle step: only positions are quantised there.
    """
    write = tuple(a for a in POSE_AXES if regmap.has(f"target_{a}"))
    read = tuple(a for a in POSE_AXES if regmap.has(f"actual_{a}"))
    def steps(kind: str, axes: tuple[str, ...]) -> dict[str, float]:
        out = {}
        for a in axes:
            f = regmap[f"{kind}_{a}"]
            if f.dtype not in FLOAT_TYPES and (a in "xyz" or regmap.orientation == "fixed_xyz"):
                out[a] = abs(f.scale)
        return out
    # the same words as the wire driver's refusal (drivers/modbus/robot.py)
    why = "" if write else f"{regmap.source}: map {regmap.name!r} has no target registers"
    return WireShape(write, read, steps("actual", read), why, steps("target", write))


#: GRBL's status report: machine position x, y, z with 3 decimals (mm); no orientation
GRBL_SHAPE = WireShape(("x", "y", "z"), ("x", "y", "z"), {"x": 0.001, "y": 0.001, "z": 0.001})


def _step(v: float, step: float) -> float:
    return round(v / step) * step if step > 0 else v


class ShapedArm(RobotArm):
    """`inner` as seen through `shape`: unwritten target axes keep the arm's current value,
    unread axes read 0, readings are quantised to the protocol's resolution."""

    def __init__(self, inner: RobotArm, shape: WireShape) -> None:
        self.inner = inner
        self.shape = shape
        self.name = inner.name

    def connect(self) -> None:
        self.inner.connect()

    def close(self) -> None:
        self.inner.close()

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        if self.shape.read_only:
            raise ConfigError(self.shape.read_only)
        shape = self.shape
        if len(shape.write_axes) < len(POSE_AXES) or shape.write_resolution:
            # the controller keeps what the command lacks; what is sent is in register counts
            now = self.inner.read_pose() if len(shape.write_axes) < len(POSE_AXES) else target
            target = Pose(**{a: _step(getattr(target, a), shape.write_resolution.get(a, 0.0))
                             if a in shape.write_axes else getattr(now, a) for a in POSE_AXES})
        return self.inner.move_to(target, speed_mm_s)

    def read_pose(self) -> Pose:
        p = self.inner.read_pose()
        res = self.shape.resolution
        return Pose(**{a: _step(getattr(p, a), res.get(a, 0.0)) if a in self.shape.read_axes
                       else 0.0 for a in POSE_AXES})

    def read_status(self) -> ArmStatus:
        return self.inner.read_status()

    def stop(self) -> None:
        self.inner.stop()

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        return self.inner.set_wire_tap(tap)


def spec_shape(spec: object) -> WireShape | None:
    """The wire shape of a lab's robot spec (drivers/registry.py), None when unknown."""
    from drivers.registry import GrblRobotSpec, ModbusRobotSpec
    if isinstance(spec, ModbusRobotSpec):
        return map_shape(spec.regmap)
    if isinstance(spec, GrblRobotSpec):
        return GRBL_SHAPE
    return None


def shaped(arm: RobotArm, spec: object) -> RobotArm:
    """`arm` seen through the wire shape of `spec` (itself when the shape changes nothing)."""
    shape = spec_shape(spec)
    return arm if shape is None or shape.is_identity else ShapedArm(arm, shape)
