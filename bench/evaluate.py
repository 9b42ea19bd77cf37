"""From samples to a verdict: ISO 9283 and time-domain figures per pose, judged against limits.

Per pose: AP, RP, worst single error and (with orientation) APa/b/c, RPa/b/c from
`bench.metrics.iso9283`; time-domain figures from each approach's robot-side trace
(`bench.metrics.timedomain`), reduced to the **worst over the cycles** (a limit on overshoot is a
limit on every approach, not on the average). Scenario-wide: AD/RD between the scenario's distance
pair (ISO 9283 7.4, P2 -> P4 by default) and, with a `guide:` axis, the surgical trajectory
figures (`bench.metrics.trajectory`, worst placement over the cycles). Which figures exist,
their units, scopes and whether they are signed (a limit judges a signed figure's magnitude)
come from `bench.metrics.catalogue`.
Per pose, also ISO 9283 7.5/7.6 stabilisation time and overshoot (mean over cycles, informative) and,
in stream mode, AT/RT (8.2) of the streamed segment into each pose (informative).
A pose or figure with no data is NaN, and NaN fails any limit. Exception: when no sample carries
a trace at all (external measurements, replays of recorded sessions), time-domain figures were
not measured by design; their limits are then listed in `Evaluation.not_judged` instead of failing.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from bench.evaluate_figures import drift_figures, guide_figures, multidir_figures, path_figures
from bench.limits import Measurement, Outcome
from bench.metrics import catalogue
from bench.linkloss import LinkLoss
from bench.metrics.distance import DistanceStats, distance_stats
from bench.metrics.iso9283 import PoseStats, pose_table
from bench.metrics.stabilisation import stabilisation
from bench.runner import Sample
from bench.scenario import Scenario

#: time-domain figures kept per pose (worst over cycles): catalogue name -> MoveFigures field
_FIGURE_FIELDS = {"overshoot": "overshoot_mm", "settling": "settling_s",
                  "time_to_target": "time_to_target_s", "excursion": "excursion_mm",
                  "corrective_moves": "corrective_moves"}
#: figures that need time-resolved traces (not judged on trace-less data)
TRACE_FIGURES = frozenset(catalogue.names(data="trace"))


@dataclass(frozen=True)
class Evaluation:
    """Per-pose statistics, time-domain figures, every judged measurement and the outcome."""

    poses: dict[str, PoseStats]
    measurements: list[Measurement]
    dynamics: dict[str, dict[str, float]] = field(default_factory=dict)
    distance: DistanceStats | None = None
    not_judged: list[str] = field(default_factory=list)
    #: ISO 9283 7.3: per pose approached from several directions, {vAP, vAPa, vAPb, vAPc}
    multidir: dict[str, dict[str, float]] = field(default_factory=dict)
    #: what the link did (`bench.linkloss`), and a stream's tracking figures, when known
    link: LinkLoss | None = None
    tracking: dict[str, float] | None = None
    #: the guide axis's trajectory figures, mean and worst over the placements (cycles)
    trajectory: dict[str, float] | None = None

    @property
    def outcome(self) -> Outcome:
        return Outcome.worst([m.outcome for m in self.measurements])

    def figure(self, pose: str, key: str) -> float | None:
        """A per-pose figure by catalogue name (None when not computed)."""
        if key in self.dynamics.get(pose, {}):
            return self.dynamics[pose][key]
        v = getattr(self.poses[pose], key, None) if pose in self.poses else None
        return None if v is None else float(v)


def _dynamics(samples: list[Sample], band_mm: float) -> dict[str, float]:
    out = {k: float("nan") for k in _FIGURE_FIELDS}
    figs = []
    for s in samples:
        if s.trace is None:
            return out
        f = s.trace.figures(band_mm, final=s.attained.position)
        if not s.trace.settled:           # a loop stopped before settling never "arrived"
            f = dataclasses.replace(f, settling_s=float("nan"))
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


def _link_figures(sc: Scenario, link: LinkLoss | None,
                  tracking: dict[str, float] | None) -> dict[str, dict[str, float | None]]:
    """The link-loss figures (recovery_time per pose, the others with subject "link") and a
    stream's tracking figures (subject "stream") as extra figures."""
    out: dict[str, dict[str, float | None]] = {}
    if link is not None:
        for name in sc.measured:
            out[name] = {"recovery_time": link.figure("recovery_time", name) or 0.0}
        out["link"] = {m.name: link.figure(m.name) for m in catalogue.CATALOGUE
                       if m.data == "link" and m.scope == "scenario"}
    if tracking is not None:
        out["stream"] = dict(tracking)
    return out


def evaluate(sc: Scenario, samples: list[Sample],
             extra_figures: Mapping[str, Mapping[str, float | None]] | None = None,
             link: LinkLoss | None = None,
             tracking: dict[str, float] | None = None) -> Evaluation:
    """Compute every figure and judge each against the scenario's tolerances.

    `extra_figures` ({subject: {catalogue name: value}}) adds figures computed elsewhere: a pose
    name as subject adds per-pose figures, any other subject scenario-wide ones. Every figure
    with a tolerance is judged (a missing one fails); headline figures are listed without one.
    `link`: the run's link-loss figures (`bench.linkloss`); `tracking`: a stream's tracking
    figures. Without them, tolerances on those figures are listed in `not_judged` (a tracker's
    CSV has no link events), not failed.
    """
    missing = {"link"} if link is None else set()
    if tracking is None:
        missing.add("stream")
    extra_figures = {**_link_figures(sc, link, tracking), **(extra_figures or {})}
    stats: dict[str, PoseStats] = {}
    if samples:
        cols = 6                           # Pose always carries orientation
        table = pose_table([s.pose for s in samples],
                           np.array([s.commanded.as_array()[:cols] for s in samples]),
                           np.array([s.attained.as_array()[:cols] for s in samples]))
        stats = {str(k): v for k, v in table.items()}
    dynamics: dict[str, dict[str, float]] = {}
    measurements: list[Measurement] = []
    for name in sc.measured:
        stats.setdefault(name, PoseStats.empty())
        dynamics[name] = _dynamics([s for s in samples if s.pose == name], sc.band_mm)
        if name in sc.paths:             # approach figures mean nothing on a closed path
            for key in (*_FIGURE_FIELDS, "iso_stabilisation", "iso_overshoot"):
                dynamics[name].pop(key, None)
    if sc.control.mode == "stream":
        for name, figs in path_figures(sc, samples).items():
            dynamics[name].update(figs)
    ev_poses = {name: stats[name] for name in sc.measured}
    traced = any(s.trace is not None for s in samples) or not samples
    not_judged = [] if traced else sorted(k for k in sc.tolerances if k in TRACE_FIGURES)
    not_judged += sorted(k for k in sc.tolerances
                         if (m := catalogue.get(k)) is not None and m.data in missing)
    if not traced:
        dynamics.clear()
    for name, figs in drift_figures(sc, samples).items():       # static: judged without traces
        dynamics.setdefault(name, {}).update(figs)
    multidir = multidir_figures(sc, samples)
    scenario_figs: dict[str, dict[str, float | None]] = {}
    for subject, extra in (extra_figures or {}).items():
        if subject in sc.poses:        # None (not computed) becomes NaN: a limit on it fails
            dynamics.setdefault(subject, {}).update(
                {k: float("nan") if v is None else float(v) for k, v in extra.items()})
        else:
            scenario_figs.setdefault(subject, {}).update(extra)
    ev = Evaluation(ev_poses, measurements, dynamics)
    pose_subjects = [(name, False) for name in sc.measured] + [(b, True) for b in multidir]
    for name, group in pose_subjects:
        for m in catalogue.CATALOGUE:
            if m.scope != "pose" or (not traced and m.data == "trace") or m.data in missing \
                    or (m.clause == "7.3") != group:        # vAP: per pose approached h ways
                continue
            lim = sc.tolerances.get(m.name)
            v = multidir[name].get(m.name) if group else ev.figure(name, m.name)
            if lim is None and not (m.headline and v is not None):
                continue                   # only report what is judged, plus the headline figures
            measurements.append(Measurement(m.name, catalogue.judged_value(m.name, v), m.unit,
                                            lim, subject=name))
    dist = None
    if sc.distance_pair:
        a, b = sc.distance_pair
        by_cycle = {(s.pose, s.cycle): s for s in samples}
        cycles = sorted(c for (p, c) in by_cycle if p == a and (b, c) in by_cycle)
        if len(cycles) >= 1:
            dist = distance_stats(sc.poses[a].as_array(), sc.poses[b].as_array(),
                                  np.array([by_cycle[(a, c)].attained.as_array() for c in cycles]),
                                  np.array([by_cycle[(b, c)].attained.as_array() for c in cycles]))
        dfigs: dict[str, float | None] = {
            k: (float(v) if isinstance(v, float) else None)
            for k, v in (dist.as_dict() if dist else {}).items() if k != "n"}
        scenario_figs.setdefault(f"{a}-{b}", {}).update(
            {k: dfigs.get(k) for k in catalogue.names(scope="scenario")
             if catalogue.BY_NAME[k].clause == "7.4"})
    guide, trajectory = guide_figures(sc, samples)
    for subject, figs in guide.items():
        scenario_figs.setdefault(subject, {}).update(figs)
    for m in catalogue.CATALOGUE:
        if m.scope != "scenario" or m.data in missing:
            continue
        subjects = [subj for subj, figs in scenario_figs.items() if m.name in figs]
        lim = sc.tolerances.get(m.name)
        if lim is None and not m.headline:
            continue
        if not subjects and lim is not None:
            subjects = [""]                # asked for, never computed: judged as missing
        for subj in subjects:
            v = scenario_figs.get(subj, {}).get(m.name)
            if v is not None and not math.isfinite(v):
                v = None
            measurements.append(Measurement(m.name, catalogue.judged_value(m.name, v), m.unit,
                                            lim, subject=subj))
    return Evaluation(ev_poses, measurements, dynamics, dist, sorted(set(not_judged)),
                      multidir, link, tracking, trajectory)
