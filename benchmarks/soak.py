#!/usr/bin/env python3
"""Soak run: wire mode on the simulators under the CICV5G urban moving trace, for N minutes.

The simulated arm runs as its own process behind the TCP impairment proxy (also its own process)
replaying the real 5G round-trip trace `5g-urban-moving`; the bench cycles through the ISO 9283
cube, records a session, and at the end reads the session back.

Figures printed (and with --json one object):
  samples_taken      poses measured by the runner
  samples_in_session poses found in the session file read back
  lost_samples       runs' visits that produced no sample + samples missing from the session
                     (must be 0)
  errors             device errors met (each one also loses the visit it happened in)
  rss_first_mb / rss_last_mb / rss_growth_pct
                     median resident memory (bench + simulator + proxy processes) over the first
                     and the last window (a minute, or a sixth of a short run); goal <= 10 %
  by_process         the same three figures for each process (bench, simulator, proxy), so a
                     growth is pinned on the process that grows
Usage: benchmarks/soak.py --minutes 30      (short mode for CI: --seconds 20)
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.clock import RealClock
from bench.impair import load_profile
from bench.lab import load_lab
from bench.observer import Observers
from bench.rig import Rig
from bench.runner import run_pose_scenario
from bench.scenario import load_scenario
from bench.session.reader import SessionReader
from bench.session.recorder import SessionRecorder
from drivers.errors import DeviceError


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size of a process in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=None, help="duration in minutes")
    ap.add_argument("--seconds", type=float, default=None, help="duration in seconds (short mode)")
    ap.add_argument("--network", default="5g-urban-moving", help="network profile")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    duration = (args.seconds if args.seconds is not None
                else 60.0 * (args.minutes if args.minutes is not None else 1.0))
    window = min(60.0, duration / 6)

    lab = load_lab("sim")
    sc = load_scenario("iso9283", cycles=1)
    network = load_profile(args.network)
    clock = RealClock()
    taken = visits = errors = 0
    rss: list[tuple[float, float]] = []
    by_proc: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="hil-soak-") as tmp:
        session = Path(tmp) / "soak.mcap"
        observers = Observers([SessionRecorder(session, scenario=sc)])
        t0 = time.monotonic()
        with Rig(lab, "wire", clock, seed=sc.seed, network=network, observer=observers) as rig:
            arm = rig.robot()
            named = {"bench": "self", **{f"simulator{i or ''}": s["pid"]
                                         for i, s in enumerate(rig.simulators) if "pid" in s},
                     **{f"proxy{i or ''}": px["pid"] for i, px in enumerate(rig.proxies)
                        if "pid" in px}}
            # the soak lasts `duration` from here: starting the simulator and the proxy can take
            # seconds on a loaded machine, and counted in, they left no time for a single cycle
            t0 = time.monotonic()
            observers.on_start(clock.now_ns(), {"scenario": sc.name, "soak": True})
            last_print = t0
            while time.monotonic() - t0 < duration:
                visits += len(sc.poses)
                samples: list = []
                try:
                    run_pose_scenario(sc, arm, clock, lab.robot.workspace, None, observers,
                                      into=samples)
                except DeviceError as exc:
                    errors += 1
                    print(f"  device error: {exc}", file=sys.stderr)
                    arm.close()
                    arm.connect()
                taken += len(samples)
                now = time.monotonic()
                per = {name: rss_mb(pid) for name, pid in named.items()}
                for name, mb in per.items():
                    by_proc.setdefault(name, []).append((now - t0, mb))
                rss.append((now - t0, sum(per.values())))
                if now - last_print >= 10 and not args.json:
                    print(f"  {now - t0:6.0f} s  samples {taken}  rss {rss[-1][1]:.1f} MB",
                          file=sys.stderr)
                    last_print = now
        observers.on_end(clock.now_ns(), "soak", None)
        with SessionReader(session) as reader:
            in_session = sum(1 for m in reader.messages(["/robot/pose"]) if m.data.get("label"))
            truncated = bool(reader.truncated)
    elapsed = rss[-1][0] if rss else 0.0
    first = [r for t, r in rss if t <= window] or [rss[0][1]]
    last = [r for t, r in rss if t >= elapsed - window] or [rss[-1][1]]
    r0, r1 = statistics.median(first), statistics.median(last)

    def growth(series: list[tuple[float, float]]) -> dict[str, float | None]:
        a = statistics.median([r for t, r in series if t <= window] or [series[0][1]])
        b = statistics.median([r for t, r in series if t >= elapsed - window] or [series[-1][1]])
        return {"rss_first_mb": round(a, 1), "rss_last_mb": round(b, 1),
                "rss_growth_pct": round(100.0 * (b - a) / a, 2) if a else None}
    result = {
        "duration_s": round(elapsed, 1), "network": args.network, "samples_taken": taken,
        "samples_in_session": in_session, "session_truncated": truncated,
        "lost_samples": (visits - taken) + (taken - in_session), "errors": errors,
        "rss_first_mb": round(r0, 1), "rss_last_mb": round(r1, 1),
        "rss_growth_pct": round(100.0 * (r1 - r0) / r0, 2) if r0 else None,
        "window_s": round(window, 1),
        "by_process": {name: growth(series) for name, series in by_proc.items()},
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>20}: {v}")
    return 0 if result["lost_samples"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
