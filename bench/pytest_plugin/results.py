"""The run's record: results.json (one entry per test) and the terminal summary section.

Collected on the process that reports (the xdist controller, or the only process), from the test
reports, so a run spread over workers still gives one file. `results.json` is written atomically
and only when at least one test used the bench, so plain test suites leave nothing behind.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench import __version__
from bench.pytest_plugin.devices import DeviceState
from bench.reports.atomic import write_json_atomic

ORDER = ["passed", "skipped", "failed", "error"]


class RunRecord:
    """Accumulates per-test outcomes, measurements and traffic logs from reports."""

    def __init__(self) -> None:
        self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.tests: dict[str, dict[str, Any]] = {}
        self.bench_used = False

    def add(self, report: Any) -> None:
        """Fold one phase report (setup, call or teardown) into its test's entry."""
        info = getattr(report, "hil_bench", None)
        if info is None:
            return
        self.bench_used = True
        entry = self.tests.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "outcome": "passed", "duration_s": 0.0,
            "worker": info.get("worker", "main"), "measurements": [], "traffic_log": None,
            "network": None, "session": None,
            "devices": {}, "message": None})
        entry["duration_s"] = round(entry["duration_s"] + float(report.duration or 0.0), 6)
        outcome = report.outcome
        if report.when != "call" and report.failed:
            outcome = "error"
        if ORDER.index(outcome) > ORDER.index(entry["outcome"]):
            entry["outcome"] = outcome
            entry["message"] = _short(report)
        if info.get("measurements"):
            entry["measurements"] = info["measurements"]
        for key in ("traffic_log", "network", "session"):
            if info.get(key):
                entry[key] = info[key]
        entry["devices"].update(info.get("devices", {}))

    def write(self, path: Path, settings: dict, lab: dict,
              devices: dict[str, DeviceState]) -> None:
        counts = {k: 0 for k in ORDER}
        for t in self.tests.values():
            counts[t["outcome"]] += 1
        outcomes = [m["outcome"] for t in self.tests.values() for m in t["measurements"]]
        doc = {
            "tool": {"name": "hil-bench", "version": __version__},
            "started_utc": self.started,
            "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "settings": settings, "lab": lab,
            "devices": {k: v.as_dict() for k, v in devices.items()},
            "summary": {**counts, "measurements": {o: outcomes.count(o)
                                                   for o in ("pass", "marginal", "fail")}},
            "tests": sorted(self.tests.values(), key=lambda t: t["nodeid"]),
        }
        write_json_atomic(path, doc)

    def measurement_counts(self) -> dict[str, int]:
        outcomes = [m["outcome"] for t in self.tests.values() for m in t["measurements"]]
        return {o: outcomes.count(o) for o in ("pass", "marginal", "fail")}


def _short(report: Any) -> str | None:
    if report.passed:
        return None
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message).splitlines()[0]
    text = getattr(report, "longreprtext", "") or ""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("E ")]
    return (errors[-1][1:].strip() if errors else (lines[-1] if lines else None))
