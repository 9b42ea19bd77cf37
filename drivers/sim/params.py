"""Reading a simulated arm's parameters from a lab file's `simulator:` section.

Keys (all optional; units may be written, e.g. ``0.03 mm``, ``15 Hz``, ``2 s``):
  max_speed, max_accel, max_jerk, max_rot_speed, max_rot_accel, max_rot_jerk,
  profile (trapezoidal | jerk_limited), repeatability, offset {x..c}, home {x..c},
  servo {frequency, damping, in_position}, encoder {resolution, angle_resolution},
  noise, backlash, drift {x..c}, drift_time_constant, watchdog (0 = off), seed,
  base_rotation {a, b, c} (deg), scale (ppm), deflection (mm per m of reach),
  preset (ideal | cobot): where the defaults of the other keys come from (default ideal),
  program {poses, dwell, speed}: the robot moves by itself (drivers/sim/program.py).
See `drivers.sim.arm` for what each one does.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from drivers.config import Section
from drivers.pose import AXES, Pose
from drivers.sim.arm import PRESETS, PROFILES, ArmParams
from drivers.sim.program import program_from_section
from drivers.sim.faults import Fault, faults_from_section


@dataclass(frozen=True)
class RobotSim:
    """A simulated robot, read once from a lab's `simulator:` section: the arm's physics and the
    faults to inject (see `drivers.sim.faults`)."""

    arm: ArmParams
    faults: tuple[Fault, ...] = ()

    def arm_params(self, seed: int | None = None) -> ArmParams:
        """The arm's parameters; `seed`, when given, overrides the lab file's (a run's seed wins)."""
        return self.arm if seed is None else replace(self.arm, seed=seed)


def robot_sim_from_section(section: Section) -> RobotSim:
    """Parse a robot's `simulator:` section (physics and faults). ConfigError names the file,
    line and key of anything wrong."""
    arm = arm_params_from_section(section.fresh())
    return RobotSim(arm, tuple(faults_from_section(section.fresh())))


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


def _angles(section: Section, key: str,
            default: tuple[float, float, float]) -> tuple[float, float, float]:
    if not section.has(key):
        section.raw(key, None)
        return default
    s = section.section(key)
    out = (s.quantity("a", "deg", default[0], min=-5.0, max=5.0),
           s.quantity("b", "deg", default[1], min=-5.0, max=5.0),
           s.quantity("c", "deg", default[2], min=-5.0, max=5.0))
    s.done()
    return out


def arm_params_from_section(section: Section, seed: int | None = None) -> ArmParams:
    """Build ArmParams from a mapping like ``{repeatability: 0.05 mm, offset: {x: 0.2}}``.

    Unknown keys and bad units raise ConfigError naming the file, line and key. `seed`, when
    given, overrides the section's seed (a run's seed wins over the lab file's).
    """
    d = PRESETS[section.get("preset", str, "ideal", choices=sorted(PRESETS))]
    servo = section.section("servo", None)
    enc = section.section("encoder", None)
    params = ArmParams(
        max_speed_mm_s=section.quantity("max_speed", "mm/s", d.max_speed_mm_s, min=1e-6),
        max_accel_mm_s2=section.quantity("max_accel", "mm/s^2", d.max_accel_mm_s2, min=1e-6),
        max_jerk_mm_s3=section.convert("max_jerk", _per_s3("mm"), d.max_jerk_mm_s3),
        max_rot_speed_deg_s=section.quantity("max_rot_speed", "deg/s", d.max_rot_speed_deg_s,
                                             min=1e-6),
        max_rot_accel_deg_s2=section.quantity("max_rot_accel", "deg/s^2",
                                              d.max_rot_accel_deg_s2, min=1e-6),
        max_rot_jerk_deg_s3=section.convert("max_rot_jerk", _per_s3("deg"),
                                            d.max_rot_jerk_deg_s3),
        profile=section.get("profile", str, d.profile, choices=PROFILES),
        repeatability_mm=section.quantity("repeatability", "mm", d.repeatability_mm, min=0.0),
        offset=_pose(section, "offset", d.offset),
        home=_pose(section, "home", d.home),
        servo_hz=servo.quantity("frequency", "Hz", d.servo_hz, min=0.0, max=1000.0),
        servo_damping=servo.get("damping", float, d.servo_damping),
        in_position_mm=servo.quantity("in_position", "mm", d.in_position_mm, min=1e-6),
        encoder_mm=enc.quantity("resolution", "mm", d.encoder_mm, min=0.0),
        encoder_deg=enc.quantity("angle_resolution", "deg", d.encoder_deg, min=0.0),
        noise_mm=section.quantity("noise", "mm", d.noise_mm, min=0.0),
        backlash_mm=section.quantity("backlash", "mm", d.backlash_mm, min=0.0),
        drift=_pose(section, "drift", d.drift),
        drift_tau_s=section.quantity("drift_time_constant", "s", d.drift_tau_s, min=1e-3),
        watchdog_s=section.quantity("watchdog", "s", d.watchdog_s, min=0.0),
        base_rotation_deg=_angles(section, "base_rotation", d.base_rotation_deg),
        scale_ppm=section.quantity("scale", "ppm", d.scale_ppm, min=-1e4, max=1e4),
        deflection_mm_per_m=section.quantity("deflection", "mm/m", d.deflection_mm_per_m,
                                             min=0.0, max=100.0),
        seed=section.get("seed", int, d.seed) if seed is None else seed,
        program=program_from_section(section),
    )
    if not 0.05 <= params.servo_damping <= 5:
        raise servo.error("damping", "must be between 0.05 and 5")
    servo.done()
    enc.done()
    if seed is not None:
        section.raw("seed", None)
    section.raw("faults", None)   # read by drivers.sim.faults.faults_from_section
    section.done()
    return params


def _per_s3(unit: str):
    """Parse a jerk like ``200000`` or ``200 m/s^3`` into `unit`/s^3."""
    factors = {"mm": {"mm/s^3": 1.0, "mm/s3": 1.0, "m/s^3": 1000.0, "m/s3": 1000.0},
               "deg": {"deg/s^3": 1.0, "deg/s3": 1.0}}[unit]

    def parse(value: object) -> float:
        if isinstance(value, bool):
            raise ValueError(f"expected a jerk in {unit}/s^3, got {value!r}")
        if isinstance(value, (int, float)):
            out = float(value)
        else:
            parts = str(value).split()
            if len(parts) != 2 or parts[1] not in factors:
                raise ValueError(f"expected a jerk like '200000 {unit}/s^3', got {value!r}")
            out = float(parts[0]) * factors[parts[1]]
        if not out > 0:
            raise ValueError(f"must be > 0 {unit}/s^3, got {value!r}")
        return out
    return parse
