"""Figures that follow the scenario's layout, computed from the run's samples for `evaluate`:
AT/RT of streamed segments and paths (ISO 9283 8.2), dAP/dRP (7.7), vAP (7.3) and the guide
axis's trajectory figures (entry/target deviation, axis angle: `bench.metrics.trajectory`).

Each function returns {subject: {catalogue name: value}}; a figure that cannot be computed from
the samples (a path that never crosses a normal plane, too few cycles, a direction without
samples) is NaN, which fails any limit on it.
"""
from __future__ import annotations

import math

import numpy as np

from bench.metrics.drift import drift
from bench.metrics.multidir import multidirectional_variation
from bench.metrics.path import path_stats, points_along, polyline_length
from bench.metrics.trajectory import FIGURES as GUIDE_FIGURES
from bench.metrics.trajectory import trajectory_figures
from bench.runner import Sample
from bench.scenario import Scenario

NAN = float("nan")
#: m, the number of command points of a straight streamed segment (ISO 9283 8.2 leaves m open)
SEGMENT_POINTS = 25
#: one command point per this many mm of a scenario path (at least SEGMENT_POINTS, at most 200)
PATH_POINT_SPACING_MM = 5.0


def path_figures(sc: Scenario, samples: list[Sample]) -> dict[str, dict[str, float]]:
    """AT/RT (mm) per measured pose reached in stream mode: along the scenario's path for path
    poses (every cycle), else along the straight segment from the previous pose (from the
    cycles that started at the previous pose: cycle 1's first move starts at home)."""
    names = list(sc.poses)
    out: dict[str, dict[str, float]] = {}
    for i, name in enumerate(names):
        if name in sc.via:
            continue
        poly = sc.paths.get(name)
        if poly is None:
            prev = sc.poses[names[i - 1]].position
            goal = sc.poses[name].position
            if np.linalg.norm(goal - prev) < 1.0:
                continue
            poly = np.array([prev, goal])
            m = SEGMENT_POINTS
            first_ok = i != 0
        else:
            m = int(min(200, max(SEGMENT_POINTS,
                                 math.ceil(polyline_length(poly) / PATH_POINT_SPACING_MM))))
            first_ok = True
        traces = [s.trace.positions for s in samples if s.pose == name and s.trace is not None
                  and (first_ok or s.cycle != 1)]
        if len(traces) < 2:
            continue
        cmd = points_along(poly, np.linspace(0.02, 0.98, m))
        st = path_stats(cmd, traces)
        out[name] = {"AT": st["AT"], "RT": st["RT"]}
    return out


def drift_figures(sc: Scenario, samples: list[Sample]) -> dict[str, dict[str, float]]:
    """dAP/dRP (mm) per measured pose: first against last `sc.drift_block` cycles."""
    out: dict[str, dict[str, float]] = {}
    if not sc.drift_block:
        return out
    for name in sc.measured:
        rows = sorted((s for s in samples if s.pose == name), key=lambda s: s.cycle)
        if len(rows) < 2 * sc.drift_block:
            out[name] = {"dAP": NAN, "dRP": NAN}
            continue
        d = drift(sc.poses[name].as_array(), np.array([s.attained.position for s in rows]),
                  sc.drift_block)
        out[name] = {"dAP": d["dAP"], "dRP": d["dRP"]}
    return out


def multidir_figures(sc: Scenario, samples: list[Sample]) -> dict[str, dict[str, float]]:
    """vAP (mm) and vAPa/b/c (deg) per pose approached from several directions."""
    out: dict[str, dict[str, float]] = {}
    for base, dirs in sc.directions.items():
        by_dir = {d: np.array([s.attained.as_array() for s in samples if s.pose == pose])
                  for d, pose in dirs.items()}
        if any(len(a) == 0 for a in by_dir.values()):
            out[base] = {"vAP": NAN, "vAPa": NAN, "vAPb": NAN, "vAPc": NAN}
            continue
        cmd = sc.poses[next(iter(dirs.values()))].as_array()
        out[base] = multidirectional_variation(by_dir, cmd)
    return out


def guide_figures(sc: Scenario, samples: list[Sample]
                  ) -> tuple[dict[str, dict[str, float]], dict[str, float] | None]:
    """({guide subject: {catalogue name: worst over cycles}}, mean and worst of every trajectory
    figure with the number of placements) for the scenario's guide axis, one placement per cycle
    that has the entry (and target) visited; ({}, None) without a guide. No placement: NaN."""
    g = sc.guide
    if g is None:
        return {}, None
    by = {(s.pose, s.cycle): s for s in samples}
    placements = []
    for cycle in sorted({c for (p, c) in by if p == g.entry}):
        e = by[(g.entry, cycle)]
        t = by.get((g.target, cycle)) if g.target else None
        if g.target and t is None:
            continue
        placements.append(g.placement(
            sc.poses[g.entry], e.attained, sc.poses[g.target] if g.target else None,
            t.attained if t is not None else None))
    summary = trajectory_figures(placements)
    worst = {name: summary[key.replace("_mm", "_max_mm").replace("_deg", "_max_deg")]
             for name, key in GUIDE_FIGURES.items()}
    return {g.subject: worst}, summary
