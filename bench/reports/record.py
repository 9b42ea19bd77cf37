"""The report of one run as a typed record, built once when the run ends.

`RunReport.as_json()` is report.json (schema `hil-bench/report/1`, docs/report-format.md); junit.xml,
report.html and the console summary read the record, not the JSON. `RunReport.from_json` reads a
report.json back (keys this version does not know are kept in `extra` and written back unchanged,
as the schema's version rule asks of readers). Units are in the field names: mm, degrees, s, ns.
Numbers that could not be computed (NaN) are None here and null in the JSON.

Failure modes: `from_json` raises KeyError/TypeError on a document without the keys every
report.json has (schema, verdict, scenario, lab, mode, seed, measurements).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple

from bench import __version__

REPORT_SCHEMA = "hil-bench/report/1"
#: the per-pose figures: catalogue name -> value (mm, deg, s or a count; None when NaN)
Figures = dict[str, Any]


def finite(v: Any) -> Any:
    """`v`, or None for a float that is NaN or infinite (JSON has no NaN)."""
    return None if isinstance(v, float) and not math.isfinite(v) else v


def finite_figures(figures: dict[str, Any]) -> Figures:
    """The figures with NaN as None."""
    return {k: finite(v) for k, v in figures.items()}


def _omit_none(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if not (k in keys and v is None)}


@dataclass
class LabInfo:
    """The lab and the names of the devices opened on it (filled while they open)."""

    name: str
    source: str
    robot: str = ""
    site: str | None = None
    instrument: str | None = None
    modem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return _omit_none({"name": self.name, "source": self.source, "robot": self.robot,
                           "site": self.site, "instrument": self.instrument,
                           "modem": self.modem}, "site", "instrument", "modem")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LabInfo:
        return cls(d["name"], d.get("source", ""), d.get("robot", ""), d.get("site"),
                   d.get("instrument"), d.get("modem"))


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _tool() -> dict[str, str]:
    return {"name": "hil-bench", "version": __version__}


@dataclass
class RunInfo:
    """Who ran what, where and how: the run's metadata (the session's metadata at its start, the
    report's `tool` ... `duration_s`). `simulators` and `proxies` are the rig's lists of child
    processes' ready lines, shared with the rig so they fill while it opens devices."""

    lab: LabInfo
    mode: str
    seed: int
    network: dict[str, Any] | None = None
    started_utc: str = field(default_factory=_utc_now)
    tool: dict[str, str] = field(default_factory=_tool)
    simulators: list[dict[str, Any]] = field(default_factory=list)
    proxies: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float | None = None          # set when the run ends

    def as_json(self) -> dict[str, Any]:
        """The metadata keys; `duration_s` only once the run has ended."""
        return _omit_none({"tool": self.tool, "lab": self.lab.as_json(), "mode": self.mode,
                           "seed": self.seed, "started_utc": self.started_utc,
                           "simulators": self.simulators, "network": self.network,
                           "proxies": self.proxies, "duration_s": self.duration_s},
                          "duration_s")

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunInfo:
        return cls(LabInfo.from_json(d["lab"]), d["mode"], d["seed"], d.get("network"),
                   d.get("started_utc", ""), d.get("tool") or _tool(),
                   d.get("simulators") or [], d.get("proxies") or [], d.get("duration_s"))


@dataclass(frozen=True)
class ToleranceInfo:
    """A scenario tolerance: `max`, `marginal` (or None) in `unit`."""

    max: float
    marginal: float | None
    unit: str

    def as_json(self) -> dict[str, Any]:
        return {"max": self.max, "marginal": self.marginal, "unit": self.unit}


@dataclass(frozen=True)
class ScenarioInfo:
    """The scenario as run (docs/scenarios.md): `band_mm` is the arrival band, `paths` each path
    pose's length in mm, `via` the poses only passed through."""

    name: str
    source: str
    cycles: int
    speed_mm_s: float
    seed: int
    tolerances: dict[str, ToleranceInfo]
    control: str
    band_mm: float
    drift: dict[str, Any] | None
    paths: dict[str, float]
    via: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "cycles": self.cycles,
                "speed_mm_s": self.speed_mm_s, "seed": self.seed,
                "tolerances": {k: t.as_json() for k, t in self.tolerances.items()},
                "control": self.control, "band_mm": self.band_mm, "drift": self.drift,
                "paths": self.paths, "via": self.via}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ScenarioInfo:
        return cls(d["name"], d.get("source", ""), d.get("cycles", 0), d.get("speed_mm_s", 0.0),
                   d.get("seed", 0),
                   {k: ToleranceInfo(t["max"], t.get("marginal"), t.get("unit", ""))
                    for k, t in (d.get("tolerances") or {}).items()},
                   d.get("control", "target"), d.get("band_mm", 0.0), d.get("drift"),
                   d.get("paths") or {}, d.get("via") or [])


@dataclass(frozen=True)
class MeasurementRow:
    """One judged or headline figure: `limit`/`marginal` None when not judged; `outcome` pass,
    marginal or fail; `clause` the ISO 9283 clause ("" not ISO, None outside the catalogue)."""

    name: str
    subject: str
    value: float | None
    unit: str
    limit: float | None
    marginal: float | None
    outcome: str
    clause: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject, "value": finite(self.value),
                "unit": self.unit, "limit": self.limit, "marginal": self.marginal,
                "outcome": self.outcome, "clause": self.clause}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MeasurementRow:
        return cls(d["name"], d.get("subject", ""), d.get("value"), d.get("unit", ""),
                   d.get("limit"), d.get("marginal"), d["outcome"], d.get("clause"))


@dataclass(frozen=True)
class Trace:
    """A pose's first approach: distance to the commanded target (mm) against time since the
    command (s)."""

    pose: str
    cycle: int
    t_s: list[float]
    error_mm: list[float]

    def as_json(self) -> dict[str, Any]:
        return {"pose": self.pose, "cycle": self.cycle, "t_s": self.t_s,
                "error_mm": self.error_mm}


class Delay(NamedTuple):
    """An injected one-way delay: a JSON array [t_s, "up"|"down", delay_ms or null when lost]."""

    t_s: float
    direction: str | None
    delay_ms: float | None


@dataclass
class LinkRecord:
    """The modem link: flat samples ({t_ns, rat, state, cell_id, pci, band, arfcn, rsrp_dbm,
    rsrq_db, sinr_db}, times on the run's clock) and, with a link sampler, its summary (counts,
    cells, cell changes, RSRP/SINR min/median/max)."""

    samples: list[dict[str, Any]]
    summary: dict[str, Any] | None = None


@dataclass(frozen=True)
class SiteInfo:
    """A site of a multi-site lab: its name and its latest link qualification (or None)."""

    name: str
    qualification: dict[str, Any] | None


@dataclass
class RunReport:
    """One run's result (docs/report-format.md has every field's meaning)."""

    verdict: str                  # pass, marginal, fail, error or interrupted
    error: str | None
    scenario: ScenarioInfo
    run: RunInfo
    poses: dict[str, Figures]
    distance: Figures | None
    multidir: dict[str, Figures]
    traces: list[Trace]
    not_judged: list[str]
    measurements: list[MeasurementRow]
    samples: list[dict[str, Any]]
    delays: list[Delay] = field(default_factory=list)
    link: LinkRecord | None = None
    link_loss: dict[str, Any] | None = None
    tracking: dict[str, float | None] | None = None
    #: a scenario `guide:`: {guide, axis, placements, the guide's figures (mm, deg)}
    trajectory: dict[str, Any] | None = None
    #: where the accuracy figures come from: {source: instrument|robot, iso9283, instrument|note}
    accuracy_source: dict[str, Any] | None = None
    instrument: dict[str, Any] | None = None       # bench.instrument_report's section
    self_reported: dict[str, Figures] | None = None   # the robot's own figures beside it
    site: SiteInfo | None = None
    extra: dict[str, Any] = field(default_factory=dict)   # keys of a newer report.json

    @property
    def judged(self) -> list[MeasurementRow]:
        """The measurements with a limit."""
        return [m for m in self.measurements if m.limit is not None]

    def as_json(self) -> dict[str, Any]:
        """report.json's document (JSON-ready: no NaN)."""
        out: dict[str, Any] = {
            "schema": REPORT_SCHEMA, "verdict": self.verdict, "error": self.error,
            "scenario": self.scenario.as_json(), **self.run.as_json(),
            "poses": self.poses, "distance": self.distance, "multidir": self.multidir,
            "traces": [t.as_json() for t in self.traces], "not_judged": self.not_judged,
            "measurements": [m.as_json() for m in self.measurements], "samples": self.samples}
        if self.link is not None:
            out["link"] = self.link.samples
            if self.link.summary is not None:
                out["link_summary"] = self.link.summary
        for key in ("link_loss", "tracking", "trajectory"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out["delays"] = [list(d) for d in self.delays]
        for key in ("instrument", "accuracy_source", "self_reported"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.site is not None:
            out["site"] = self.site.name
            out["qualification"] = self.site.qualification
        return {**out, **{k: v for k, v in self.extra.items() if k not in out}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunReport:
        """The record of a report.json document (see the module docstring)."""
        link = None
        if "link" in d and d["link"] is not None:
            link = LinkRecord(d["link"], d.get("link_summary"))
        known = {"schema", "verdict", "error", "scenario", "tool", "lab", "mode", "seed",
                 "started_utc", "simulators", "network", "proxies", "duration_s", "poses",
                 "distance", "multidir", "traces", "not_judged", "measurements", "samples",
                 "link", "link_summary", "link_loss", "tracking", "trajectory", "delays",
                 "instrument",
                 "accuracy_source", "self_reported", "site", "qualification"}
        return cls(
            verdict=d["verdict"], error=d.get("error"),
            scenario=ScenarioInfo.from_json(d["scenario"]), run=RunInfo.from_json(d),
            poses=d.get("poses") or {}, distance=d.get("distance"),
            multidir=d.get("multidir") or {},
            traces=[Trace(t["pose"], t["cycle"], t["t_s"], t["error_mm"])
                    for t in d.get("traces") or []],
            not_judged=list(d.get("not_judged") or []),
            measurements=[MeasurementRow.from_json(m) for m in d["measurements"]],
            samples=d.get("samples") or [],
            delays=[Delay(*row) for row in d.get("delays") or []],
            link=link, link_loss=d.get("link_loss"), tracking=d.get("tracking"),
            trajectory=d.get("trajectory"),
            accuracy_source=d.get("accuracy_source"), instrument=d.get("instrument"),
            self_reported=d.get("self_reported"),
            site=SiteInfo(d["site"], d.get("qualification")) if "site" in d else None,
            extra={k: v for k, v in d.items() if k not in known})
