#!/usr/bin/env python3
"""Does instrument sampling disturb robot timing? Wire-mode runs of the `sim` lab with and without
the instrument sampler thread, comparing the robot's status-poll intervals (same method as
benchmarks/link_sampling.py).

Each run: the simulated arm (its own process, Modbus TCP) and a simulated Polaris Vega (its own
process, `hil-bench sim serve --device instrument`, NDI Combined API on a pty); the ISO 9283
scenario for a few cycles; the runner polls the arm every 5 ms (status, or pose while following).
With sampling on, a thread records BX:0001 frames at 10 Hz (the stream record) and each visit is
measured at rest (3 frames). Prints, per setting, the medians over runs of the p50 / p99 / max
interval between consecutive robot reads while waiting for one motion (ms), the instrument frames
read and the time the at-pose reading takes.
`--short`: 1 cycle, 3 runs.

    python benchmarks/instrument_sampling.py [--cycles N] [--runs R] [--short] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from bench.clock import RealClock
from bench.instrument_sampler import InstrumentSampler
from bench.lab import load_lab
from bench.lab_instrument import InstrumentEntry
from bench.observer import Observers, RunObserver
from bench.runner import run_pose_scenario
from bench.scenario import load_scenario
from bench.simproc import ChildProcess
from drivers.instrument.ndi import NdiSettings, NdiTracker
from drivers.instrument.registry import NdiSpec
from drivers.pose import Pose
from pollgaps import StatusTimes, alternate, poll_row


def one_run(cycles: int, sample: bool) -> dict[str, float]:
    lab = load_lab("sim")
    sc = load_scenario("iso9283", cycles)
    clock = RealClock()
    rec = StatusTimes()
    observers = Observers()
    frames = 0
    dwell = 0.0
    with ChildProcess.for_robot(lab.path, 1) as sim, \
            ChildProcess(["sim", "serve", "--device", "instrument"]) as ndi, \
            lab.robot.spec.open(sim.endpoint) as arm:
        if sample:
            settings = NdiSettings(str(ndi.info["url"]), tools={"tool": "01"})
            entry = InstrumentEntry(NdiSpec(settings), "tool", Pose(), 0.0, 3, None, None)
            with NdiTracker(settings, clock.now_ns) as tracker:
                sampler = InstrumentSampler(tracker, clock, entry, RunObserver(), threaded=True)
                observers.add(sampler)          # first, as the run does
                observers.add(rec)
                sampler.start()
                observers.on_start(clock.now_ns(), {})
                run_pose_scenario(sc, arm, clock, None, None, observers)
                observers.on_end(clock.now_ns(), "pass", None)
                frames = sampler.frames
                dwell = float(np.median(sampler.dwell_s)) * 1e3
        else:
            observers.add(rec)
            observers.on_start(clock.now_ns(), {})
            run_pose_scenario(sc, arm, clock, None, None, observers)
    gaps = np.array(rec.gaps_ms)
    return {"p50_ms": float(np.percentile(gaps, 50)), "p99_ms": float(np.percentile(gaps, 99)),
            "max_ms": float(gaps.max()), "polls": rec.polls, "frames": frames,
            "dwell_ms": dwell}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cycles, runs = (1, 3) if args.short else (args.cycles, args.runs)
    out = alternate(runs, {"without sampling": lambda: one_run(cycles, False),
                           "sampling the tracker": lambda: one_run(cycles, True)})
    if args.json:
        print(json.dumps(out))
    else:
        print(f"status-poll intervals (target 5 ms), medians over {runs} runs of {cycles} "
              f"cycle(s):")
        for label, r in out.items():
            print(f"{poll_row(label, r, 22)}  frames {r['frames']:.0f}  "
                  f"at-pose reading {r['dwell_ms']:.2f} ms")
        a, b = out["without sampling"], out["sampling the tracker"]
        print(f"  ratio with/without: p50 {b['p50_ms'] / a['p50_ms']:.3f}  "
              f"p99 {b['p99_ms'] / a['p99_ms']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
