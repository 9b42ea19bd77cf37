"""Scenario sections that turn into extra poses: approach directions (ISO 9283 7.3), drift
(7.7) and paths (8.2). `bench.scenario` calls these while loading a file.

- ``approach: {directions: [+x, +y, +z], distance: 20 mm, poses: [P1, P2]}``: each listed pose
  (default: all) becomes one measured pose per direction, ``P1@+x``, each preceded by a pass-through
  ("via") pose ``P1@+x:via`` `distance` before it along that base axis, so the arm arrives moving
  in that direction (``+x``: moving towards +x). vAP compares the directions' barycentres.
- ``drift: {block: 5, pause: 10 min}``: dAP/dRP compare the first and the last `block` cycles;
  `pause` is waited (at the robot, no motion) after every cycle but the last, so a drift run spans
  hours; ``timing: virtual`` in the file makes that run in virtual time on a simulated lab.
- ``paths: {NAME: {line: {from: POSE, to: POSE}, speed: 25 mm/s}}`` or ``{NAME: {circle:
  {center: POSE, radius: 20 mm, plane: xy}}}``: a via pose ``NAME:start`` at the path's start,
  then the measured pose NAME at its end, reached by streaming setpoints along the path (needs
  ``control: stream``) at the path's `speed` (the pace of the stream; default the scenario's
  speed, which stays each setpoint's speed allowance). AT/RT of NAME are computed against that
  command path.
Units: mm, degrees, seconds. Failure modes: ConfigError naming the file, line and key.
"""
from __future__ import annotations

import math
import re

import numpy as np

from drivers.config import Section
from drivers.pose import AXES, Pose

_DIRECTION = re.compile(r"^([+-]?)([xyz])$")
_PLANES = {"xy": (0, 1), "yz": (1, 2), "zx": (2, 0)}
#: points of the command polyline of a circle (one per degree)
CIRCLE_POINTS = 361


def read_pose(s: Section) -> Pose:
    """A pose section {x, y, z, a, b, c} with units (missing keys are 0)."""
    vals = {a: s.quantity(a, "mm" if a in "xyz" else "deg", 0.0) for a in AXES}
    s.done()
    return Pose(**vals)


def expand_approach(s: Section, poses: dict[str, Pose], lines: dict[str, int]
                    ) -> tuple[dict[str, Pose], set[str], dict[str, dict[str, str]]]:
    """(poses with the directional and via poses, via names, {base: {direction: pose}})."""
    dirs = [str(d).strip() for d in s.sequence("directions", ["+x", "+y", "+z"])]
    for d in dirs:
        if not _DIRECTION.match(d):
            raise s.error("directions", f"{d!r} is not a base axis direction (+x, -y, z, ...)")
    if len(dirs) < 2 or len(set(dirs)) != len(dirs):
        raise s.error("directions", "give at least two different directions (ISO 9283: three)")
    dist = s.quantity("distance", "mm", 20.0, min=0.1)
    chosen = [str(p) for p in s.sequence("poses", list(poses))]
    for p in chosen:
        if p not in poses:
            raise s.error("poses", f"unknown pose {p!r} (poses: {', '.join(poses)})")
    line = s.line
    s.done()
    out: dict[str, Pose] = {}
    via: set[str] = set()
    groups: dict[str, dict[str, str]] = {}
    for name, pose in poses.items():
        if name not in chosen:
            out[name] = pose
            continue
        groups[name] = {}
        for d in dirs:
            sign, axis = _DIRECTION.match(d).groups()   # type: ignore[union-attr]
            d = f"{sign or '+'}{axis}"
            step = np.zeros(6)
            step["xyz".index(axis)] = -dist if sign != "-" else dist
            v, m = f"{name}@{d}:via", f"{name}@{d}"
            out[v] = Pose.from_seq(pose.as_array() + step)
            out[m] = pose
            via.add(v)
            groups[name][d] = m
            lines[f"pose:{v}"] = lines[f"pose:{m}"] = lines.get(f"pose:{name}", line or 0)
    return out, via, groups


def expand_paths(s: Section, lines: dict[str, int]
                 ) -> tuple[dict[str, Pose], set[str], dict[str, np.ndarray], dict[str, float]]:
    """(path start and end poses, via names, {end pose: command polyline (m, 3) mm},
    {end pose: path speed mm/s} for the paths that set one)."""
    out: dict[str, Pose] = {}
    via: set[str] = set()
    polylines: dict[str, np.ndarray] = {}
    speeds: dict[str, float] = {}
    for name in s.keys():
        name = str(name)
        ps = s.section(name)
        kinds = [k for k in ("line", "circle") if ps.has(k)]
        if len(kinds) != 1:
            raise s.error(name, "give exactly one of line: {from, to} or circle: {center, "
                                "radius, plane}")
        if kinds[0] == "line":
            ls = ps.section("line")
            a, b = read_pose(ls.section("from")), read_pose(ls.section("to"))
            ls.done()
            if a.distance_to(b) < 1.0:
                raise ps.error("line", "the line must be at least 1 mm long")
            poly = np.array([a.position, b.position])
            start, end = a, b
        else:
            cs = ps.section("circle")
            c = read_pose(cs.section("center"))
            r = cs.quantity("radius", "mm", min=1.0)
            plane = cs.get("plane", str, "xy", choices=list(_PLANES))
            cs.done()
            i, j = _PLANES[plane]
            t = np.linspace(0.0, 2.0 * math.pi, CIRCLE_POINTS)
            poly = np.tile(c.position, (len(t), 1))
            poly[:, i] += r * np.cos(t)
            poly[:, j] += r * np.sin(t)
            start = end = Pose(float(poly[0, 0]), float(poly[0, 1]), float(poly[0, 2]),
                               c.a, c.b, c.c)
        if ps.has("speed"):
            speeds[name] = ps.quantity("speed", "mm/s", min=1e-3)
        ps.done()
        v = f"{name}:start"
        out[v], out[name] = start, end
        via.add(v)
        polylines[name] = poly
        lines[f"pose:{v}"] = lines[f"pose:{name}"] = s.line_of(name)
    return out, via, polylines, speeds
