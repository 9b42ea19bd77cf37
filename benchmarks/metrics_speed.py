#!/usr/bin/env python3
"""How long the ISO 9283 pose metrics take for one million attained poses (goal: < 0.5 s).

Computes AP/RP (position and orientation) and the worst single error for 1e6 visits of
5 commanded poses (6-D, with orientation) with `bench.metrics.iso9283.pose_table`, several times,
and prints the median wall time. `--short` uses 1e5 poses; `--json` prints {"seconds": median, ...}.

    python benchmarks/metrics_speed.py [--poses N] [--runs R] [--short] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

from bench.metrics.iso9283 import pose_table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--poses", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--short", action="store_true", help="1e5 poses, 3 runs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    n, runs = (100_000, 3) if args.short else (args.poses, args.runs)
    rng = np.random.default_rng(0)
    centres = np.array([[400, 0, 300, 180, 0, 0], [360, -40, 340, 180, 0, 0],
                        [440, 40, 340, 180, 0, 0], [440, 40, 260, 180, 0, 0],
                        [360, -40, 260, 180, 0, 0]], float)
    labels = np.arange(n) % len(centres)
    cmd = centres[labels]
    att = cmd + rng.normal(0, 0.02, cmd.shape) + np.array([0.25, -0.15, 0.1, 0, 0, 0])
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        table = pose_table(labels, cmd, att)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    if args.json:
        print(json.dumps({"seconds": med, "poses": n, "runs": runs,
                          "all_seconds": times, "goal_seconds": 0.5}))
    else:
        print(f"ISO 9283 AP/RP (+orientation) for {n} poses: median {med:.3f} s over {runs} runs "
              f"(min {min(times):.3f}, max {max(times):.3f}); goal < 0.5 s for 1e6")
        print(f"  P0: AP {table[0].AP:.4f} mm, RP {table[0].RP:.4f} mm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
