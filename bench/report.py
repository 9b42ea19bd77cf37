"""Reports: a terminal table and `report.json`, written atomically (never half a file)."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from bench.evaluate import Evaluation
from bench.limits import Outcome
from bench.metrics.path import polyline_length
from bench.scenario import Scenario

REPORT_SCHEMA = "hil-bench/report/1"


def _num(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def traces_for_report(samples: list[Any], max_points: int = 400) -> list[dict[str, Any]]:
    """Each pose's first approach as {pose, cycle, t_s, error_mm} (distance to the commanded
    target, mm), thinned to at most `max_points` points, for the report's trajectory plot."""
    out, seen = [], set()
    for s in samples:
        tr = getattr(s, "trace", None)
        if tr is None or s.pose in seen:
            continue
        seen.add(s.pose)
        err = np.linalg.norm(tr.positions - tr.target, axis=1)
        step = max(1, len(err) // max_points)
        out.append({"pose": s.pose, "cycle": s.cycle,
                    "t_s": [round(float(v), 6) for v in tr.t_s[::step]],
                    "error_mm": [round(float(v), 6) for v in err[::step]]})
    return out


def build_report(sc: Scenario, ev: Evaluation, *, verdict: str, meta: dict[str, Any],
                 samples: list[dict], error: str | None = None,
                 link: list[dict] | None = None,
                 link_summary: dict[str, Any] | None = None,
                 traces: list[dict] | None = None) -> dict[str, Any]:
    """The report as a JSON-ready dict (schema in docs/report-format.md).
    `verdict` is pass/marginal/fail/error.

    With a modem in the lab: `link` is the list of link samples, one flat dict each
    ({t_ns, rat, state, cell_id, pci, band, arfcn, rsrp_dbm, rsrq_db, sinr_db}, times on the
    run's clock like every other t_ns), and `link_summary` has counts, cells, cell changes and
    RSRP / SINR min / median / max. `traces` are the first approach of each pose
    (`traces_for_report`).
    """
    report = {
        "schema": REPORT_SCHEMA,
        "verdict": verdict,
        "error": error,
        "scenario": {"name": sc.name, "source": sc.source, "cycles": sc.cycles,
                     "speed_mm_s": sc.speed_mm_s, "seed": sc.seed,
                     "tolerances": {k: {"max": v.max, "marginal": v.marginal, "unit": v.unit}
                                    for k, v in sc.tolerances.items()},
                     "control": sc.control.mode, "band_mm": sc.band_mm,
                     "drift": {"block": sc.drift_block, "pause_s": sc.pause_s}
                     if sc.drift_block else None,
                     "paths": {k: round(polyline_length(v), 3) for k, v in sc.paths.items()},
                     "via": sorted(sc.via)},
        **meta,
        "poses": {name: {k: _num(v) if isinstance(v, float) else v
                         for k, v in {**st.as_dict(), **ev.dynamics.get(name, {})}.items()}
                  for name, st in ev.poses.items()},
        "distance": None if ev.distance is None else {
            "poses": list(sc.distance_pair or ()),
            **{k: _num(v) if isinstance(v, float) else v for k, v in ev.distance.as_dict().items()}},
        "multidir": {base: {**{k: _num(v) for k, v in figs.items()},
                            "directions": sc.directions.get(base, {})}
                     for base, figs in ev.multidir.items()},
        "traces": traces or [],
        "not_judged": list(ev.not_judged),
        "measurements": [m.as_dict() for m in ev.measurements],
        "samples": samples,
    }
    if link is not None:
        report["link"] = link
        report["link_summary"] = link_summary
    if ev.link is not None:
        report["link_loss"] = ev.link.as_dict()
    if ev.tracking is not None:
        report["tracking"] = {k: _num(v) for k, v in ev.tracking.items()}
    if ev.trajectory is not None and sc.guide is not None:
        report["trajectory"] = {"guide": sc.guide.subject, "axis": sc.guide.axis,
                                **{k: _num(v) for k, v in ev.trajectory.items()}}
    return report


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to `path` via a temporary file and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, allow_nan=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def print_table(sc: Scenario, ev: Evaluation, out: TextIO) -> None:
    """The console summary: one row per pose (n, AP with its components, RP, outcome), then every
    judged value next to its limit in one form (value unit, <= limit unit, marginal above, outcome).
    Columns are as wide as their longest entry, so long pose names keep the table aligned."""
    def fmt(v: float | None) -> str:
        return f"{v:.4f}" if v is not None and math.isfinite(v) else "nan"

    rows = [["pose", "n", "AP mm", "APx", "APy", "APz", "RP mm", "outcome"]]
    for name, st in ev.poses.items():
        outcomes = [m.outcome for m in ev.measurements if m.subject == name and m.limit]
        rows.append([name, str(st.n), fmt(st.AP), fmt(st.APx), fmt(st.APy), fmt(st.APz),
                     fmt(st.RP), Outcome.worst(outcomes).value.upper()])
    out.write("\n" + _columns(rows, left=(0, 7)))
    judged = [["judged", "value", "limit", "marginal above", "outcome"]]
    for m in ev.measurements:
        if m.limit is None:
            continue
        unit = f" {m.unit}" if m.unit else ""
        judged.append([f"{m.subject} {m.name}".strip(), f"{fmt(m.value)}{unit}",
                       f"<= {m.limit.max:g}{unit}",
                       "-" if m.limit.marginal is None else f"{m.limit.marginal:g}{unit}",
                       m.outcome.value.upper()])
    if len(judged) > 1:
        out.write("\n" + _columns(judged, left=(0, 4)))
    shown = {"AP", "APx", "APy", "APz", "RP", "worst", "overshoot"}
    figures = [["not judged", "value"]]         # vAP, dAP/dRP, AT/RT, ... without a tolerance
    for m in ev.measurements:
        if m.limit is None and m.name not in shown:
            unit = f" {m.unit}" if m.unit else ""
            figures.append([f"{m.subject} {m.name}".strip(), f"{fmt(m.value)}{unit}"])
    if len(figures) > 1:
        out.write("\n" + _columns(figures))

    if ev.link is not None:
        out.write("\n" + link_loss_line(ev) + "\n")


def _columns(rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    """Rows as aligned text columns (two spaces apart); columns in `left` flush left."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) if i in left else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip() + "\n"
                   for r in rows)


def link_loss_line(ev: Evaluation) -> str:
    """One line with the run's link-loss figures and the poses that went through an outage."""
    assert ev.link is not None
    r = ev.link.run
    through = [name for name, p in ev.link.poses.items() if p.get("visits_through_outage")]
    return (f"link: {r['outages']:.0f} outages, {r['link_down_time']:.3f} s without link "
            f"(longest {r['longest_outage']:.3f} s), recovery {r['recovery_time']:.3f} s, "
            f"{r['protective_stops']:.0f} protective stops, {r['reconnects']:.0f} reconnects, "
            f"{r['retransmissions']:.0f} retransmissions, {r['lost_setpoints']:.0f} lost / "
            f"{r['late_setpoints']:.0f} late setpoints"
            + (f"; through an outage: {', '.join(through)}" if through else ""))
