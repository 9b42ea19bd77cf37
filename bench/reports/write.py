"""Writing a run's or a sweep's reports: report.json, junit.xml, report.html, each atomically
(temporary file + rename), report.json last so its presence means the others are complete."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.report import write_json_atomic
from bench.reports import accuracy
from bench.reports.html import run_html, sweep_html
from bench.reports.junit import junit_xml


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_run_reports(out: Path, report: dict[str, Any], html: bool = True) -> None:
    """junit.xml, report.html (unless `html` is False) and report.json for one run."""
    sc = report.get("scenario", {})
    _write_atomic(out / "junit.xml", junit_xml(
        f"hil-bench.{sc.get('name', 'run')}", report.get("measurements", []), report.get("error"),
        {"verdict": report.get("verdict"), "seed": report.get("seed"),
         "mode": report.get("mode"), "control": sc.get("control"),
         **accuracy.suite_properties(report),
         **{f"link_loss.{k}": v for k, v in (report.get("link_loss") or {}).get("run", {}).items()}},
        accuracy.case_properties(report)))
    if html:
        _write_atomic(out / "report.html", run_html(report).encode("utf-8"))
    write_json_atomic(out / "report.json", report)


def write_sweep_reports(out: Path, result: dict[str, Any]) -> None:
    """junit.xml (one case per point), report.html and report.json for a sweep."""
    cases = [{"name": f"{p['control']}@{p['delay_ms']:g}ms", "subject": "sweep",
              "value": p["figures"].get("worst"), "unit": "mm", "limit": None, "marginal": None,
              "outcome": "fail" if p["verdict"] in ("fail", "error") else p["verdict"]}
             for p in result.get("points", [])]
    _write_atomic(out / "junit.xml", junit_xml(f"hil-bench.sweep.{result.get('scenario')}", cases,
                                               None, {"budget_ms": result.get("budget_ms")}))
    _write_atomic(out / "report.html", sweep_html(result).encode("utf-8"))
    write_json_atomic(out / "report.json", {"schema": "hil-bench/sweep/1", **result})
