"""Replaying a recorded session against any `RobotArm`, and comparing the outcome with the original.

Timing: the original's commands and measurements are re-issued at their recorded times (relative
to the session's start, divided by `speed`). Where the original waited for the arm to arrive (its
status polls ended on ARRIVED for a command), the replay waits for its own arm to arrive too,
polling at the scenario's interval, and then shifts the rest of the schedule by the difference: a
slower robot or a worse network delays the later steps the way it would have delayed the operator,
instead of measuring a target before the arm got there. Setpoint streams (no status polls) keep
their fixed timing, so a worse network shows up as a larger tracking (time-domain) error.
Only setpoint streams have a tracking error (`streams_setpoints`): a target-mode session's pose
reads are polls while the operator waits for an arrival, not a stream to follow.

Modes: ``virtual`` runs the lab's simulated arm in-process on a `VirtualClock` (no sockets, faster
than real time, deterministic); ``wire`` talks to the lab's robot over its real protocol (the
simulator is started as a process for simulated labs) in real time.

Failure modes: ConfigError for a missing/damaged session or unknown lab; device errors during the
replay are caught, recorded and reported in `Comparison.error` (the arm is sent a stop).
"""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Iterator

from bench.clock import Clock, RealClock, VirtualClock
from bench.impair import load_profile
from bench.lab import Lab, load_lab
from bench.observer import Observers, RunObserver
from bench.ridethrough import RideThrough, RideThroughArm
from bench.rig import Rig
from bench.session import network as net_mod
from bench.linkloss import LinkLossLog
from bench.instrument_replay import instrument_comparison, recorded_instrument, replay_sampler
from bench.session.compare import Comparison, judge, target_rows, verdict_of
from bench.session.drive import drive
from bench.session.reader import SessionReader, check_format
from bench.session.recorder import SessionRecorder, scenario_from_dict
from bench.session.schema import T_META
from bench.scenario import Scenario
from drivers.errors import ConfigError
from drivers.robot import RobotArm

MODES = ("virtual", "wire")


#: why a target-mode session has no tracking figures (the replay's note)
NOT_A_STREAM = ("tracking error not compared: not a setpoint stream (target mode): the pose "
                "reads are the operator's polls while it waits for each arrival, their distance "
                "to the target is the distance still to go when each poll falls")


def streams_setpoints(link_kind: str, sc: Scenario | None) -> bool:
    """True when a session streams setpoints (a pipelined recording, or a scenario in the
    stream or remote-loop control mode), so pose reads against the last setpoint are a
    tracking error. In target mode they are not: the operator polls while it waits for the
    arrival, and under a slower link a replay makes the same polls later, after the arm
    stopped (screw-guide.mcap under telesurgery-300ms: 8.63 -> 1.12 mm RMS, "shrank")."""
    if link_kind == net_mod.PIPELINED:
        return True
    return sc is not None and sc.control.mode != "target"


def session_header(path: str | Path) -> tuple[dict[str, Any], int]:
    """(metadata, start time in ns) of a session; the start is the metadata message's time.
    Raises ConfigError when the file has no metadata (not written by hil-bench)."""
    with SessionReader(path) as r:
        for m in r.messages([T_META]):
            return check_format(m.data, path), m.t_ns
    raise ConfigError(f"{path}: no /session/metadata message (not a hil-bench session, or "
                      f"the recorder was killed before it started)")


def session_lab(meta: dict[str, Any], override: str | None = None) -> Lab:
    """The lab a session was recorded on (by file when it still exists, else by name)."""
    if override:
        return load_lab(override)
    lab = meta.get("lab") or {}
    src = lab.get("source")
    if src and Path(src.partition("#")[0]).is_file():      # FILE#SITE: one site of a lab
        return load_lab(src)
    return load_lab(lab.get("name") or "sim")


@contextlib.contextmanager
def replay_rig(lab: Lab, mode: str, seed: int, clock: Clock, proxy_network: str | None = None,
               observer: RunObserver | None = None) -> Iterator[Rig]:
    """The lab's devices for a replay (the same way `hil-bench run` opens them); with
    `proxy_network` (wire mode) the link goes through the TCP impairment proxy process."""
    network = load_profile(proxy_network) if proxy_network else None
    with Rig(lab, mode, clock, seed=seed, network=network,
             observer=observer if network else None) as rig:
        yield rig


@contextlib.contextmanager
def replay_arm(lab: Lab, mode: str, seed: int, clock: Clock, proxy_network: str | None = None,
               observer: RunObserver | None = None) -> Iterator[RobotArm]:
    """The lab's robot for a replay (`replay_rig`)."""
    with replay_rig(lab, mode, seed, clock, proxy_network, observer) as rig:
        yield rig.robot()


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
    try:
        sc = (scenario_from_dict(meta["scenario"]) if isinstance(meta.get("scenario"), dict)
              else None)
        run_seed = int(meta.get("seed", 1) if seed is None else seed)
        if not isinstance(meta.get("lab") or {}, dict):
            raise TypeError("lab is not an object")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{path}: the session metadata has the wrong shape "
                          f"({type(exc).__name__}: {exc})") from None
    the_lab = session_lab(meta, lab)
    clock: Clock = VirtualClock() if mode == "virtual" else RealClock()
    net_name = net_mod.describe(network)
    link_kind = meta.get("link") or net_mod.REQUEST_REPLY
    t_wall = time.perf_counter()
    streamed = streams_setpoints(link_kind, sc)
    rec = SessionRecorder(record_to, scenario=sc) if record_to else None
    link_log = LinkLossLog()             # outages, retransmissions, stops of the replay
    listeners = [o for o in (rec, observer) if o is not None]
    obs: RunObserver = Observers([*listeners, link_log]) if listeners else link_log
    # a profile on a request/reply link in wire mode: the real TCP impairment proxy (as `run`);
    # recorded delays and pipelined streams: message-level wrappers around the arm
    proxied = (mode == "wire" and link_kind == net_mod.REQUEST_REPLY
               and network not in (None, "recorded", "ideal", "none"))
    with replay_rig(the_lab, mode, run_seed, clock, network if proxied else None,
                    obs) as rig:
        base_arm = rig.robot()
        # a lab with an instrument measures the replay's visits too (bench.instrument_replay)
        sampler = replay_sampler(rig, the_lab, clock, mode, obs)
        if sampler is not None:
            obs = Observers([sampler, obs])
        arm = base_arm
        feed = net_mod.DelayFeed(path)        # recorded delays: read in the replay's own pass
        if not proxied:
            arm, clock = net_mod.wrap(base_arm, clock, network, lab=the_lab, seed=run_seed,
                                      observer=obs, link_kind=link_kind, session=path,
                                      feed=feed)
        obs.on_start(clock.now_ns(), {"mode": mode, "seed": run_seed, "network": net_name,
                                      "link": link_kind,
                                      "lab": {"name": the_lab.name, "source": str(the_lab.path),
                                              "robot": base_arm.name},
                                      "replay_of": str(path)})
        # the operator's ride-through policy, as in the run (older sessions: the default)
        arm = RideThroughArm(arm, clock, sc.ride_through if sc else RideThrough(), obs)
        t_start = clock.now()
        try:
            orig, new, n_cmd = drive(path, arm, clock, obs, scenario=sc, start_ns=start_ns,
                                     speed=speed, send_times=link_kind != net_mod.PIPELINED,
                                     feed=feed if feed.used else None, streamed=streamed)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # a message without the fields its topic's schema requires (written by hand or by
            # another tool): bad input, not a bug of the replay
            raise ConfigError(f"{path}: a session message has the wrong shape "
                              f"({type(exc).__name__}: {exc})") from None
        duration_s = clock.now() - t_start          # session time the replay took
        link_loss = link_log.figures(new.samples, clock.now_ns())
        v_new, judged = judge(sc, new, link_loss)
        obs.on_end(clock.now_ns(), v_new, new.error)     # stops the sampler's thread
    instrument = instrument_comparison(
        path, sc, orig.samples, new.samples, recorded_instrument(meta, lab, the_lab),
        str((meta.get("lab") or {}).get("instrument") or ""), sampler,
        the_lab.instrument, sampler.instrument.name if sampler else "")
    rows = target_rows(orig, new)
    diffs = [r.difference_mm for r in rows if r.difference_mm is not None]
    to, tn = orig.tracking.as_dict(), new.tracking.as_dict()
    notes = []
    if not streamed:
        notes.append(NOT_A_STREAM)
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
        new_session=str(record_to) if record_to else None, error=new.error, notes=notes,
        measurements=judged, link_loss=link_loss.as_dict(), instrument=instrument)
