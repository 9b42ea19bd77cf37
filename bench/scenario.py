"""Scenario files: which poses, how many cycles, how fast, and the tolerances.

A pose scenario gives either an ISO 9283 test cube (P1 at the centre, P2..P5 on a diagonal plane at
10 % of the diagonal from its corners) or explicit named poses, visited in order every cycle.
Optional sections add poses (`bench.scenario_layout`): ``approach`` (ISO 9283 7.3, each pose
approached from several directions, giving vAP), ``drift`` (7.7, dAP/dRP of the first and last
block of cycles, with a pause after each cycle) and ``paths`` (8.2, lines and circles streamed
point by point, giving AT/RT). ``timing: virtual`` makes a simulated lab run the scenario in
virtual time unless ``--mode`` says otherwise. A tolerance is refused when the scenario cannot
compute its figure (vAP without ``approach``, RP with 1 cycle, ...).
Units: mm, degrees, mm/s, seconds; strings with units (``"250 mm/s"``, ``"50 ms"``) are accepted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.bounds import MAX_CYCLES, MAX_SEED
from bench.control.modes import CONTROL_MODES, ControlSettings
from bench.limits import Limit, limit_from_section
from bench.metrics import catalogue
from bench.metrics.trajectory import AXES as GUIDE_AXES
from bench.metrics.trajectory import FIGURES as GUIDE_FIGURES
from bench.metrics.trajectory import MIN_AXIS_MM, GuideAxis
from bench.paths import resolve
from bench.ridethrough import AFTER_STOP, RideThrough
from bench.scenario_layout import expand_approach, expand_paths, read_pose
from drivers.config import Section, load_yaml_file
from drivers.errors import ConfigError
from drivers.pose import Pose


@dataclass(frozen=True)
class FollowSettings:
    """A scenario the robot runs by its own program while the bench only reads (bench/follow.py):
    a visit is a rest (the pose moved less than `still_mm` over the scenario's `settle`) within
    `capture_mm` of the pose expected next."""

    capture_mm: float = 5.0
    still_mm: float = 0.02


@dataclass(frozen=True)
class Scenario:
    """A validated pose scenario."""

    name: str
    source: str
    poses: dict[str, Pose]
    cycles: int = 30
    speed_mm_s: float = 250.0
    settle_s: float = 0.05
    poll_s: float = 0.005
    move_timeout_s: float = 10.0
    seed: int = 1
    tolerances: dict[str, Limit] = field(default_factory=dict)
    description: str = ""
    control: ControlSettings = field(default_factory=ControlSettings)
    band_mm: float = 0.1
    distance_pair: tuple[str, str] | None = None
    #: None: the bench commands the poses; else it follows a robot moved by its own program
    follow: FollowSettings | None = None
    #: time the operator needs to switch from one site to the next (multi-site labs, in turn)
    switch_s: float = 0.0
    ride_through: RideThrough = field(default_factory=RideThrough)
    tracking_band_mm: float = 5.0
    #: line of each pose ("pose:NAME") and setting ("speed") in the file, for error messages
    lines: dict[str, int] = field(default_factory=dict)
    #: poses only passed through (approach via points, path starts): visited, never judged
    via: frozenset[str] = frozenset()
    #: ISO 9283 7.3: base pose -> {direction ("+x"): measured pose name}
    directions: dict[str, dict[str, str]] = field(default_factory=dict)
    #: ISO 9283 7.7: cycles compared at the start and the end (0: no drift figures)
    drift_block: int = 0
    #: wait after each cycle but the last, s (a drift run spans hours)
    pause_s: float = 0.0
    #: the timing mode the scenario is meant for on a simulated lab ("virtual"), None: any
    timing: str | None = None
    #: ISO 9283 8.2: measured pose -> command path (m, 3) mm streamed to reach it
    paths: dict[str, np.ndarray] = field(default_factory=dict)
    #: pace of the stream along a path, mm/s (missing: `speed_mm_s`)
    path_speed: dict[str, float] = field(default_factory=dict)
    #: a planned guide axis: entry/target deviation and axis angle (bench.metrics.trajectory)
    guide: GuideAxis | None = None

    @property
    def measured(self) -> list[str]:
        """The poses that are judged, in visiting order (all but the via poses)."""
        return [p for p in self.poses if p not in self.via]

    def check_cycles(self, option: str = "--cycles") -> None:
        """Refuse a run whose cycles cannot give a figure it has a tolerance on (RP and every
        other sample deviation need 2 cycles): ConfigError naming the tolerance's line."""
        for key in self.tolerances:
            m = catalogue.get(key)
            need = m.min_cycles if m is not None else 1
            if m is not None and m.clause == "7.7":
                need = max(need, 2 * self.drift_block)     # a first and a last block
            if self.cycles < need:
                raise ConfigError(f"{self.where('tolerance:' + key)}: tolerances.{key}: needs at "
                                  f"least {need} cycles ({option} {self.cycles})")

    def where(self, key: str) -> str:
        """``file:line`` of a pose (``pose:P1``) or setting, for messages."""
        return f"{self.source}:{self.lines.get(key, 0)}" if key in self.lines else self.source


def cube_poses(center: Pose, side_mm: float) -> dict[str, Pose]:
    """ISO 9283 test poses of a cube: P1 centre; P2..P5 on the diagonal plane x = y (relative to
    the centre), each 10 % of the plane's diagonal from a corner, so at 0.8 x half-side per axis.
    P2 (-,-,+), P3 (+,+,+), P4 (+,+,-), P5 (-,-,-)."""
    k = 0.8 * side_mm / 2.0
    signs = {"P2": (-1, -1, 1), "P3": (1, 1, 1), "P4": (1, 1, -1), "P5": (-1, -1, -1)}
    out = {"P1": center}
    c = center.as_array()
    for name, (sx, sy, sz) in signs.items():
        p = c.copy()
        p[:3] += np.array([sx, sy, sz]) * k
        out[name] = Pose.from_seq(p)
    return out


_pose = read_pose


def _control(top: Section) -> ControlSettings:
    """``control: target`` or ``control: {mode: remote-loop, gain: 4 /s, period: 20 ms}``."""
    modes = sorted(CONTROL_MODES)
    if not top.has("control") or isinstance(top.raw("control"), str):
        return ControlSettings(mode=top.get("control", str, "target", choices=modes))
    cs = top.section("control")
    d = ControlSettings()
    gain_raw = cs.raw("gain", d.gain_per_s)
    try:
        gain = float(str(gain_raw).replace("1/s", "").replace("/s", "").strip())
    except ValueError:
        raise cs.error("gain", f"expected a number in 1/s (e.g. 4 /s), got {gain_raw!r}") from None
    if not math.isfinite(gain) or gain <= 0:
        raise cs.error("gain", "must be a positive number in 1/s")
    out = ControlSettings(
        mode=cs.get("mode", str, "target", choices=modes),
        stream_rate_hz=cs.quantity("stream_rate", "Hz", d.stream_rate_hz, min=0.1),
        gain_per_s=gain,
        period_s=cs.quantity("period", "s", d.period_s, min=1e-4),
        hold_s=cs.quantity("hold", "s", d.hold_s, min=0.0),
        deadband_mm=cs.quantity("deadband", "mm", d.deadband_mm, min=1e-6),
        max_speed_mm_s=cs.quantity("max_speed", "mm/s", d.max_speed_mm_s, min=1e-3))
    cs.done()
    return out


def _follow(top: Section) -> FollowSettings | None:
    """``follow: {capture: 5 mm, still: 0.02 mm}``: the robot moves by itself (read-only run)."""
    if not top.has("follow"):
        top.raw("follow", None)
        return None
    fs = top.section("follow")
    d = FollowSettings()
    out = FollowSettings(capture_mm=fs.quantity("capture", "mm", d.capture_mm, min=1e-3),
                         still_mm=fs.quantity("still", "mm", d.still_mm, min=1e-6))
    fs.done()
    return out


def _ride_through(top: Section) -> RideThrough:
    """``ride_through: {link_loss_limit: 30 s, backoff: 50 ms, max_backoff: 1 s,
    after_stop: resume, max_resumes: 3}`` (all optional)."""
    d = RideThrough()
    if not top.has("ride_through"):
        return d
    s = top.section("ride_through")
    first = s.quantity("backoff", "s", d.backoff_first_s, min=0.0)
    out = RideThrough(
        link_loss_limit_s=s.quantity("link_loss_limit", "s", d.link_loss_limit_s, min=0.0),
        backoff_first_s=first,
        backoff_max_s=s.quantity("max_backoff", "s", max(first, d.backoff_max_s), min=first),
        after_stop=s.get("after_stop", str, d.after_stop, choices=AFTER_STOP),
        max_resumes=s.get("max_resumes", int, d.max_resumes))
    if out.max_resumes < 0:
        raise s.error("max_resumes", "must be >= 0")
    s.done()
    return out


def _guide(top: Section, poses: dict[str, Pose], via: set[str],
           lines: dict[str, int]) -> GuideAxis | None:
    """``guide: {entry: POSE, target: POSE}`` or ``{entry: POSE, depth: 30 mm}`` (the target
    that far along the entry pose's tool z axis), optional ``axis: tool-z | points``."""
    if not top.has("guide"):
        return None
    gs = top.section("guide")
    known = [p for p in poses if p not in via]
    names = {"entry": gs.get("entry", str), "target": gs.get("target", str, None)}
    for key, name in names.items():
        if name is not None and name not in known:
            raise gs.error(key, f"unknown pose {name!r} (poses: {', '.join(known)})")
    depth = gs.quantity("depth", "mm", 0.0, min=0.0, max=1000.0)
    axis = gs.get("axis", str, "tool-z", choices=list(GUIDE_AXES))
    entry, target = str(names["entry"]), names["target"]
    if (target is None) == (depth == 0.0):
        raise gs.error("depth" if target is None else "target",
                       "give either a target pose or a depth along the tool z axis")
    if axis == "points" and (target is None or np.linalg.norm(
            poses[target].position - poses[entry].position) < MIN_AXIS_MM):
        raise gs.error("axis", f"axis: points needs entry and target poses at least "
                               f"{MIN_AXIS_MM:g} mm apart")
    lines["guide"] = top.line_of("guide")
    gs.done()
    return GuideAxis(entry, target, depth, axis)


def load_scenario(name_or_path: str, cycles: int | None = None) -> Scenario:
    """Load a scenario by built-in name (``iso9283``) or path. Raises ConfigError."""
    path: Path = resolve(name_or_path, "scenario")
    top = Section(load_yaml_file(path), str(path))
    name = top.get("name", str)
    description = top.get("description", str, "")
    poses: dict[str, Pose]
    lines: dict[str, int] = {"speed": top.line_of("speed")}
    if top.has("cube") and top.has("poses"):
        raise top.error("poses", "give either cube or poses, not both")
    if top.has("cube"):
        cs = top.section("cube")
        center = _pose(cs.section("center"))
        side = cs.quantity("side", "mm", min=1e-3)
        cs.done()
        poses = cube_poses(center, side)
        lines.update({f"pose:{k}": cs.line for k in poses})
        top.raw("poses", None)
    else:
        ps = top.section("poses", None) if top.has("paths") else top.section("poses")
        poses = {str(k): _pose(ps.section(k)) for k in ps.keys()}
        lines.update({f"pose:{k}": ps.line_of(k) for k in ps.keys()})
        if not poses and not top.has("paths"):
            raise top.error("poses", "at least one pose is needed")
        top.raw("cube", None)
    via: set[str] = set()
    directions: dict[str, dict[str, str]] = {}
    paths: dict[str, np.ndarray] = {}
    path_speed: dict[str, float] = {}
    if top.has("approach"):
        poses, via, directions = expand_approach(top.section("approach"), poses, lines)
    control = _control(top)
    if top.has("paths"):
        if control.mode != "stream":
            raise top.error("paths", "paths are streamed: they need `control: stream`")
        extra, pvia, paths, path_speed = expand_paths(top.section("paths"), lines)
        clash = sorted(set(extra) & set(poses))
        if clash or not extra:
            raise top.error("paths", f"pose name(s) {', '.join(clash)} used twice" if clash
                            else "at least one path is needed")
        poses = {**poses, **extra}
        via |= pvia
    drift_block, pause = 0, 0.0
    if top.has("drift"):
        ds = top.section("drift")
        drift_block = ds.get("block", int, 5)
        if drift_block < 2:
            raise ds.error("block", "must be at least 2 (RP of a block needs 2 cycles)")
        pause = ds.quantity("pause", "s", 0.0, min=0.0)
        lines["drift"] = top.line_of("drift")
        ds.done()
    timing = top.get("timing", str, None, choices=["virtual", "wire"])
    n = top.get("cycles", int, 30, max=MAX_CYCLES)
    if n < 1:
        raise top.error("cycles", "must be at least 1")
    guide = _guide(top, poses, via, lines)
    tol = top.section("tolerances", None)
    tolerances = {}
    for key in tol.keys():
        m = catalogue.get(str(key))
        if m is None:
            raise tol.error(key, f"unknown tolerance (known: {', '.join(catalogue.names())})")
        tolerances[key] = limit_from_section(tol.section(key), key, m.unit)
        lines[f"tolerance:{key}"] = tol.line_of(key)
        if cycles is None and n < m.min_cycles:   # the file asks for what it cannot compute
            raise tol.error(key, f"needs at least {m.min_cycles} cycles (cycles: {n})")
        need = {"7.3": ("approach", directions), "7.7": ("drift", drift_block),
                "8.2": ("paths", paths or control.mode == "stream")}.get(m.clause)
        if need is not None and not need[1]:
            raise tol.error(key, f"{key} needs a `{need[0]}:` section"
                            + (" or `control: stream`" if need[0] == "paths" else ""))
        if key in GUIDE_FIGURES and guide is None:
            raise tol.error(key, f"{key} needs a `guide:` section (entry and target or depth)")
        if m.clause == "7.7" and cycles is None and n < 2 * drift_block:
            raise tol.error(key, f"needs at least {2 * drift_block} cycles (two drift blocks of "
                                 f"{drift_block}; cycles: {n})")
    pair = None
    if top.has("distance"):
        names = top.sequence("distance")
        if len(names) != 2 or any(str(n) not in poses for n in names):
            raise top.error("distance", f"give two pose names among {', '.join(poses)}")
        pair = (str(names[0]), str(names[1]))
    elif "P2" in poses and "P4" in poses:
        pair = ("P2", "P4")              # ISO 9283 7.4 uses P2 -> P4
    distance_keys = [k for k in tolerances if catalogue.BY_NAME[k].clause == "7.4"]
    if pair is None and distance_keys:
        raise tol.error(distance_keys[0], "distance tolerances need a `distance: [A, B]` pose pair")
    sc = Scenario(
        name=name, source=str(path), poses=poses, description=description,
        cycles=n if cycles is None else cycles,
        speed_mm_s=top.quantity("speed", "mm/s", 250.0, min=1e-3),
        settle_s=top.quantity("settle", "s", 0.05, min=0.0),
        poll_s=top.quantity("poll", "s", 0.005, min=1e-4),
        move_timeout_s=top.quantity("move_timeout", "s", 10.0, min=0.01),
        seed=top.get("seed", int, 1, min=0, max=MAX_SEED),
        tolerances=tolerances,
        lines=lines,
        control=control,
        band_mm=top.quantity("band", "mm", 0.1, min=1e-6),
        distance_pair=pair,
        follow=_follow(top),
        via=frozenset(via), directions=directions, drift_block=drift_block, pause_s=pause,
        timing=timing, paths=paths, path_speed=path_speed,
        switch_s=top.quantity("switch_time", "s", 0.0, min=0.0, max=3600.0),
        ride_through=_ride_through(top),
        tracking_band_mm=top.quantity("tracking_band", "mm", 5.0, min=1e-6),
        guide=guide,
    )
    top.done()
    return sc
