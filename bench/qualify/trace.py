"""The measured link as data: a CICV5G trace, a network profile that replays it, its figures.

Trace format: exactly the columns of the shipped CICV5G files (header names as in the dataset,
see fixtures/traces/README.md; zxr805/CICV5G, doi:10.5281/zenodo.17475688): one row per answered
probe, ``pub_time(ms)`` and ``sub_time(ms)`` in epoch ms and ``delay(ms)`` = sub - pub, the round
trip; ``cellid(db)``, ``sinr(db)``, ``rsrp(db)`` from the modem sample in force (``0``/``nan``
when the site has no modem). A site does not move: ``velocity(m/s)`` is 0 and the position and
heading columns are ``nan`` (not measured). Times are written with 3 decimals (microseconds);
the dataset writes whole ms, and both read the same (`bench.impair.traces.read_cicv5g`).

Lost probes have no row (like the dataset, which has no rows for lost echoes); so that a replay
loses what the measurement lost, the profile written beside the trace schedules each run of
consecutive lost probes as an outage window (from the first lost probe to the next answer) at its
time since the first probe. The trace loops when a run is longer than it; the windows do not.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.qualify.probe import ProbeRow

HEADER = ("pub_time(ms) sub_time(ms) delay(ms) utmX(m) utmY(m) heading(rad) velocity(m/s) "
          "cellid(db) sinr(db) rsrp(db)")


@dataclass(frozen=True)
class LostRun:
    """Consecutive lost probes: from `start_s` (first lost probe, since the first probe) for
    `duration_s` (until the next answered probe was sent, or the end of probing)."""

    start_s: float
    duration_s: float
    probes: int


def lost_runs(rows: list[ProbeRow], end_s: float) -> list[LostRun]:
    """Runs of consecutive lost probes, in order. `end_s`: when probing stopped (run time)."""
    out: list[LostRun] = []
    first: ProbeRow | None = None
    n = 0
    for r in rows:
        if r.lost:
            first = first or r
            n += 1
        elif first is not None:
            out.append(LostRun(first.t_s, r.t_s - first.t_s, n))
            first, n = None, 0
    if first is not None:
        out.append(LostRun(first.t_s, max(end_s - first.t_s, 1e-3), n))
    return out


def link_figures(rows: list[ProbeRow], end_s: float) -> dict[str, Any]:
    """RTT quantiles (ms), jitter (ms), loss (fraction) and lost runs of a probe series.

    jitter: mean absolute difference of consecutive answered RTTs (the RFC 3550 interarrival
    jitter without its 1/16 smoothing) and the RTT standard deviation."""
    rtt = np.array([r.rtt_ms for r in rows if r.rtt_ms is not None], dtype=float)
    runs = lost_runs(rows, end_s)
    out: dict[str, Any] = {"probes": len(rows), "answered": int(rtt.size),
                           "lost": len(rows) - int(rtt.size),
                           "loss": round((len(rows) - rtt.size) / len(rows), 6) if rows else None,
                           "duration_s": round(end_s, 3)}
    if rtt.size:
        out["rtt_ms"] = {k: round(float(v), 3) for k, v in (
            ("min", rtt.min()), ("median", np.median(rtt)), ("p90", np.percentile(rtt, 90)),
            ("p99", np.percentile(rtt, 99)), ("max", rtt.max()), ("mean", rtt.mean()))}
        d = np.abs(np.diff(rtt))
        out["jitter_ms"] = {"mean_abs_diff": round(float(d.mean()), 3) if d.size else 0.0,
                            "std": round(float(rtt.std()), 3)}
    else:
        out["rtt_ms"] = None
        out["jitter_ms"] = None
    out["lost_runs"] = len(runs)
    out["longest_outage_s"] = round(max((r.duration_s for r in runs), default=0.0), 3)
    out["outages"] = [{"at_s": round(r.start_s, 3), "duration_s": round(r.duration_s, 3),
                       "probes": r.probes} for r in runs]
    return out


def _num(v: float | None, fmt: str) -> str:
    return "nan" if v is None or not math.isfinite(v) else format(v, fmt)


def write_trace(path: Path, rows: list[ProbeRow]) -> int:
    """Write the answered probes as a CICV5G trace; returns the number of rows written.
    Raises ValueError when no probe was answered (a trace needs at least one row)."""
    lines = [HEADER]
    for r in rows:
        if r.rtt_ms is None:
            continue
        cell = r.cell_id if r.cell_id else "0"
        lines.append(f"{r.pub_ms:.3f} {r.pub_ms + r.rtt_ms:.3f} {r.rtt_ms:.3f} nan nan nan "
                     f"0.000000 {cell} {_num(r.sinr_db, 'g')} {_num(r.rsrp_dbm, 'g')}")
    if len(lines) == 1:
        raise ValueError("no probe was answered: nothing to write as a trace")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return len(lines) - 1


def write_profile(path: Path, trace: Path, rows: list[ProbeRow], end_s: float, name: str,
                  description: str) -> dict[str, Any]:
    """Write a network profile replaying `trace` (split half each way) with the measured lost
    runs as scheduled outages; returns the profile document. The trace path is written relative
    to the profile when they share a folder."""
    first_answer = next(r.t_s for r in rows if r.rtt_ms is not None)
    doc: dict[str, Any] = {"name": name, "description": description,
                           "trace": {"file": trace.name if trace.parent == path.parent
                                     else str(trace.resolve()),
                                     "format": "cicv5g", "split": 0.5}}
    # the replayed link's time 0 is the trace's first row, i.e. the first answered probe
    windows = []
    for r in lost_runs(rows, end_s):
        at, end = max(r.start_s - first_answer, 0.0), r.start_s + r.duration_s - first_answer
        if end - at >= 1e-3:
            windows.append({"at": f"{at:.3f} s", "duration": f"{end - at:.3f} s"})
    if windows:
        doc["outage"] = {"schedule": windows}
    header = ("# Measured by `hil-bench link qualify`: a live link replayed as a network profile.\n"
              f"# {description}\n# Trace format: CICV5G columns (zxr805/CICV5G, "
              "doi:10.5281/zenodo.17475688, CC BY 4.0); lost probes are outage windows.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return doc
