"""`SessionRecorder`: a `RunObserver` that writes everything the runner reports to a session file.

Attach it to the run's `Observers`; it writes the metadata at `on_start` (with the scenario's poses
and tolerances so a replay can judge the new outcome), then one message per command, pose, status
and event, and finishes the file at `on_end` (or `close`). Events are routed by kind: ``network``
to /network/event, ``link``/``modem`` to /modem/link, everything else to /bench/event.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from bench import __version__
from bench.limits import Limit
from bench.observer import RunObserver
from bench.scenario import Scenario
from bench.session.schema import (T_COMMAND, T_EVENT, T_INSTRUMENT, T_LINK, T_NETWORK, T_POSE,
                                  T_STATUS, command_msg, pose_fields, pose_from_fields, pose_msg,
                                  status_msg)
from bench.session.writer import SessionWriter, git_commit
from bench.metrics.trajectory import GuideAxis
from drivers.pose import Pose
from drivers.robot import ArmStatus

_EVENT_TOPICS = {"network": T_NETWORK, "link": T_LINK, "modem": T_LINK,
                 "instrument": T_INSTRUMENT}


def scenario_to_dict(sc: Scenario) -> dict[str, Any]:
    """Every field of a Scenario as JSON (poses as x_mm..., limits as {max, marginal, unit})."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(sc):
        v = getattr(sc, f.name)
        if f.name == "poses":
            v = {k: pose_fields(p) for k, p in v.items()}
        elif f.name == "tolerances":
            v = {k: {"max": lim.max, "marginal": lim.marginal, "unit": lim.unit}
                 for k, lim in v.items()}
        elif f.name == "paths":              # command polylines (m, 3) mm
            v = {k: [[float(x) for x in row] for row in p] for k, p in v.items()}
        elif isinstance(v, (set, frozenset)):
            v = sorted(v)
        elif isinstance(v, Pose):
            v = pose_fields(v)
        elif dataclasses.is_dataclass(v) and not isinstance(v, type):
            v = dataclasses.asdict(v)
        elif hasattr(v, "value") and not isinstance(v, (int, float, str)):
            v = v.value                      # enums
        out[f.name] = v
    return out


def _nested(f: dataclasses.Field, value: dict[str, Any]) -> Any:
    """A dataclass-valued scenario field (e.g. control settings) from its dict, built from the
    type of the field's default; unknown keys are dropped. Plain dicts stay dicts."""
    default = (f.default_factory() if f.default_factory is not dataclasses.MISSING
               else f.default)
    if default is dataclasses.MISSING or not dataclasses.is_dataclass(default) \
            or isinstance(default, type):
        return value
    names = {g.name for g in dataclasses.fields(default)}
    return dataclasses.replace(default, **{k: v for k, v in value.items() if k in names})


_GUIDE_KEYS = [f.name for f in dataclasses.fields(GuideAxis)]


def scenario_from_dict(d: dict[str, Any]) -> Scenario:
    """Rebuild the Scenario a session was recorded with (fields this version does not know are
    ignored, so older and newer files both load). Raises KeyError/TypeError on a damaged dict."""
    known = {f.name: f for f in dataclasses.fields(Scenario)}
    kw: dict[str, Any] = {}
    for k, v in d.items():
        if k not in known:
            continue
        if k == "poses":
            v = {name: pose_from_fields(p) for name, p in v.items()}
        elif k == "tolerances":
            v = {name: Limit(name=name, max=float(t["max"]), unit=t["unit"],
                             marginal=t.get("marginal")) for name, t in v.items()}
        elif k == "paths":
            v = {name: np.array(p, dtype=float).reshape(-1, 3) for name, p in v.items()}
        elif k == "via":
            v = frozenset(v)
        elif k == "guide":
            v = None if v is None else GuideAxis(**{g: v[g] for g in _GUIDE_KEYS if g in v})
        elif isinstance(v, dict):
            v = _nested(known[k], v)
        elif isinstance(v, list):
            v = tuple(v)                     # JSON has no tuples; frozen scenarios use them
        kw[k] = v
    return Scenario(**kw)


class SessionRecorder(RunObserver):
    """Records a run to `path` (created, parent folders too). `extra` goes into the metadata."""

    def __init__(self, path: str | Path, scenario: Scenario | None = None,
                 extra: dict[str, Any] | None = None, **writer_opts: Any) -> None:
        self.path = Path(path)
        self.scenario = scenario
        self.extra = dict(extra or {})
        self.writer = SessionWriter(self.path, **writer_opts)
        self._write = self.writer.write

    def on_start(self, t_ns: int, meta: dict[str, Any]) -> None:
        full: dict[str, Any] = {"tool": {"name": "hil-bench", "version": __version__},
                                "git_commit": git_commit(), **meta, **self.extra}
        if self.scenario is not None:
            full["scenario"] = scenario_to_dict(self.scenario)
        self.writer.write_metadata(t_ns, full)

    def on_command(self, t_ns: int, seq: int, label: str, target: Pose, speed_mm_s: float) -> None:
        self._write(T_COMMAND, t_ns, command_msg(seq, label, target, speed_mm_s))

    def on_pose(self, t_ns: int, pose: Pose, label: str = "") -> None:
        self._write(T_POSE, t_ns, pose_msg(pose, label))

    def on_status(self, t_ns: int, status: ArmStatus) -> None:
        self._write(T_STATUS, t_ns, status_msg(status))

    def on_event(self, t_ns: int, kind: str, detail: dict[str, Any]) -> None:
        topic = _EVENT_TOPICS.get(kind)
        if topic is None:
            self._write(T_EVENT, t_ns, {"kind": kind, "detail": detail})
        else:
            self._write(topic, t_ns, dict(detail))

    def on_end(self, t_ns: int, verdict: str, error: str | None) -> None:
        self._write(T_EVENT, t_ns, {"kind": "end", "detail": {"verdict": verdict,
                                                              "error": error}})
        self.close()

    def close(self) -> None:
        """Finish the file (idempotent)."""
        self.writer.close()
