"""Writing a run's or a sweep's reports: report.json, junit.xml, report.html, each atomically
(temporary file + rename), report.json last so its presence means the others are complete."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.reports import accuracy
from bench.reports.atomic import write_atomic, write_json_atomic
from bench.reports.html import run_html, sweep_html
from bench.reports.junit import junit_xml
from bench.reports.record import MeasurementRow, RunReport


def write_run_reports(out: Path, report: RunReport, html: bool = True) -> None:
    """junit.xml, report.html (unless `html` is False) and report.json for one run."""
    sc, data = report.scenario, report.as_json()
    link_loss = (report.link_loss or {}).get("run", {})
    write_atomic(out / "junit.xml", junit_xml(
        f"hil-bench.{sc.name}", report.measurements, report.error,
        {"verdict": report.verdict, "seed": report.run.seed, "mode": report.run.mode,
         "control": sc.control, **accuracy.suite_properties(data),
         **{f"link_loss.{k}": v for k, v in link_loss.items()}},
        accuracy.case_properties(data)))
    if html:
        write_atomic(out / "report.html", run_html(report).encode("utf-8"))
    write_json_atomic(out / "report.json", data)


def write_sweep_reports(out: Path, result: dict[str, Any]) -> None:
    """junit.xml (one case per point), report.html and report.json for a sweep."""
    cases = [MeasurementRow(f"{p['control']}@{p['delay_ms']:g}ms", "sweep",
                            p["figures"].get("worst"), "mm", None, None,
                            "fail" if p["verdict"] in ("fail", "error") else p["verdict"])
             for p in result.get("points", [])]
    write_atomic(out / "junit.xml", junit_xml(f"hil-bench.sweep.{result.get('scenario')}", cases,
                                               None, {"budget_ms": result.get("budget_ms")}))
    write_atomic(out / "report.html", sweep_html(result).encode("utf-8"))
    write_json_atomic(out / "report.json", {"schema": "hil-bench/sweep/1", **result})
