#!/usr/bin/env python3
"""How long the bench's ISO 9283 pose metrics take for one million poses, against a bare numpy
computation of the same figures on the same data in the same run (goal: within 1.5x).

Data: 1e6 visits of 5 commanded poses (6-D: positions mm, fixed X-Y-Z angles deg, tool down at
a = 180 deg so the angle differences cross +-180). Timed, alternating, `--runs` times each:
- bench: `bench.metrics.iso9283.pose_table` (AP, APx/y/z, RP, worst, APa/b/c, RPa/b/c by ISO 9283
  on wrapped angle differences, AP_rot), any hashable labels;
- bare: what one would write by hand with numpy for the same figures, a boolean mask per pose:
  barycentre, AP, l_j, RP = l̄ + 3 S (n - 1), worst, wrapped angle differences, their mean and 3 S.
Prints the medians and the ratio bench / bare; `--json` prints one JSON object. The two results
are compared first (a benchmark of a wrong answer would mean nothing).

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


def bare(labels: np.ndarray, cmd: np.ndarray, att: np.ndarray) -> dict[int, dict[str, float]]:
    """The same per-pose figures, written the plain way (one boolean mask per pose)."""
    out = {}
    for k in np.unique(labels):
        m = labels == k
        p, c = att[m], cmd[m][0]
        g = p[:, :3].mean(axis=0)
        ap = g - c[:3]
        lj = np.linalg.norm(p[:, :3] - g, axis=1)
        worst = np.linalg.norm(p[:, :3] - c[:3], axis=1).max()
        d = (p[:, 3:] - c[3:] + 180.0) % 360.0 - 180.0
        out[int(k)] = {"AP": float(np.linalg.norm(ap)), "RP": float(lj.mean() + 3 * lj.std(ddof=1)),
                       "worst": float(worst), "APa": float(d[:, 0].mean()),
                       "RPc": float(3 * d[:, 2].std(ddof=1))}
    return out


def data(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = np.array([[400, 0, 300, 180, 0, 0], [360, -40, 340, 180, 0, 0],
                        [440, 40, 340, 180, 0, 0], [440, 40, 260, 180, 0, 0],
                        [360, -40, 260, 180, 0, 0]], float)
    labels = np.arange(n) % len(centres)
    cmd = centres[labels]
    att = cmd + rng.normal(0, 0.02, cmd.shape) + np.array([0.25, -0.15, 0.1, 0, 0, 0])
    att[:, 3:] = (att[:, 3:] + 180.0) % 360.0 - 180.0      # as a controller reports: +-180
    return labels, cmd, att


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--poses", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--short", action="store_true", help="1e5 poses, 3 runs")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    n, runs = (100_000, 3) if args.short else (args.poses, args.runs)
    labels, cmd, att = data(n)
    table, ref = pose_table(labels, cmd, att), bare(labels, cmd, att)
    for k, r in ref.items():                                  # same answers, or no benchmark
        st = table[k]
        got = {"AP": st.AP, "RP": st.RP, "worst": st.worst, "APa": st.APa, "RPc": st.RPc}
        bad = [f for f in r if not np.isclose(got[f], r[f], rtol=1e-9, atol=1e-12)]
        if bad:
            print(f"pose {k}: bench and bare numpy disagree on {bad}", file=sys.stderr)
            return 1
    t_bench, t_bare = [], []
    for _ in range(runs):                                     # alternate: same machine load
        t0 = time.perf_counter()
        pose_table(labels, cmd, att)
        t1 = time.perf_counter()
        bare(labels, cmd, att)
        t2 = time.perf_counter()
        t_bench.append(t1 - t0)
        t_bare.append(t2 - t1)
    mb, mr = statistics.median(t_bench), statistics.median(t_bare)
    if args.json:
        print(json.dumps({"poses": n, "runs": runs, "bench_s": mb, "bare_s": mr,
                          "ratio": mb / mr, "goal_ratio": 1.5, "bench_all_s": t_bench,
                          "bare_all_s": t_bare}))
    else:
        print(f"ISO 9283 AP/RP + orientation for {n} poses, median of {runs} runs:")
        print(f"  bench pose_table  {mb:.3f} s  (min {min(t_bench):.3f}, max {max(t_bench):.3f})")
        print(f"  bare numpy        {mr:.3f} s  (min {min(t_bare):.3f}, max {max(t_bare):.3f})")
        print(f"  ratio bench/bare  {mb / mr:.2f}x  (goal <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
