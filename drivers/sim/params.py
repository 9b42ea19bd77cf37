"""Reading a simulated arm's parameters from a lab file's `simulator:` section."""
from __future__ import annotations

from drivers.config import Section
from drivers.pose import AXES, Pose
from drivers.sim.arm import ArmParams


def _pose(section: Section, key: str, default: Pose, unit_pos: str = "mm") -> Pose:
    if not section.has(key):
        section.raw(key, None)
        return default
    s = section.section(key)
    vals = {}
    for axis in AXES:
        vals[axis] = s.quantity(axis, unit_pos if axis in "xyz" else "deg", getattr(default, axis))
    s.done()
    return Pose(**vals)


def arm_params_from_section(section: Section, seed: int | None = None) -> ArmParams:
    """Build ArmParams from a mapping like ``{repeatability: 0.05 mm, offset: {x: 0.2}}``.

    Unknown keys and bad units raise ConfigError naming the file, line and key. `seed`, when
    given, overrides the section's seed (a run's seed wins over the lab file's).
    """
    d = ArmParams()
    params = ArmParams(
        max_speed_mm_s=section.quantity("max_speed", "mm/s", d.max_speed_mm_s, min=1e-6),
        max_accel_mm_s2=section.quantity("max_accel", "mm/s^2", d.max_accel_mm_s2, min=1e-6),
        max_rot_speed_deg_s=section.quantity("max_rot_speed", "deg/s", d.max_rot_speed_deg_s,
                                             min=1e-6),
        max_rot_accel_deg_s2=section.quantity("max_rot_accel", "deg/s^2",
                                              d.max_rot_accel_deg_s2, min=1e-6),
        repeatability_mm=section.quantity("repeatability", "mm", d.repeatability_mm, min=0.0),
        offset=_pose(section, "offset", Pose(0, 0, 0, 0, 0, 0)),
        home=_pose(section, "home", d.home),
        seed=section.get("seed", int, d.seed) if seed is None else seed,
    )
    if seed is not None:
        section.raw("seed", None)
    section.raw("faults", None)   # read by drivers.sim.faults.faults_from_section
    section.done()
    return params
