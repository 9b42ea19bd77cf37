"""Does a scenario fit a lab's robot? Refused before anything is opened or sent.

A robot's protocol carries only some axes (drivers/sim/shape.py: an IAI ROBO Cylinder's map
carries x; GRBL reports x, y, z) and some maps cannot command at all (igus ReBeL: read-only). A
scenario that asks for a position on an axis the robot cannot be told or read would be judged
on a value the wire never carried (the ISO cube on a single-axis actuator "fails by 342 mm"), so
it is refused with the scenario that fits. Orientation axes are held to this only when the
scenario judges orientation (APa..RPc tolerances).
Failure mode: ConfigError (exit 2) naming the scenario file and line, the pose, the axis and the
lab's map.
"""
from __future__ import annotations

from bench.lab import Lab
from bench.scenario import Scenario
from drivers.errors import ConfigError
from drivers.sim.shape import spec_shape

ORIENTATION_TOLERANCES = ("APa", "APb", "APc", "RPa", "RPb", "RPc")


def check_fits(sc: Scenario, lab: Lab) -> None:
    """Raise ConfigError when `sc` needs what `lab`'s robot protocol cannot carry."""
    shape = spec_shape(lab.robot.spec)
    if shape is None:
        return
    if shape.read_only and sc.follow is None:
        raise ConfigError(f"{sc.source}: scenario {sc.name} commands poses, but {shape.read_only}"
                          f" (the robot can be watched, not moved): give a follow scenario "
                          f"(e.g. iso9283-follow), which only reads while the robot's own "
                          f"program moves it")
    axes = ["x", "y", "z"]
    if any(k in sc.tolerances for k in ORIENTATION_TOLERANCES):
        axes += ["a", "b", "c"]
    carried = set(shape.read_axes) if sc.follow else set(shape.read_axes) & set(shape.write_axes)
    for name, pose in sc.poses.items():
        for axis in axes:
            value = getattr(pose, axis)
            if axis not in carried and abs(value) > 1e-9:
                unit = "mm" if axis in "xyz" else "deg"
                raise ConfigError(
                    f"{sc.where('pose:' + name)}: scenario {sc.name} pose {name} gives "
                    f"{axis} = {value:g} {unit}, but lab {lab.name}'s robot carries only "
                    f"{', '.join(a for a in ('x', 'y', 'z', 'a', 'b', 'c') if a in carried)} "
                    f"(the other axes read 0): give a scenario along those axes (a single-axis "
                    f"actuator: linear-axis)")
