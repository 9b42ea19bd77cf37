#!/usr/bin/env python3
"""Where a long stream replay spends its time, against the mcap-read floor of `replay_speed.py`.

Issue 13 set the goal: replaying a 10-minute 100 Hz stream in virtual time (simulation included)
should take at most half the time the official `mcap` library needs merely to read and
JSON-decode the same session. This script times, in one process and alternating round by round
so that a change of load hits every part alike (medians over the rounds):

  floor       the mcap library's streaming reader + orjson, every message (replay_speed's floor)
  read        the bench's own reader (`SessionReader.raw`): every record, no decoding
  decode      the same + orjson on every message the replay decodes
  sim         the lab's simulated arm alone (`SimArm.move` + `SimArm.pose` once per setpoint,
              at the session's own times): the physics every replay must compute
  parts       a single loop that calls the replay's real parts directly (reader, `DelayFeed`,
              the TCP sender over the recorded delays, `SimArm`, the `Side` accumulators) with
              none of the layers between them (no `RobotArm` wrappers, clocks, schedule or
              ride-through): what remains if every layer cost nothing. It is not a replay
              (no schedule shifts, faults or events) and its figures are not compared
  replay      `replay_session` itself, as `replay_speed.py` times it

The last column is each time over the floor. `parts` / floor is the best ratio a restructuring
of the replay in Python could reach with today's parts; below the 0.5 goal only if the parts
themselves get faster.

    python benchmarks/replay_breakdown.py [--minutes M] [--rounds R] [--session FILE] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import orjson  # noqa: E402

import bench.cli.run  # noqa: E402,F401  (imports are not part of any timing)
from bench.impair.tcp import TcpSender, TcpSpec  # noqa: E402
from bench.lab import load_lab  # noqa: E402
from bench.session.compare import Side  # noqa: E402
from bench.session.network import DelayFeed, RecordedDirection, StreamedDelays  # noqa: E402
from bench.session.pipeline import MOVE_BYTES  # noqa: E402
from bench.session.reader import SessionReader  # noqa: E402
from bench.session.replay import replay_session  # noqa: E402
from bench.session.schema import T_COMMAND, T_EVENT, T_NETWORK, T_POSE, T_STATUS  # noqa: E402
from drivers.pose import Pose  # noqa: E402
from drivers.sim.arm import ArmParams, SimArm  # noqa: E402

TOPICS = [T_COMMAND, T_POSE, T_STATUS, T_EVENT, T_NETWORK]


def _arm_params() -> ArmParams:
    """The simulated arm of the `sim` lab (the lab `replay_speed.py` records on)."""
    sim = load_lab("sim").robot.sim
    if sim is None:
        raise SystemExit("the sim lab has no simulated robot")
    return sim.arm


def floor(path: str) -> None:
    from mcap.reader import make_reader
    with open(path, "rb") as fh:
        for _schema, _channel, message in make_reader(fh).iter_messages():
            orjson.loads(message.data)


def read(path: str) -> None:
    with SessionReader(path) as r:
        for _item in r.raw(TOPICS):
            pass


def decode(path: str) -> None:
    loads = orjson.loads
    with SessionReader(path) as r:
        for _topic, _t, payload in r.raw(TOPICS):
            loads(payload)


def _setpoints(path: str) -> tuple[list[tuple[float, Pose, float]], list[float]]:
    """(arrival s, target, speed) of every setpoint (sent + recorded delay) and the pose read
    times (s), from the session's start."""
    moves: list[tuple[float, Pose, float]] = []
    reads: list[float] = []
    delays: deque[float | None] = deque()
    t0 = None
    with SessionReader(path) as r:
        for topic, t, payload in r.raw(TOPICS):
            t0 = t if t0 is None else t0
            now = (t - t0) / 1e9
            if topic == T_NETWORK:
                d = orjson.loads(payload)
                if d.get("dir") != "down":
                    delays.append(None if d.get("lost") else d.get("delay_ms", 0.0) / 1e3)
            elif topic == T_COMMAND:
                d = orjson.loads(payload)
                f, delay = d["target"], (delays.popleft() if delays else 0.0)
                if delay is not None:
                    moves.append((now + delay, Pose(f["x_mm"], f["y_mm"], f["z_mm"], f["a_deg"],
                                                    f["b_deg"], f["c_deg"]), d["speed_mm_s"]))
            elif topic == T_POSE:
                reads.append(now)
    moves.sort(key=lambda m: m[0])
    return moves, reads


def sim(moves: list[tuple[float, Pose, float]], reads: list[float]) -> None:
    arm = SimArm(_arm_params(), 0.0)
    i, n = 0, len(moves)
    for t in reads:
        while i < n and moves[i][0] <= t:
            due, target, speed = moves[i]
            arm.move(target, speed, due)
            i += 1
        arm.feed(t)
        arm.pose(t)


def parts(path: str) -> None:
    loads = orjson.loads
    feed = DelayFeed(path)
    up = TcpSender(RecordedDirection("up", StreamedDelays(feed, "up"), np.random.default_rng(0)),
                   TcpSpec())
    arm = SimArm(_arm_params(), 0.0)
    orig, new = Side(), Side()
    queue: deque[tuple[float, Pose, float]] = deque()
    t0 = None
    with SessionReader(path) as r:
        for topic, t, payload in r.raw(TOPICS):
            t0 = t if t0 is None else t0
            now = (t - t0) / 1e9
            while queue and queue[0][0] <= now:
                due, target, speed = queue.popleft()
                arm.move(target, speed, due)
            if topic == T_NETWORK:
                feed.push(loads(payload))
            elif topic == T_COMMAND:
                d = loads(payload)
                f = d["target"]
                target = Pose(f["x_mm"], f["y_mm"], f["z_mm"], f["a_deg"], f["b_deg"], f["c_deg"])
                fate = up.send(now, MOVE_BYTES)
                if not fate.lost:
                    queue.append((fate.t_arrive_s, target, d["speed_mm_s"]))
                orig.command(t, d["label"], target)
                new.command(t, d["label"], target)
            elif topic == T_POSE:
                d = loads(payload)
                orig.track(d["x_mm"], d["y_mm"], d["z_mm"], t)
                arm.feed(now)
                new.pose(t, arm.pose(now), d["label"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="session length (default 10)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("--session", help="time this session instead of recording one")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="replay-breakdown-") as tmp:
        path = args.session
        if path is None:
            from replay_speed import make_session
            path = str(Path(tmp) / "stream.mcap")
            make_session(Path(path), args.minutes * 60)
        moves, reads = _setpoints(path)
        jobs: dict[str, Callable[[], object]] = {
            "floor": lambda: floor(path), "read": lambda: read(path),
            "decode": lambda: decode(path), "sim": lambda: sim(moves, reads),
            "parts": lambda: parts(path), "replay": lambda: replay_session(path)}
        times: dict[str, list[float]] = {k: [] for k in jobs}
        for _ in range(args.rounds):
            for name, job in jobs.items():
                t0 = time.perf_counter()
                job()
                times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    out = {"setpoints": len(moves), "rounds": args.rounds,
           "seconds": {k: round(v, 3) for k, v in med.items()},
           "over_floor": {k: round(v / med["floor"], 3) for k, v in med.items()}}
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{len(moves)} setpoints, medians of {args.rounds} alternating rounds (goal: replay / "
          f"floor <= 0.5):")
    for k in jobs:
        print(f"  {k:7s} {med[k]:7.3f} s   {med[k] / med['floor']:5.2f} x floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
