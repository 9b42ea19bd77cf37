#!/usr/bin/env python3
"""Does link sampling disturb robot timing? Wire-mode runs of the `sim5g` lab with and without the
modem sampler thread, comparing the robot's status-poll intervals and read latencies.

Each run: the simulated arm (its own process, Modbus TCP) and the simulated Quectel modem (its own
process, AT on a pty); the ISO 9283 scenario for a few cycles; the runner polls the arm's status
every 5 ms. With sampling on, a thread reads AT+QENG="servingcell" every `--interval` seconds.
Prints, per setting, the medians over runs of: the p50 / p99 / max interval between consecutive
status reads while waiting for one motion (ms), and the number of link samples. `--short`: 1 cycle, 3 runs.

    python benchmarks/link_sampling.py [--cycles N] [--runs R] [--interval S] [--short] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from bench.clock import RealClock
from bench.lab import load_lab
from bench.linksample import link_sampling
from bench.observer import Observers
from bench.rig import Rig
from bench.runner import run_pose_scenario
from bench.scenario import load_scenario
from pollgaps import StatusTimes, alternate, poll_row


def one_run(cycles: int, sample: bool, interval_s: float) -> dict[str, float]:
    lab = load_lab("sim5g")
    if lab.modem is not None:
        from dataclasses import replace
        lab = replace(lab, modem=replace(lab.modem, sample_interval_s=interval_s))
    sc = load_scenario("iso9283", cycles)
    clock = RealClock()
    rec = StatusTimes()
    observers = Observers([rec])
    with Rig(lab, "wire", clock, seed=1) as rig:
        arm = rig.robot()
        if sample:
            assert lab.modem is not None
            with link_sampling(rig.modem(), lab.modem.sample_interval_s, "wire", clock,
                               observers) as link:
                observers.on_start(clock.now_ns(), {})
                run_pose_scenario(sc, arm, clock, None, None, observers)
            n_link = len(link.samples) if link else 0
        else:
            observers.on_start(clock.now_ns(), {})
            run_pose_scenario(sc, arm, clock, None, None, observers)
            n_link = 0
    gaps = np.array(rec.gaps_ms)
    return {"p50_ms": float(np.percentile(gaps, 50)), "p99_ms": float(np.percentile(gaps, 99)),
            "max_ms": float(gaps.max()), "polls": rec.polls, "link_samples": n_link}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--interval", type=float, default=0.05, help="link sampling period, s")
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cycles, runs = (1, 3) if args.short else (args.cycles, args.runs)
    out = alternate(runs, {"without sampling": lambda: one_run(cycles, False, args.interval),
                           f"sampling every {args.interval:g} s":
                               lambda: one_run(cycles, True, args.interval)})
    if args.json:
        print(json.dumps(out))
    else:
        print(f"status-poll intervals (target 5 ms), medians over {runs} runs of {cycles} "
              f"cycle(s):")
        for label, r in out.items():
            print(f"{poll_row(label, r, 26)}  link samples {r['link_samples']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
