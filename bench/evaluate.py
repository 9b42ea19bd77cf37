"""From samples to a verdict: ISO 9283 and time-domain figures per pose, judged against limits.

Per pose: AP, RP, worst single error and (with orientation) APa/b/c, RPa/b/c from
`bench.metrics.iso9283`; time-domain figures from each approach's robot-side trace
(`bench.metrics.timedomain`), reduced to the **worst over the cycles** (a limit on overshoot is a
limit on every approach, not on the average). Scenario-wide: AD/RD between the scenario's distance
pair (ISO 9283 7.4, P2 -> P4 by default). Signed figures (APa/b/c, AD) are judged by magnitude.
Per pose, also ISO 9283 7.5/7.6 stabilisation time and overshoot (mean over cycles, informative) and,
in stream mode, AT/RT (8.2) of the streamed segment into each pose (informative).
A pose or figure with no data is NaN, and NaN fails any limit. Exception: when no sample carries
a trace at all (external measurements, replays of recorded sessions), time-domain figures were
not measured by design; their limits are then listed in `Evaluation.not_judged` instead of failing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from bench.limits import Measurement, Outcome
from bench.metrics.distance import DistanceStats, distance_stats
from bench.metrics.iso9283 import PoseStats, pose_table
from bench.metrics.path import path_stats
from bench.metrics.stabilisation import stabilisation
from bench.runner import Sample
from bench.scenario import SCENARIO_TOLERANCE_UNITS, TOLERANCE_UNITS, Scenario

#: time-domain figures kept per pose (worst over cycles), with their units
DYNAMIC_UNITS = {"overshoot": "mm", "settling": "s", "time_to_target": "s", "excursion": "mm",
                 "corrective_moves": ""}
_FIGURE_FIELDS = {"overshoot": "overshoot_mm", "settling": "settling_s",
                  "time_to_target": "time_to_target_s", "excursion": "excursion_mm",
                  "corrective_moves": "corrective_moves"}
SIGNED = {"APa", "APb", "APc", "AD"}


@dataclass(frozen=True)
class Evaluation:
    """Per-pose statistics, time-domain figures, every judged measurement and the outcome."""

    poses: dict[str, PoseStats]
    measurements: list[Measurement]
    dynamics: dict[str, dict[str, float]] = field(default_factory=dict)
    distance: DistanceStats | None = None
    not_judged: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        return Outcome.worst([m.outcome for m in self.measurements])

    def figure(self, pose: str, key: str) -> float | None:
        """A per-pose figure by tolerance name (None when not computed)."""
        if key in DYNAMIC_UNITS:
            return self.dynamics.get(pose, {}).get(key)
        v = getattr(self.poses[pose], key, None)
        return None if v is None else float(v)


def _dynamics(samples: list[Sample], band_mm: float) -> dict[str, float]:
    out = {k: float("nan") for k in DYNAMIC_UNITS}
    figs = []
    for s in samples:
        if s.trace is None:
            return out
        f = s.trace.figures(band_mm, final=s.attained.position)
        if not s.trace.settled:           # a loop stopped before settling never "arrived"
            f = type(f)(**{**f.as_dict(), "settling_s": float("nan")})
        figs.append(f)
    if not figs:
        return out
    for key, attr in _FIGURE_FIELDS.items():
        vals = np.array([getattr(f, attr) for f in figs], dtype=float)
        out[key] = float("nan") if np.isnan(vals).any() else float(vals.max())
    # ISO 9283 7.5 / 7.6 as the standard reports them: the mean over the cycles
    iso = [stabilisation(s.trace.t_s, s.trace.positions, band_mm, s.attained.position)
           for s in samples if s.trace is not None]
    out["iso_stabilisation"] = float(np.mean([x.stabilisation_s for x in iso]))
    out["iso_overshoot"] = float(np.mean([x.overshoot_mm for x in iso]))
    return out


def _path_figures(sc: Scenario, samples: list[Sample]) -> dict[str, dict[str, float]]:
    """ISO 9283 8.2 AT/RT of each streamed segment (previous pose -> pose), from the traces
    of every cycle that started at the previous pose (cycle 1's first move starts at home)."""
    names = list(sc.poses)
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate(names):
        prev = sc.poses[names[i - 1]].position
        goal = sc.poses[name].position
        if np.linalg.norm(goal - prev) < 1.0:
            continue
        paths = [s.trace.positions for s in samples if s.pose == name and s.trace is not None
                 and not (s.cycle == 1 and i == 0)]
        if len(paths) < 2:
            continue
        cmd = prev + np.linspace(0.02, 0.98, 25)[:, None] * (goal - prev)   # m = 25 points
        st = path_stats(cmd, paths)
        out[name] = {"AT": st["AT"], "RT": st["RT"]}
    return out


def evaluate(sc: Scenario, samples: list[Sample]) -> Evaluation:
    """Compute every figure and judge each against the scenario's tolerances."""
    stats: dict[str, PoseStats] = {}
    if samples:
        cols = 6                           # Pose always carries orientation
        table = pose_table([s.pose for s in samples],
                           np.array([s.commanded.as_array()[:cols] for s in samples]),
                           np.array([s.attained.as_array()[:cols] for s in samples]))
        stats = {str(k): v for k, v in table.items()}
    dynamics: dict[str, dict[str, float]] = {}
    measurements: list[Measurement] = []
    for name in sc.poses:
        stats.setdefault(name, PoseStats.empty())
        dynamics[name] = _dynamics([s for s in samples if s.pose == name], sc.band_mm)
    if sc.control.mode == "stream":
        for name, figs in _path_figures(sc, samples).items():
            dynamics[name].update(figs)
    ev_poses = {name: stats[name] for name in sc.poses}
    ev = Evaluation(ev_poses, measurements, dynamics)
    traced = any(s.trace is not None for s in samples) or not samples
    not_judged = [] if traced else sorted(k for k in sc.tolerances if k in DYNAMIC_UNITS)
    if not traced:
        dynamics.clear()
    for name in sc.poses:
        for key, unit in TOLERANCE_UNITS.items():
            if key in not_judged or (not traced and key in DYNAMIC_UNITS):
                continue
            lim = sc.tolerances.get(key)
            if lim is None and key not in ("AP", "RP", "worst", "overshoot"):
                continue                   # only report what is judged, plus the headline figures
            v = ev.figure(name, key)
            if v is not None and key in SIGNED:
                v = abs(v)
            measurements.append(Measurement(key, v, unit, lim, subject=name))
    dist = None
    if sc.distance_pair:
        a, b = sc.distance_pair
        by_cycle = {(s.pose, s.cycle): s for s in samples}
        cycles = sorted(c for (p, c) in by_cycle if p == a and (b, c) in by_cycle)
        if len(cycles) >= 1:
            dist = distance_stats(sc.poses[a].as_array(), sc.poses[b].as_array(),
                                  np.array([by_cycle[(a, c)].attained.as_array() for c in cycles]),
                                  np.array([by_cycle[(b, c)].attained.as_array() for c in cycles]))
        for key, unit in SCENARIO_TOLERANCE_UNITS.items():
            if key in sc.tolerances:
                v = getattr(dist, key) if dist else None
                if v is not None and key in SIGNED and math.isfinite(v):
                    v = abs(v)
                measurements.append(Measurement(key, v, unit, sc.tolerances[key],
                                                subject=f"{a}-{b}"))
    return Evaluation(ev_poses, measurements, dynamics, dist, not_judged)
