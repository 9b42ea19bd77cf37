"""Building a run's `RunReport` (bench/reports/record.py) once, from what the run produced: the
scenario, its evaluation, the samples, the link sampler and the plot data. `hil-bench run` and
each site of a multi-site run use this one builder, so their report.json files agree."""
from __future__ import annotations

from typing import Any

import numpy as np

from bench.evaluate import Evaluation
from bench.instrument_report import self_reported_note
from bench.linksample import LinkSampler
from bench.metrics.path import polyline_length
from bench.reports.collect import PlotData
from bench.reports.record import (Delay, LinkRecord, MeasurementRow, RunInfo, RunReport,
                                  ScenarioInfo, SiteInfo, ToleranceInfo, Trace, finite,
                                  finite_figures)
from bench.runner import Sample
from bench.scenario import Scenario


def traces_for_report(samples: list[Any], max_points: int = 400) -> list[Trace]:
    """Each pose's first approach (distance to the commanded target, mm, against time since the
    command, s), thinned to at most `max_points` points, for the report's trajectory plot.
    Samples without a trace (replays, external measurements) give none."""
    out, seen = [], set()
    for s in samples:
        tr = getattr(s, "trace", None)
        if tr is None or s.pose in seen:
            continue
        seen.add(s.pose)
        err = np.linalg.norm(tr.positions - tr.target, axis=1)
        step = max(1, len(err) // max_points)
        out.append(Trace(s.pose, s.cycle, [round(float(v), 6) for v in tr.t_s[::step]],
                         [round(float(v), 6) for v in err[::step]]))
    return out


def scenario_info(sc: Scenario) -> ScenarioInfo:
    """The report's `scenario` section: path lengths rounded to um."""
    return ScenarioInfo(
        sc.name, sc.source, sc.cycles, sc.speed_mm_s, sc.seed,
        {k: ToleranceInfo(v.max, v.marginal, v.unit) for k, v in sc.tolerances.items()},
        sc.control.mode, sc.band_mm,
        {"block": sc.drift_block, "pause_s": sc.pause_s} if sc.drift_block else None,
        {k: round(polyline_length(v), 3) for k, v in sc.paths.items()}, sorted(sc.via))


def run_report(sc: Scenario, ev: Evaluation, *, verdict: str, run: RunInfo,
               samples: list[Sample], error: str | None = None,
               link: LinkSampler | None = None, plot: PlotData | None = None,
               real_hardware: bool = False,
               instrument: dict[str, Any] | None = None,
               robot_ev: Evaluation | None = None, site: SiteInfo | None = None) -> RunReport:
    """The record of a finished run. `verdict` is pass/marginal/fail/error/interrupted; `ev`
    gives the judged figures (the instrument's when `instrument` is given, with `robot_ev` the
    robot's own as `self_reported`). Link samples come from the modem's `link` sampler, else
    from the `"link"` events `plot` collected; `plot` also gives the injected delays.
    `accuracy_source` says whether the figures are an instrument's (ISO 9283) or the robot's own
    belief (`real_hardware` picks the note)."""
    accuracy_source = (self_reported_note(real_hardware) if instrument is None else
                       {"source": "instrument", "iso9283": True,
                        "instrument": instrument["name"]})
    link_rec = None
    if link is not None:
        link_rec = LinkRecord(link.samples, link.summary())
    if not (link_rec and link_rec.samples) and plot is not None and plot.link:
        link_rec = LinkRecord(plot.link, link_rec.summary if link_rec else None)
    return RunReport(
        verdict=verdict, error=error, scenario=scenario_info(sc), run=run,
        poses={name: finite_figures({**st.as_dict(), **ev.dynamics.get(name, {})})
               for name, st in ev.poses.items()},
        distance=None if ev.distance is None else {
            "poses": list(sc.distance_pair or ()), **finite_figures(ev.distance.as_dict())},
        multidir={base: {**finite_figures(figs), "directions": sc.directions.get(base, {})}
                  for base, figs in ev.multidir.items()},
        traces=traces_for_report(samples), not_judged=list(ev.not_judged),
        measurements=[MeasurementRow(**m.as_dict()) for m in ev.measurements],
        samples=[s.as_dict() for s in samples],
        delays=[Delay(*d) for d in plot.delays] if plot is not None else [],
        link=link_rec,
        link_loss=ev.link.as_dict() if ev.link is not None else None,
        tracking=({k: finite(v) for k, v in ev.tracking.items()}
                  if ev.tracking is not None else None),
        trajectory=({"guide": sc.guide.subject, "axis": sc.guide.axis,
                     **finite_figures(ev.trajectory)}
                    if ev.trajectory is not None and sc.guide is not None else None),
        accuracy_source=accuracy_source, instrument=instrument,
        self_reported=None if robot_ev is None or instrument is None else {
            p: finite_figures(st.as_dict()) for p, st in robot_ev.poses.items()},
        site=site)
