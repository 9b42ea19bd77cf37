"""Instrument figures in replays: the original's, judged from the session's recorded
/instrument/measurement frames, next to the replay's, measured by the replay lab's instrument.

The original: each labelled robot pose (/robot/pose with a label) is a visit, numbered per label
like `bench.session.compare.Side`. The sampler reads a visit's frames inside the runner's pose
hook, before the recorder writes the pose, so the frames with that label written since the
previous labelled pose are the visit's (none: the visit was not measured). Their mean
(as the sampler averages them) is judged through the registration of the lab the session was
recorded on (its saved `instrument.registration`, else one made on the session's own commanded
poses, as the run did). The replay: when the replay's lab has an instrument, an
`InstrumentSampler` measures every visit of the replay as `hil-bench run` does.
`instrument_comparison` puts both side by side per pose (AP and RP, mm) with each side's
verdict. Failure modes: RegistrationError when a registration cannot be made (too few visits
seen); it is reported in the comparison's `error`, the replay itself goes on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from bench.clock import Clock
from bench.evaluate import Evaluation, evaluate
from bench.instrument_report import measured_evaluation
from bench.instrument_sampler import InstrumentSampler, measurement_from_dict
from bench.lab import Lab, load_lab
from bench.lab_instrument import InstrumentEntry
from bench.observer import RunObserver
from bench.registration import RegistrationError
from bench.rig import Rig
from bench.runner import Sample
from bench.scenario import Scenario
from bench.session.reader import SessionReader
from bench.session.schema import T_INSTRUMENT, T_POSE
from drivers.errors import ConfigError
from drivers.instrument.base import ToolMeasurement


def recorded_visits(path: str | Path, tool: str) -> dict[tuple[str, int], ToolMeasurement | None]:
    """(label, cycle) -> the mean of the visit's visible frames of `tool` (instrument frame, mm),
    None for a visit whose frames never saw it. Empty when the session has no instrument."""
    frames: dict[tuple[str, int], list[_Frame]] = {}
    cycle: dict[str, int] = {}
    pending: list[_Frame] = []
    with SessionReader(path) as reader:
        for topic, t, payload in reader.raw([T_POSE, T_INSTRUMENT]):
            d = orjson.loads(payload)
            label = d.get("label") or ""
            if not label:
                continue
            if topic == T_POSE:
                cycle[label] = cycle.get(label, 0) + 1
                frames[(label, cycle[label])] = [f for f in pending if f.label == label]
                pending = []
            elif d.get("tool") == tool:
                pending.append(_Frame(label, measurement_from_dict(d, t)))
    if not any(frames.values()):
        return {}
    return {k: _mean([f.m for f in v]) for k, v in frames.items()}


@dataclass(frozen=True)
class _Frame:
    label: str
    m: ToolMeasurement


def _mean(frames: list[ToolMeasurement]) -> ToolMeasurement | None:
    seen = [f for f in frames if f.visible and f.position_mm is not None]
    if not seen:
        return None
    pos = np.mean(np.array([f.position_mm for f in seen], dtype=float), axis=0)
    first = seen[0]
    return ToolMeasurement(first.tool, first.t_ns, True,
                           (float(pos[0]), float(pos[1]), float(pos[2])), first.orientation,
                           first.rms_mm, first.frame, first.device_t_s)


def _side(sc: Scenario, samples: list[Sample], means: list[ToolMeasurement | None],
          entry: InstrumentEntry, name: str) -> dict[str, Any]:
    robot_ev: Evaluation = evaluate(sc, samples)
    try:
        ev, section = measured_evaluation(sc, samples, means, entry, robot_ev, name)
    except RegistrationError as exc:
        return {"instrument": name, "error": str(exc)}
    return {"instrument": name, "verdict": ev.outcome.value,
            "registration": section["registration"]["origin"],
            "measured": section["measured"], "not_seen": section["not_seen"],
            "poses": {p: {"AP": _num(st.AP), "RP": _num(st.RP)} for p, st in ev.poses.items()},
            "self_reported": {p: {"AP": _num(st.AP), "RP": _num(st.RP)}
                              for p, st in robot_ev.poses.items()}}


def instrument_comparison(path: str | Path, sc: Scenario | None, original: list[Sample],
                          replay: list[Sample], recorded_entry: InstrumentEntry | None,
                          recorded_name: str, sampler: InstrumentSampler | None,
                          replay_entry: InstrumentEntry | None,
                          replay_name: str) -> dict[str, Any] | None:
    """The instrument's figures of the original and of the replay, per pose, or None when
    neither side was measured by an instrument (or the session has no scenario).

    `recorded_entry`: the instrument section of the lab the session was recorded on (its
    registration and marker); `sampler`/`replay_entry`: the replay's instrument, if any."""
    if sc is None:
        return None
    out: dict[str, Any] = {}
    if recorded_entry is not None:
        visits = recorded_visits(path, recorded_entry.tool)
        if visits:
            out["original"] = _side(sc, original, [visits.get((s.pose, s.cycle))
                                                   for s in original],
                                    recorded_entry, recorded_name)
    if sampler is not None and replay_entry is not None and replay:
        out["replay"] = _side(sc, replay, sampler.means(), replay_entry, replay_name)
    if not out:
        return None
    rows = []
    for pose in sc.measured:
        o = (out.get("original") or {}).get("poses", {}).get(pose, {})
        r = (out.get("replay") or {}).get("poses", {}).get(pose, {})
        if o or r:
            rows.append({"pose": pose, "AP_original": o.get("AP"), "AP_replay": r.get("AP"),
                         "RP_original": o.get("RP"), "RP_replay": r.get("RP")})
    out["poses"] = rows
    return out


def recorded_instrument(meta: dict[str, Any], override: str | None,
                        replay_lab: Lab) -> InstrumentEntry | None:
    """The instrument section of the lab a session was recorded on (the replay's own lab when
    it is that lab; None when the session's lab cannot be found or has no instrument)."""
    if override is None:
        return replay_lab.instrument
    lab = meta.get("lab") or {}
    for name in (lab.get("source"), lab.get("name")):
        if name:
            try:
                return load_lab(str(name)).instrument
            except ConfigError:
                continue
    return None


def replay_sampler(rig: Rig, lab: Lab, clock: Clock, mode: str,
                   sink: RunObserver) -> InstrumentSampler | None:
    """An `InstrumentSampler` on the replay lab's instrument (started), or None without one."""
    tracker = rig.instrument()
    if tracker is None or lab.instrument is None:
        return None
    sampler = InstrumentSampler(tracker, clock, lab.instrument, sink, threaded=mode == "wire",
                                stream_hz=0.0)     # replays compare the visits
    sampler.start()
    return sampler


def _num(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def instrument_text(section: dict[str, Any]) -> str:
    """The replay's terminal lines for `instrument_comparison`'s result."""
    def f(v: Any) -> str:
        return f"{v:8.4f}" if isinstance(v, float) else f"{'-':>8}"
    lines = []
    for side in ("original", "replay"):
        d = section.get(side)
        if d is None:
            lines.append(f"instrument, {side}: not measured by an instrument")
        elif d.get("error"):
            lines.append(f"instrument, {side}: {d['instrument']}: {d['error']}")
        else:
            lines.append(f"instrument, {side}: {d['instrument']} (registration "
                         f"{d['registration']}, {d['measured']} visits measured, "
                         f"{d['not_seen']} not seen): {d['verdict'].upper()}")
    lines.append(f"{'pose':<10}{'AP orig':>8}  {'AP new':>8}  {'RP orig':>8}  {'RP new':>8}"
                 "   (mm, measured by the instrument)")
    for r in section.get("poses", []):
        lines.append(f"{r['pose']:<10}{f(r['AP_original'])}  {f(r['AP_replay'])}  "
                     f"{f(r['RP_original'])}  {f(r['RP_replay'])}")
    return "".join(line + "\n" for line in lines)
