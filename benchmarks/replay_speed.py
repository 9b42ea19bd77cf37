#!/usr/bin/env python3
"""How fast a long setpoint-streaming session replays in virtual time, and in how much memory.

Records (with the bench's own recorder, as `hil-bench record --stream --network 5g-urban-moving`)
a 10-minute session of 100 Hz setpoints under the CICV5G urban moving trace, then replays it in
virtual mode under its recorded delays several times, each in a fresh process, and prints the
median real-time factor (session seconds per wall second; goal >= 600, i.e. < 1 s) and the peak
resident memory of the replaying process. The same replay of a session a tenth as long is
measured too: equal peak memory shows that the replay streams instead of loading the file.
The same loop against an idle arm (no simulator) gives the bench's own share of the time.
`--record` also measures a replay that records its own new session. `--short`: 1-minute session.

The floor: in the same run, the official `mcap` library (its streaming reader) merely reads every
message of the same session and decodes its JSON payload (with orjson, the fastest decoder at
hand), nothing else; one replay and one read alternate per round, so a change of the machine's
load hits both. `replay_over_mcap_read` is the replay's median wall time over that read's median
(simulation and comparison included; goal <= 0.5); `replay_over_mcap_read_cpu` the same in CPU
time and `replay_over_mcap_read_rounds` the median of each round's ratio (both steadier than the
wall-time figure on a shared machine).

    python benchmarks/replay_speed.py [--minutes M] [--runs R] [--record] [--short] [--json]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_session(path: Path, seconds: float) -> None:
    from bench.cli import main
    import contextlib
    import io
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(["record", "--stream", "--rate", "100", "--duration", f"{seconds:g}", "--mode",
                   "virtual", "--network", "5g-urban-moving", "-q", "-o", str(path)])
    if rc != 0:
        raise SystemExit(f"recording the session failed (exit {rc})")


def peak_rss_mb() -> float:
    """This process's peak resident memory, MB. VmHWM belongs to the process's own address space;
    `ru_maxrss` would also count the benchmark parent's memory from before the child's exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def replay_once(path: str, record_to: str | None) -> dict:
    """In this (fresh) process: replay and report wall time, session time and peak RSS."""
    import bench.cli.run  # noqa: F401  (imports are not part of the replay's time)
    from bench.session.replay import replay_session
    t0, c0 = time.perf_counter(), time.process_time()
    c = replay_session(path, record_to=record_to)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall_s": wall, "cpu_s": cpu, "session_s": c.duration_s, "commands": c.commands,
            "max_difference_mm": c.max_difference_mm, "error": c.error,
            "peak_rss_mb": peak_rss_mb()}


def overhead_once(path: str) -> dict:
    """The bench's own share: the same replay loop (reader, schedule, recorded-delay link,
    comparison) against an arm that does nothing, so the simulator's cost is left out."""
    import bench.cli.run  # noqa: F401
    from bench.clock import VirtualClock
    from bench.lab import load_lab
    from bench.observer import RunObserver
    from bench.session import network as net_mod
    from bench.session.recorder import scenario_from_dict
    from bench.session.drive import drive
    from bench.session.replay import session_header
    from drivers.pose import Pose
    from drivers.robot import ArmState, ArmStatus, RobotArm

    class IdleArm(RobotArm):
        name, seq = "idle", 0

        def connect(self) -> None: ...
        def close(self) -> None: ...
        def read_pose(self) -> Pose: return Pose()
        def read_status(self) -> ArmStatus: return ArmStatus(ArmState.ARRIVED, self.seq)
        def stop(self) -> None: ...

        def move_to(self, target: Pose, speed_mm_s: float) -> int:
            self.seq += 1
            return self.seq

    meta, start = session_header(path)
    clock = VirtualClock()
    t0 = time.perf_counter()
    arm, clk = net_mod.wrap(IdleArm(), clock, None, lab=load_lab("sim"), seed=1,
                            observer=RunObserver(), link_kind=meta.get("link", ""), session=path)
    drive(path, arm, clk, RunObserver(), scenario=scenario_from_dict(meta["scenario"]),
          start_ns=start, send_times=False)
    return {"wall_s": time.perf_counter() - t0, "session_s": clock.now()}


def mcap_read_once(path: str) -> dict:
    """The floor: the official mcap reader reads every message and decodes its JSON payload."""
    import orjson
    from mcap.reader import make_reader
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    with open(path, "rb") as fh:
        for _schema, _channel, message in make_reader(fh).iter_messages():
            orjson.loads(message.data)
            n += 1
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "messages": n}


def measure(path: Path, runs: int, record_to: Path | None = None) -> list[dict]:
    out = []
    for _ in range(runs):
        args = [sys.executable, __file__, "--_replay", str(path)]
        if record_to:
            args += ["--_record-to", str(record_to)]
        res = subprocess.run(args, capture_output=True, text=True, check=True)
        out.append(json.loads(res.stdout))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="also measure replay + recording")
    ap.add_argument("--short", action="store_true", help="a 1-minute session, 2 runs")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--_replay", help=argparse.SUPPRESS)
    ap.add_argument("--_record-to", dest="record_to", help=argparse.SUPPRESS)
    ap.add_argument("--_overhead", help=argparse.SUPPRESS)
    ap.add_argument("--_mcap-read", dest="mcap_read", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.mcap_read:
        print(json.dumps(mcap_read_once(args.mcap_read)))
        return 0
    if args._overhead:
        print(json.dumps(overhead_once(args._overhead)))
        return 0
    if args._replay:
        print(json.dumps(replay_once(args._replay, args.record_to)))
        return 0
    minutes, runs = (1.0, 2) if args.short else (args.minutes, args.runs)
    with tempfile.TemporaryDirectory(prefix="replay-speed-") as tmp:
        long_s, small_s = Path(tmp) / "long.mcap", Path(tmp) / "small.mcap"
        t0 = time.perf_counter()
        make_session(long_s, minutes * 60)
        make_session(small_s, minutes * 6)
        gen_s = time.perf_counter() - t0
        # replay and floor alternate, one of each per round, so that a change of the load on a
        # shared machine hits both alike (their ratio is the figure)
        long_r, floor = [], []
        for _ in range(runs):
            long_r += measure(long_s, 1)
            floor.append(json.loads(subprocess.run(
                [sys.executable, __file__, "--_mcap-read", str(long_s)], capture_output=True,
                text=True, check=True).stdout))
        small_r = measure(small_s, 1)
        rec_r = measure(long_s, runs, Path(tmp) / "replayed.mcap") if args.record else []
        over = [json.loads(subprocess.run([sys.executable, __file__, "--_overhead", str(long_s)],
                                          capture_output=True, text=True, check=True).stdout)
                for _ in range(runs)]
        size_mb = long_s.stat().st_size / 1e6
    wall = statistics.median(r["wall_s"] for r in long_r)
    session_s = long_r[0]["session_s"]
    result = {
        "session_minutes": minutes, "setpoints": long_r[0]["commands"],
        "session_mb": round(size_mb, 2),
        "wall_s": round(wall, 3), "realtime_factor": round(session_s / wall, 1),
        # best of the runs: closest to an idle machine when others share the cores
        "realtime_factor_best": round(session_s / min(r["wall_s"] for r in long_r), 1),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in long_r), 1),
        "peak_rss_mb_tenth_session": round(small_r[0]["peak_rss_mb"], 1),
        "max_difference_mm": long_r[0]["max_difference_mm"],
        "runs": runs, "generate_s": round(gen_s, 1),
    }
    floor_wall = statistics.median(r["wall_s"] for r in floor)
    result["mcap_read_wall_s"] = round(floor_wall, 3)
    result["mcap_read_messages"] = floor[0]["messages"]
    result["replay_over_mcap_read"] = round(wall / floor_wall, 2)
    # the same ratio in CPU time (less sensitive to other processes on the cores) and the median
    # of the rounds' own ratios
    result["replay_over_mcap_read_cpu"] = round(
        statistics.median(r["cpu_s"] for r in long_r)
        / statistics.median(r["cpu_s"] for r in floor), 2)
    result["replay_over_mcap_read_rounds"] = round(
        statistics.median(r["wall_s"] / f["wall_s"] for r, f in zip(long_r, floor)), 2)
    ow = min(r["wall_s"] for r in over)
    result["bench_only_wall_s"] = round(ow, 3)
    result["bench_only_realtime_factor"] = round(over[0]["session_s"] / ow, 1)
    if rec_r:
        w = statistics.median(r["wall_s"] for r in rec_r)
        result["wall_s_recording"] = round(w, 3)
        result["realtime_factor_recording"] = round(session_s / w, 1)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{minutes:g}-minute 100 Hz stream ({result['setpoints']} setpoints, "
              f"{size_mb:.1f} MB) replayed in virtual time under its recorded CICV5G delays:")
        print(f"  median {wall:.3f} s over {runs} runs -> {result['realtime_factor']:.0f}x real "
              f"time (goal >= 600x)")
        print(f"  peak RSS {result['peak_rss_mb']:.1f} MB (a session a tenth as long: "
              f"{result['peak_rss_mb_tenth_session']:.1f} MB)")
        print(f"  best run: {result['realtime_factor_best']:.0f}x")
        print(f"  floor: the mcap library reading and JSON-decoding the same "
              f"{result['mcap_read_messages']} messages: median {floor_wall:.3f} s; replay / "
              f"read = {result['replay_over_mcap_read']:.2f} (goal <= 0.5; in CPU time "
              f"{result['replay_over_mcap_read_cpu']:.2f}, median of the rounds' ratios "
              f"{result['replay_over_mcap_read_rounds']:.2f})")
        print(f"  the bench's own share (best run against an idle arm, no simulator): "
              f"{ow:.3f} s -> {result['bench_only_realtime_factor']:.0f}x")
        if rec_r:
            print(f"  with the replay recorded to a new session: {result['wall_s_recording']:.3f}"
                  f" s -> {result['realtime_factor_recording']:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
