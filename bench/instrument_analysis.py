"""Registration and references for `hil-bench analyze` (measurement files from an instrument).

* `register_data`: the file's attained poses were measured in the instrument's frame; bring them
  into the robot base frame with a saved registration (a lab file's `instrument.registration`, or
  a YAML file with the same `pose:`/`fre:`/`points:` keys), one made from a registration
  pattern's point file against a scenario's poses, or with one computed from the file
  itself (``auto``: commanded vs measured positions, Umeyama; rigid robot errors are then absorbed
  and only the rest is measured, which the result says).
* `reference_data`: repeatability-only data has no commanded poses worth comparing with; the
  reference of each pose becomes its ``first`` measurement or the ``mean`` of its measurements
  (AP is then relative to that reference: AP = 0 with ``mean``; RP is unaffected).
Failure modes: ConfigError naming the file (no registration in it, bad keys), RegistrationError
(too few or collinear points; FRE worse than a tolerance is checked by the caller).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.instrument import InstrumentData
from bench.registration import Registration, register_points
from bench.scenario import Scenario
from drivers.config import Section, load_yaml_file
from drivers.errors import ConfigError
from drivers.instrument.frames import matrix_of, pose_of
from drivers.pose import Pose
from drivers.sim.params import _pose

REFERENCES = ("first", "mean")


def load_registration(path: str | Path) -> Registration:
    """A saved registration: a lab file (its `instrument.registration`) or a registration file
    with `pose:` (the instrument in the robot base frame), optional `fre:` and `points:`."""
    p = Path(path)
    top = Section(load_yaml_file(p), str(p))
    sec = top
    if top.has("instrument"):
        inst = top.section("instrument")
        if not inst.has("registration"):
            raise inst.error("registration", "this lab saves no registration")
        sec = inst.section("registration")
    if not sec.has("pose"):
        raise sec.error("pose", "required: the instrument's pose in the robot base frame")
    pose = _pose(sec, "pose", Pose())
    fre = sec.quantity("fre", "mm", 0.0, min=0.0)
    n = sec.get("points", int, 0)
    return Registration.from_pose(pose, fre, n)


def register_data(data: InstrumentData, how: str, sc: Scenario | None = None, *,
                  unit: str | None = None,
                  decimal: str = ".") -> tuple[InstrumentData, Registration, str]:
    """(data with attained poses in the robot base frame, the registration, its origin: ``auto``
    or the file it came from). `how`: ``auto``, a saved registration (YAML) or a registration
    pattern's point file (`bench.instrument_points.registration_from_points`, needs `sc`)."""
    if how == "auto":
        reg = register_points(data.attained[:, :3], data.commanded[:, :3])
        origin = "auto"
    elif Path(how).suffix.lower() in (".yaml", ".yml"):
        reg = load_registration(how)
        origin = how
    else:
        from bench.instrument_points import registration_from_points
        reg = registration_from_points(how, sc, unit=unit, decimal=decimal)
        origin = how
    att = data.attained.copy()
    if data.has_orientation:
        for i, row in enumerate(att):
            att[i] = pose_of(reg.matrix @ matrix_of(Pose(*row))).as_array()
    else:
        att = reg.to_base(att)
    return replace(data, attained=att), reg, origin


def reference_data(data: InstrumentData, how: str) -> InstrumentData:
    """Data whose commanded pose is, per pose, its first measurement or the mean of them."""
    if how not in REFERENCES:
        raise ConfigError(f"--reference: must be one of {', '.join(REFERENCES)}")
    cmd = data.commanded.copy()
    names = np.asarray(data.poses)
    for name in dict.fromkeys(data.poses):
        rows = np.flatnonzero(names == name)
        if how == "first":
            first = rows[np.argmin(data.cycles[rows])]
            cmd[rows] = data.attained[first]
        else:
            cmd[rows] = data.attained[rows].mean(axis=0)
    return replace(data, commanded=cmd)


def registration_summary(reg: Registration, origin: str) -> dict[str, Any]:
    """What `analyze --json` reports about the registration it used."""
    out = {**reg.as_dict(), "origin": origin, "scale": reg.scale}
    if origin == "auto":
        out["note"] = ("registered on the file's own commanded poses: rigid errors of the robot "
                       "are absorbed by the registration")
    return out
