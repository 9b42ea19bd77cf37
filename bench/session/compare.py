"""Comparing a replay with its original: per-target final error, time to arrive, tracking error,
and the verdict of each against the scenario's tolerances.

Units: mm for errors, seconds for times. The accumulators take one event at a time, so a long
session is compared in constant memory (only the labelled target visits are kept, a few per
target and cycle).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from bench.evaluate import evaluate
from bench.limits import Outcome
from bench.runner import Sample
from bench.scenario import Scenario
from drivers.pose import Pose


@dataclass
class Tracking:
    """Running statistics of |pose - last commanded target| for unlabelled pose reads (mm), and
    the time (s) the error stayed beyond `band_mm`: each read beyond the band counts the time
    since the previous read."""

    n: int = 0
    sum_sq: float = 0.0
    max_mm: float = 0.0
    band_mm: float = 5.0
    beyond_ns: int = 0
    last_ns: int | None = None

    def add(self, err_mm: float, t_ns: int | None = None) -> None:
        self.n += 1
        self.sum_sq += err_mm * err_mm
        if err_mm > self.max_mm:
            self.max_mm = err_mm
        if t_ns is not None:
            if err_mm > self.band_mm and self.last_ns is not None:
                self.beyond_ns += t_ns - self.last_ns
            self.last_ns = t_ns

    @property
    def rms_mm(self) -> float:
        return math.sqrt(self.sum_sq / self.n) if self.n else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "rms_mm": _num(self.rms_mm), "max_mm": _num(self.max_mm),
                "band_mm": self.band_mm, "beyond_s": self.beyond_ns / 1e9}

    def figures(self) -> dict[str, float] | None:
        """The tracking figures by tolerance name (`bench.linkloss.TRACKING_UNITS`), None
        without tracking samples."""
        if not self.n:
            return None
        return {"tracking_rms": self.rms_mm, "tracking_max": self.max_mm,
                "tracking_beyond": self.beyond_ns / 1e9}


@dataclass
class Side:
    """What one run (original or replay) did: target visits, arrivals, tracking error."""

    samples: list[Sample] = field(default_factory=list)
    tracking: Tracking = field(default_factory=Tracking)
    last_target: Pose | None = None
    last_label: str = ""
    t_command_ns: int = 0
    t_arrived_ns: int = 0
    visits: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    truncated: bool = False
    #: False: unlabelled pose reads are not tracking samples (a target-mode session's polls
    #: while it waits for an arrival: their distance to the target is the distance still to go)
    tracks: bool = True

    def command(self, t_ns: int, label: str, target: Pose) -> None:
        self.last_target, self.last_label, self.t_command_ns = target, label, t_ns
        self._xyz = (target.x, target.y, target.z)
        self.t_arrived_ns = 0

    def arrived(self, t_ns: int) -> None:
        if not self.t_arrived_ns:
            self.t_arrived_ns = t_ns

    def track(self, x: float, y: float, z: float, t_ns: int | None = None) -> None:
        """An unlabelled pose read (mm) at `t_ns`: its distance to the last setpoint, without a
        Pose."""
        if self.last_target is not None and self.tracks:
            self.tracking.add(math.dist((x, y, z), self._xyz), t_ns)

    def pose(self, t_ns: int, pose: Pose, label: str) -> None:
        if self.last_target is None:
            return
        if not label:
            if self.tracks:
                self.tracking.add(math.dist((pose.x, pose.y, pose.z), self._xyz), t_ns)
            return
        cycle = self.visits.get(label, 0) + 1
        self.visits[label] = cycle
        self.samples.append(Sample(label, cycle, self.last_target, pose, self.t_command_ns,
                                   self.t_arrived_ns or t_ns, t_ns))


@dataclass(frozen=True)
class TargetRow:
    """One target visit in both runs."""

    label: str
    cycle: int
    error_original_mm: float
    error_replay_mm: float | None
    difference_mm: float | None          # distance between the two attained poses
    arrive_original_s: float | None
    arrive_replay_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return {k: _num(v) if isinstance(v, float) else v for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Comparison:
    """The outcome of a replay next to the original's."""

    session: str
    mode: str
    network: str
    targets: list[TargetRow]
    verdict_original: str
    verdict_replay: str
    tracking_original: dict[str, Any]
    tracking_replay: dict[str, Any]
    max_difference_mm: float | None
    commands: int
    duration_s: float
    wall_s: float
    new_session: str | None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    #: the replay's judged measurements (`Measurement.as_dict`), link-loss figures
    measurements: list[dict[str, Any]] = field(default_factory=list)
    link_loss: dict[str, Any] | None = None
    #: the instrument's figures of the original and the replay (`bench.instrument_replay`)
    instrument: dict[str, Any] | None = None

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The replay's measurements that failed their tolerance."""
        return [m for m in self.measurements if m["outcome"] == "fail"]

    @property
    def passed(self) -> bool:
        """True when the replay completed and its verdict is pass or marginal."""
        return self.error is None and self.verdict_replay in ("pass", "marginal")

    @property
    def same_verdict(self) -> bool:
        return self.verdict_original == self.verdict_replay

    def as_dict(self) -> dict[str, Any]:
        return {"session": self.session, "mode": self.mode, "network": self.network,
                "passed": self.passed, "verdict_original": self.verdict_original,
                "verdict_replay": self.verdict_replay, "same_verdict": self.same_verdict,
                "max_difference_mm": _num(self.max_difference_mm), "commands": self.commands,
                "duration_s": self.duration_s, "wall_s": self.wall_s,
                "tracking_original": self.tracking_original,
                "tracking_replay": self.tracking_replay, "targets": [t.as_dict()
                                                                     for t in self.targets],
                "new_session": self.new_session, "error": self.error, "notes": self.notes,
                "measurements": self.measurements, "link_loss": self.link_loss,
                "instrument": self.instrument}


def _num(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def verdict_of(sc: Scenario | None, side: Side) -> str:
    """pass/marginal/fail of a side's target visits against the scenario's tolerances
    ("error" when the run stopped on an error, "n/a" without a scenario or visits)."""
    if side.error:
        return "error"
    return judge(sc, side)[0]


def judge(sc: Scenario | None, side: Side,
          link: Any = None) -> tuple[str, list[dict[str, Any]]]:
    """(verdict, the judged measurements as dicts) of a side: its target visits, its tracking
    figures and, when given, its link-loss figures (`bench.linkloss.LinkLoss`)."""
    if side.error:
        return "error", []
    if sc is None or not side.samples:
        return "n/a", []
    names = {s.pose for s in side.samples}
    judged = dataclasses.replace(sc, poses={k: p for k, p in sc.poses.items() if k in names}
                                 or sc.poses)
    ev = evaluate(judged, side.samples, link=link, tracking=side.tracking.figures())
    return ev.outcome.value, [m.as_dict() for m in ev.measurements]


def target_rows(orig: Side, new: Side) -> list[TargetRow]:
    """Pair the visits of both sides by (label, cycle)."""
    by_key = {(s.pose, s.cycle): s for s in new.samples}
    rows = []
    for s in orig.samples:
        r = by_key.get((s.pose, s.cycle))
        rows.append(TargetRow(
            s.pose, s.cycle, s.commanded.distance_to(s.attained),
            r.commanded.distance_to(r.attained) if r else None,
            s.attained.distance_to(r.attained) if r else None,
            (s.t_arrived_ns - s.t_command_ns) / 1e9 if s.t_arrived_ns != s.t_measured_ns
            else None,
            (r.t_arrived_ns - r.t_command_ns) / 1e9 if r and r.t_arrived_ns != r.t_measured_ns
            else None))
    return rows


def worst(outcomes: list[str]) -> str:
    """The worst of pass/marginal/fail strings (others pass through)."""
    known = [Outcome(o) for o in outcomes if o in ("pass", "marginal", "fail")]
    return Outcome.worst(known).value if known else "n/a"
