"""Verdicts that say what measured them: ISO 9283 figures from the instrument, the robot's
self-reported figures beside them, and the difference (the robot's error it cannot see).

`instrument_evaluation` turns a run's samples and the instrument sampler's visits into samples
whose attained pose is what the instrument saw (in the robot base frame, through the lab's saved
registration, or one made on this run's commanded poses when the lab has none), evaluates them
like any run, and returns that Evaluation (the verdict) with the report's `instrument` section.
Before judging, the registration's FRE is checked against the tightest position tolerance it
would judge (`RegistrationError`, exit 2, when it is worse). Without an instrument,
`self_reported_note` is what the report says instead.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from bench.evaluate import Evaluation, evaluate
from bench.instrument_sampler import InstrumentSampler, tool_poses_of, tracking_of
from bench.lab_instrument import InstrumentEntry
from bench.metrics import catalogue
from bench.metrics.trajectory import FIGURES as GUIDE_FIGURES
from bench.registration import Registration, RegistrationError, register_points
from bench.runner import Sample
from bench.scenario import Scenario
from bench.session.compare import Tracking
from drivers.instrument.base import ToolMeasurement
from drivers.instrument.frames import matrix_of, pose_of

SELF_REPORTED = ("AP/RP are the robot controller's self-reported figures (its encoders through "
                 "its nominal kinematics), not ISO 9283 measurements: no instrument measured "
                 "this run")
RUN_REGISTERED = ("the instrument was registered on this run's own commanded poses: rigid errors "
                  "of the robot (constant offset, base rotation) are absorbed by the "
                  "registration and do not show in AP; save an independent registration in the "
                  "lab file to measure them")
POSITION_LIMITS = ("AP", "RP", "worst")


def self_reported_note(real_hardware: bool) -> dict[str, Any]:
    """The report's `accuracy_source` without an instrument."""
    return {"source": "robot", "iso9283": False,
            "note": SELF_REPORTED if real_hardware else
            SELF_REPORTED + " (a simulated arm: its reported pose is its belief, too)"}


def _registration(samples: list[Sample], means: list[ToolMeasurement | None],
                  entry: InstrumentEntry) -> tuple[Registration, str]:
    if entry.registration is not None:
        return entry.registration, "lab"
    marker = matrix_of(entry.marker)
    p, q = [], []
    for s, m in zip(samples, means):
        if m is not None and m.position_mm is not None:
            p.append(np.array(m.position_mm, dtype=float))
            q.append((matrix_of(s.commanded) @ marker)[:3, 3])
    if len(p) < 3:
        raise RegistrationError(f"the instrument saw the tool at {len(p)} visit(s): too few to "
                                "register its frame (need 3 non-collinear)")
    return register_points(np.array(p), np.array(q)), "run"


def instrument_evaluation(sc: Scenario, samples: list[Sample], sampler: InstrumentSampler,
                          entry: InstrumentEntry, robot_ev: Evaluation,
                          name: str) -> tuple[Evaluation, dict[str, Any]]:
    """(the instrument's Evaluation, the report's `instrument` section). RegistrationError when
    the registration cannot be made or is too poor for the scenario's tolerances."""
    ev, section = measured_evaluation(sc, samples, sampler.means(), entry, robot_ev, name,
                                      stream=sampler.stream if sc.control.mode == "stream"
                                      else None, robot_tracking=sampler.robot_tracking)
    section.update(read_errors=sampler.errors, frames=sampler.frames)
    return ev, section


def measured_evaluation(sc: Scenario, samples: list[Sample],
                        means: list[ToolMeasurement | None], entry: InstrumentEntry,
                        robot_ev: Evaluation, name: str,
                        stream: list[tuple[ToolMeasurement, tuple[float, float, float], str]]
                        | None = None,
                        robot_tracking: dict[str, Tracking] | None = None
                        ) -> tuple[Evaluation, dict[str, Any]]:
    """`instrument_evaluation` from each visit's mean marker measurement (instrument frame;
    None: not seen), one per sample in order: a run's sampler, or a recorded session's
    /instrument/measurement messages (`bench.instrument_replay`). With `stream` (the instrument's
    frames during a setpoint stream, each with the setpoint current at its time and that
    setpoint's pose), the section also has `tracking`: the instrument's tracking error (tool
    position in the base frame against that setpoint, mm) beside the robot's own
    (`robot_tracking`, per pose), both over the streamed setpoints only (towards measured poses:
    the approaches to via poses such as a path's start are target moves, not a stream)."""
    reg, origin = _registration(samples, means, entry)
    limits = [lim.max for key, lim in sc.tolerances.items() if key in POSITION_LIMITS]
    if limits:
        reg.check(min(limits), "the tightest position tolerance")
    tracking = None
    if stream:
        inst = Tracking(band_mm=sc.tracking_band_mm)
        streamed = [(f, sp) for f, sp, pose in stream if pose in sc.measured]
        tools = tool_poses_of([f for f, _ in streamed], reg.matrix, entry.marker)
        for (f, sp), t in zip(streamed, tools):
            if t is not None:
                inst.add(float(np.linalg.norm(t[:3, 3] - np.array(sp))), f.t_ns)
        own = tracking_of(robot_tracking or {}, sc.measured, sc.tracking_band_mm)
        tracking = {"instrument": inst.as_dict(), "self_reported": own.as_dict()}
    poses = tool_poses_of(means, reg.matrix, entry.marker)
    measured: list[Sample] = []
    missing = 0
    for s, m in zip(samples, poses):
        if m is None:
            missing += 1
            continue
        measured.append(replace(s, attained=pose_of(m)))
    # the instrument judges the poses; the link did what it did whoever measures the poses
    ev = evaluate(sc, measured, link=robot_ev.link, tracking=robot_ev.tracking)
    figures: dict[str, dict[str, Any]] = {}
    for pose, st in ev.poses.items():
        robot = robot_ev.poses.get(pose)
        row = {k: _num(v) for k, v in st.as_dict().items()}
        if robot is not None:
            row["AP_self_reported"] = _num(robot.AP)
            row["RP_self_reported"] = _num(robot.RP)
            row["AP_unseen_by_robot"] = _num(st.AP - robot.AP)
            row["RP_unseen_by_robot"] = _num(st.RP - robot.RP)
        figures[pose] = row
    # every measured figure beside the robot's own (the link's and the approach traces' figures
    # are the same whoever measures the poses)
    robot_figs = {(r.subject, r.name): r.value for r in robot_ev.measurements}
    beside = []
    for meas in ev.measurements:
        cat = catalogue.get(meas.name)
        if cat is None or cat.data != "static" or (meas.subject, meas.name) not in robot_figs:
            continue
        robot_v = robot_figs[(meas.subject, meas.name)]
        beside.append({"subject": meas.subject, "name": meas.name, "unit": meas.unit,
                       "value": _num(meas.value), "self_reported": _num(robot_v),
                       "unseen_by_robot": None if meas.value is None or robot_v is None
                       else _num(meas.value - robot_v)})
    section = {
        "name": name, "tool": entry.tool, "visits": len(samples), "measured": len(measured),
        "not_seen": missing,
        "registration": {**reg.as_dict(), "origin": origin,
                         **({"note": RUN_REGISTERED} if origin == "run" else {})},
        "poses": figures, "beside": beside, "verdict": ev.outcome.value,
    }
    if tracking is not None:
        section["tracking"] = tracking
    return ev, section


def _num(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _f(v: Any, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def instrument_lines(section: dict[str, Any]) -> list[str]:
    """The terminal's lines for a run's `instrument` section: per pose the instrument's AP, the
    robot's self-reported AP and the difference; then the guide's trajectory figures likewise."""
    reg = section["registration"]
    lines = [f"  measured by {section['name']} (registration: {reg['origin']}, FRE "
             f"{reg['fre_mm']:.3f} mm); robot's self-reported figures, and the error it cannot "
             "see:"]
    for pose, row in section["poses"].items():
        lines.append(f"    {pose:<8} AP {_f(row.get('AP'), '.4f')} mm   self-reported "
                     f"{_f(row.get('AP_self_reported'), '.4f')} mm   unseen by the robot "
                     f"{_f(row.get('AP_unseen_by_robot'), '+.4f')} mm")
    tr = section.get("tracking")
    if tr:
        i, r = tr["instrument"], tr.get("self_reported") or {}
        lines.append(f"    stream tracking error ({i['n']} instrument frames): RMS "
                     f"{_f(i['rms_mm'], '.4f')} mm, max {_f(i['max_mm'], '.4f')} mm   "
                     f"self-reported RMS {_f(r.get('rms_mm'), '.4f')} mm, max "
                     f"{_f(r.get('max_mm'), '.4f')} mm")
    for row in section.get("beside", []):
        if row["name"] not in GUIDE_FIGURES:
            continue
        unit = row["unit"]
        lines.append(f"    {row['subject']} {row['name']} {_f(row['value'], '.4f')} {unit}   "
                     f"self-reported {_f(row['self_reported'], '.4f')} {unit}   unseen by the "
                     f"robot {_f(row['unseen_by_robot'], '+.4f')} {unit}")
    return lines
