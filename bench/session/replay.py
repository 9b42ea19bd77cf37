"""Replaying a recorded session against any `RobotArm`, and comparing the outcome with the original.

Timing: the original's commands and measurements are re-issued at their recorded times (relative
to the session's start, divided by `speed`). Where the original waited for the arm to arrive (its
status polls ended on ARRIVED for a command), the replay waits for its own arm to arrive too,
polling at the scenario's interval, and then shifts the rest of the schedule by the difference: a
slower robot or a worse network delays the later steps the way it would have delayed the operator,
instead of measuring a target before the arm got there. Setpoint streams (no status polls) keep
their fixed timing, so a worse network shows up as a larger tracking (time-domain) error.

Modes: ``virtual`` runs the lab's simulated arm in-process on a `VirtualClock` (no sockets, faster
than real time, deterministic); ``wire`` talks to the lab's robot over its real protocol (the
simulator is started as a process for simulated labs) in real time.

Failure modes: ConfigError for a missing/damaged session or unknown lab; device errors during the
replay are caught, recorded and reported in `Comparison.error` (the arm is sent a stop).
"""
from __future__ import annotations

import contextlib
import json
import json.scanner
import time
from pathlib import Path
from typing import Any, Iterator

from bench.clock import Clock, RealClock, VirtualClock
from bench.lab import Lab, load_lab
from bench.observer import RunObserver
from bench.scenario import Scenario
from bench.session import network as net_mod
from bench.session.compare import Comparison, Side, target_rows, verdict_of
from bench.session.reader import SessionReader
from bench.session.recorder import SessionRecorder, scenario_from_dict
from bench.session.schema import (T_COMMAND, T_EVENT, T_META, T_NETWORK, T_POSE, T_STATUS,
                                  pose_from_fields)
from drivers.errors import BenchError, ConfigError, DeviceFault, DeviceTimeout
from drivers.robot import ArmState, RobotArm

MODES = ("virtual", "wire")
_SCAN = json.scanner.make_scanner(json.JSONDecoder())
_CALL_OF = {T_COMMAND: "move_to", T_POSE: "read_pose"}
_CALLS = set(_CALL_OF.values())


def session_header(path: str | Path) -> tuple[dict[str, Any], int]:
    """(metadata, start time in ns) of a session; the start is the metadata message's time.
    Raises ConfigError when the file has no metadata (not written by hil-bench)."""
    with SessionReader(path) as r:
        for m in r.messages([T_META]):
            return m.data, m.t_ns
    raise ConfigError(f"{path}: no /session/metadata message (not a hil-bench session, or "
                      f"the recorder was killed before it started)")


def session_lab(meta: dict[str, Any], override: str | None = None) -> Lab:
    """The lab a session was recorded on (by file when it still exists, else by name)."""
    if override:
        return load_lab(override)
    lab = meta.get("lab") or {}
    src = lab.get("source")
    if src and Path(src).is_file():
        return load_lab(src)
    return load_lab(lab.get("name") or "sim")


class _Gate:
    """Polls the replay arm until command `seq` arrives (the replay's wait for arrival)."""

    def __init__(self, arm: RobotArm, clock: Clock, obs: RunObserver, poll_s: float,
                 timeout_s: float) -> None:
        self.arm, self.clock, self.obs = arm, clock, obs
        self.poll_s, self.timeout_s = poll_s, timeout_s

    def wait(self, seq: int, label: str) -> int:
        clock, arm = self.clock, self.arm
        deadline = clock.now() + self.timeout_s
        while True:
            st = arm.read_status()
            now = clock.now_ns()
            self.obs.on_status(now, st)
            if st.seq == seq:
                if st.state is ArmState.ARRIVED:
                    return now
                if st.state in (ArmState.FAULT, ArmState.STOPPED):
                    raise DeviceFault(f"{arm.name}: {st.state.value} (code {st.fault_code}) "
                                      f"before reaching {label}")
            if clock.now() >= deadline:
                raise DeviceTimeout(f"{arm.name}: did not arrive at {label} within "
                                    f"{self.timeout_s:g} s during the replay")
            clock.sleep(self.poll_s)


def drive(path: str | Path, arm: RobotArm, clock: Clock, obs: RunObserver, *,
          scenario: Scenario | None, start_ns: int, speed: float = 1.0,
          send_times: bool = True) -> tuple[Side, Side, int]:
    """Re-issue the session's commands and reads on `arm`; returns (original, replay, commands).

    Streams the file once; memory stays flat apart from the labelled target visits.
    `send_times`: take each command's and pose read's send time from the recorded uplink
    events (request/reply sessions; a pipelined stream records commands when they are sent).
    """
    topics = [T_COMMAND, T_POSE, T_STATUS, T_EVENT] + ([T_NETWORK] if send_times else [])
    scan = _SCAN
    poll_s = scenario.poll_s if scenario else 0.005
    gate = _Gate(arm, clock, obs, poll_s, scenario.move_timeout_s if scenario else 10.0)
    orig, new = Side(), Side()
    seq_map: dict[int, int] = {}
    r0 = clock.now_ns()
    shift = 0
    inv = 1.0 / speed
    n_cmd = 0
    sent_at: dict[str, int] = {}    # call -> when the original sent it (its uplink event)
    with SessionReader(path) as reader:
        try:
            for topic, t, payload in reader.raw(topics):
                if topic == T_STATUS and b'"arrived"' not in payload:
                    continue                 # polls of a moving arm: the replay polls its own
                d = scan(payload.decode(), 0)[0]     # the C scanner, without loads' detours
                if topic == T_NETWORK:
                    # commands and poses are recorded when the call returned, one round trip
                    # after it was sent; re-issue them when the original sent them, or every
                    # step would add one round trip to the schedule
                    call = d.get("call")
                    if call in _CALLS and d.get("dir") == "up" and d.get("attempt", 1) == 1:
                        sent_at.setdefault(call, t)
                    continue
                if topic == T_STATUS:
                    # only the poll that saw the arrival matters: the replay polls on its own
                    if d["state"] == "arrived" and d["seq"] in seq_map:
                        new_seq = seq_map.pop(d["seq"])
                        orig.arrived(t)
                        arrived_ns = gate.wait(new_seq, new.last_label)
                        new.arrived(arrived_ns)
                        shift = arrived_ns - r0 - int((t - start_ns) * inv)
                    continue
                t_sched = sent_at.pop(_CALL_OF.get(topic, ""), t)
                due = r0 + shift + int((t_sched - start_ns) * inv)
                wait_ns = due - clock.now_ns()
                if wait_ns > 0:
                    clock.sleep(wait_ns / 1e9)
                if topic == T_COMMAND:
                    target = pose_from_fields(d["target"])
                    label, v = d["label"], d["speed_mm_s"]
                    seq = arm.move_to(target, v)
                    now = clock.now_ns()
                    obs.on_command(now, seq, label, target, v)
                    seq_map[d["seq"]] = seq
                    orig.command(t, label, target)
                    new.command(now, label, target)
                    n_cmd += 1
                elif topic == T_POSE:
                    label = d["label"]
                    if label:
                        orig.pose(t, pose_from_fields(d), label)
                    else:
                        orig.track(d["x_mm"], d["y_mm"], d["z_mm"])
                    p = arm.read_pose()
                    now = clock.now_ns()
                    obs.on_pose(now, p, label)
                    new.pose(now, p, label)
                elif topic == T_EVENT:
                    kind = d.get("kind")
                    if kind == "stop":
                        arm.stop()
                        obs.on_event(clock.now_ns(), "stop", {"reason": "replayed stop"})
                    elif kind == "error":
                        orig.error = str((d.get("detail") or {}).get("message", "error"))
        except BenchError as exc:
            new.error = f"{type(exc).__name__}: {exc}"
            obs.on_event(clock.now_ns(), "error", {"message": str(exc)})
            with contextlib.suppress(BenchError):
                arm.stop()
        orig.truncated = reader.truncated
    return orig, new, n_cmd


@contextlib.contextmanager
def replay_arm(lab: Lab, mode: str, seed: int, clock: Clock, proxy_network: str | None = None,
               observer: RunObserver | None = None) -> Iterator[RobotArm]:
    """The lab's robot for a replay (the same way `hil-bench run` opens it); with
    `proxy_network` (wire mode) the link goes through the TCP impairment proxy process."""
    if mode not in MODES:
        raise ConfigError(f"--mode: unknown mode {mode!r} (use {' or '.join(MODES)})")
    from bench.cli.run import open_robot      # one place knows how to open a lab's robot
    if proxy_network:
        from bench.impair import load_profile
        with open_robot(lab, mode, seed, clock, network=load_profile(proxy_network),
                        observer=observer) as arm:
            yield arm
        return
    with open_robot(lab, mode, seed, clock) as arm:
        yield arm


def replay_session(path: str | Path, *, mode: str = "virtual", network: str | None = None,
                   speed: float = 1.0, record_to: str | Path | None = None,
                   lab: str | None = None, seed: int | None = None,
                   observer: RunObserver | None = None) -> Comparison:
    """Replay the session at `path` and compare. `network`: None or "recorded" replays the
    recorded delays, "ideal" none, anything else is a network profile name or file.

    `record_to` writes the replay as a new session. Raises ConfigError for bad input; device
    errors end up in the returned Comparison (`error`, verdict "error").
    """
    if not speed > 0:
        raise ConfigError("--speed: must be > 0")
    meta, start_ns = session_header(path)
    sc = scenario_from_dict(meta["scenario"]) if isinstance(meta.get("scenario"), dict) else None
    the_lab = session_lab(meta, lab)
    run_seed = int(meta.get("seed", 1) if seed is None else seed)
    clock: Clock = VirtualClock() if mode == "virtual" else RealClock()
    net_name = net_mod.describe(network)
    link_kind = meta.get("link") or net_mod.REQUEST_REPLY
    t_wall = time.perf_counter()
    rec = SessionRecorder(record_to, scenario=sc) if record_to else None
    obs = observer or RunObserver()
    if rec:
        from bench.observer import Observers
        obs = Observers([rec] + ([observer] if observer else []))
    # a profile on a request/reply link in wire mode: the real TCP impairment proxy (as `run`);
    # recorded delays and pipelined streams: message-level wrappers around the arm
    proxied = (mode == "wire" and link_kind == net_mod.REQUEST_REPLY
               and network not in (None, "recorded", "ideal", "none"))
    with replay_arm(the_lab, mode, run_seed, clock, network if proxied else None,
                    obs) as base_arm:
        arm = base_arm
        if not proxied:
            arm, clock = net_mod.wrap(base_arm, clock, network, lab=the_lab, seed=run_seed,
                                      observer=obs, link_kind=link_kind, session=path)
        obs.on_start(clock.now_ns(), {"mode": mode, "seed": run_seed, "network": net_name,
                                      "link": link_kind,
                                      "lab": {"name": the_lab.name, "source": str(the_lab.path),
                                              "robot": base_arm.name},
                                      "replay_of": str(path)})
        orig, new, n_cmd = drive(path, arm, clock, obs, scenario=sc, start_ns=start_ns,
                                 speed=speed, send_times=link_kind != net_mod.PIPELINED)
        v_new = verdict_of(sc, new)
        obs.on_end(clock.now_ns(), v_new, new.error)
        duration_s = clock.now() if mode == "virtual" else time.perf_counter() - t_wall
    rows = target_rows(orig, new)
    diffs = [r.difference_mm for r in rows if r.difference_mm is not None]
    to, tn = orig.tracking.as_dict(), new.tracking.as_dict()
    notes = []
    if orig.truncated:
        notes.append("the original session is truncated (recorder killed): replayed up to its "
                     "last complete chunk")
    if to["rms_mm"] is not None and tn["rms_mm"] is not None and tn["n"] > 0:
        if tn["rms_mm"] > 1.2 * to["rms_mm"] + 0.01:
            notes.append(f"time-domain error grew: tracking RMS {to['rms_mm']:.3f} -> "
                         f"{tn['rms_mm']:.3f} mm, max {to['max_mm']:.3f} -> {tn['max_mm']:.3f} mm")
        elif to["rms_mm"] > 1.2 * tn["rms_mm"] + 0.01:
            notes.append(f"time-domain error shrank: tracking RMS {to['rms_mm']:.3f} -> "
                         f"{tn['rms_mm']:.3f} mm")
    return Comparison(
        session=str(path), mode=mode, network=net_name, targets=rows,
        verdict_original=verdict_of(sc, orig), verdict_replay=v_new,
        tracking_original=to, tracking_replay=tn,
        max_difference_mm=max(diffs) if diffs else None, commands=n_cmd,
        duration_s=round(duration_s, 6), wall_s=round(time.perf_counter() - t_wall, 6),
        new_session=str(record_to) if record_to else None, error=new.error, notes=notes)
