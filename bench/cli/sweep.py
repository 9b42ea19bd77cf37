"""`hil-bench sweep SCENARIO --delay START:STOP:STEP [--loss ...] [--outage ...] [--control ...]`.

Runs the scenario in virtual time at each one-way network delay (ms, each direction), loss
probability, outage duration (s) and control mode, using worker processes (both cores by
default), prints a table, and reports per control mode the largest value of each swept axis at
which every tolerance still passes ("at least" when the largest value swept still passes).
`--json` prints {"points": [...], "budget_ms": {mode: ms or null}, "budget": {axis: {mode:
{"value", "at_least"}}}}; `--out DIR` also writes report.json, junit.xml and report.html.
Exit codes: 0 the sweep ran (whatever the verdicts), 2 bad input, 3 runtime error.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from bench.cli.exitcodes import EXIT_PASS
from bench.bounds import check_cycles, check_seed
from bench.control.modes import CONTROL_MODES
from bench.outputs import claim_run_dir
from bench.progress import Progress
from bench.scenario import load_scenario
from bench.sweep import parse_loss, parse_range, sweep
from drivers.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep", help="sweep network delay and control mode; report the latency budget",
        description="Run a scenario in virtual time at each network delay and control mode and "
                    "report, per mode, the largest delay at which every tolerance passes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="delay is one-way, in each direction (round trip = 2 x delay); with --network it "
               "is added to that link's delays.\n"
               "examples:\n  hil-bench sweep iso9283 --delay 0:200:20 --cycles 3\n"
               "  hil-bench sweep iso9283 --delay 0:150:50 --control remote-loop --json")
    p.add_argument("scenario", nargs="?", default="iso9283")
    p.add_argument("--delay", required=True, help="START:STOP:STEP one-way delay, ms")
    p.add_argument("--jitter", default="0", help="jitter (standard deviation), ms (default 0)")
    p.add_argument("--loss", default="0",
                   help="message loss probability (0..1), or START:STOP:STEP, or percentages "
                        "with a trailing %% (e.g. 0:3:1 %%)")
    p.add_argument("--outage", default="0",
                   help="outage duration, s, or START:STOP:STEP: one outage per run starting "
                        "--outage-at into it (default: none)")
    p.add_argument("--outage-at", type=float, default=1.0,
                   help="when the outage starts, s into the run (default 1)")
    p.add_argument("--control", default="target,stream,remote-loop",
                   help="comma-separated control modes (default: all three)")
    p.add_argument("--network", default=None, metavar="NAME|FILE",
                   help="sweep on top of this link (e.g. a measured one from `hil-bench link "
                        "qualify`): each point adds --delay to its delays (default: none)")
    p.add_argument("--mode", choices=["virtual", "wire"], default="virtual",
                   help="virtual time (default); wire sweeps are not supported yet")
    p.add_argument("--lab", default="sim", help="lab with a simulated robot (default: sim)")
    p.add_argument("--cycles", type=int, default=None, help="override the scenario's cycles")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: 2)")
    p.add_argument("--out", default=None, help="also write report.json/junit.xml/report.html here")
    p.add_argument("--force", action="store_true",
                   help="write into an --out folder that already holds files")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def run(args: argparse.Namespace) -> int:
    if args.mode != "virtual":
        raise ConfigError("--mode wire: sweeps run in virtual time only (wire mode needs the "
                          "network proxy between bench and arm)")
    controls = [c.strip() for c in args.control.split(",") if c.strip()]
    bad = [c for c in controls if c not in CONTROL_MODES]
    if bad or not controls:
        raise ConfigError(f"--control: unknown mode {', '.join(bad) or '(none)'} "
                          f"(known: {', '.join(CONTROL_MODES)})")
    args.losses = parse_loss(args.loss)
    args.outages = parse_range(args.outage.strip().removesuffix("s"), "--outage")
    if not (math.isfinite(args.outage_at) and args.outage_at >= 0):
        raise ConfigError("--outage-at: must be a number of seconds >= 0")
    check_cycles(args.cycles)
    check_seed(args.seed)
    # RP and every other sample deviation need 2 cycles: refused like `run` and `analyze` do
    load_scenario(args.scenario, args.cycles).check_cycles()
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError("--jobs: must be at least 1")
    delays = parse_range(args.delay)
    jitter = parse_range(args.jitter, "--jitter")[0]
    if args.out:        # checked and owned before the first point runs
        with claim_run_dir(Path(args.out), "--out", args.force):
            return _sweep(args, controls, delays, jitter)
    return _sweep(args, controls, delays, jitter)


def _sweep(args: argparse.Namespace, controls: list[str], delays: list[float],
           jitter: float) -> int:
    progress = Progress("sweep", stream=sys.stderr, quiet=args.json)
    losses = args.losses
    result = sweep(args.scenario, args.lab, controls, delays, jitter,
                   losses if len(losses) > 1 else losses[0], args.cycles, args.seed, args.jobs,
                   on_point=lambda i, n, p: progress.update(
                       i, n, f"{p['control']} @ {p['delay_ms']:g} ms, loss {p['loss']:g}, "
                             f"outage {p['outage_s']:g} s: {p['verdict']}"),
                   network=args.network, outages_s=args.outages, outage_at_s=args.outage_at)
    progress.close()
    if args.out:
        from bench.reports.write import write_sweep_reports
        write_sweep_reports(Path(args.out), result)
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
        return EXIT_PASS
    print(f"\n{'control':<12}{'delay ms':>9}{'RTT ms':>8}{'loss':>7}{'outage s':>9}  "
          f"{'AP mm':>7} {'RP mm':>7} {'worst':>7} {'overshoot':>9} {'settle s':>8}  verdict")
    for p in result["points"]:
        f = p["figures"]
        print(f"{p['control']:<12}{p['delay_ms']:>9g}{p['rtt_ms']:>8g}{p['loss']:>7g}"
              f"{p['outage_s']:>9g}  {_fmt(f['AP']):>7} "
              f"{_fmt(f['RP']):>7} {_fmt(f['worst']):>7} {_fmt(f['overshoot']):>9} "
              f"{_fmt(f['settling'], 2):>8}  {p['verdict'].upper()}"
              + (f" ({', '.join(p['failed'])})" if p["failed"] else "")
              + (f" ({p['error']})" if p.get("error") else ""))
    units = {"delay_ms": ("one-way delay", "ms"), "loss": ("loss probability", ""),
             "outage_s": ("outage", "s")}
    for axis, per_mode in result["budget"].items():
        what, unit = units[axis]
        on_top = f", on top of {args.network}" if args.network and axis == "delay_ms" else ""
        print(f"\nbudget: largest {what} with every tolerance passing{on_top}:")
        for mode, b in per_mode.items():
            v = b["value"]
            text = ("none (fails at the smallest value)" if v is None else
                    f"{'at least ' if b['at_least'] else ''}{v:g}{' ' + unit if unit else ''}")
            print(f"  {mode:<12} {text}")
    if args.out:
        print(f"reports: {args.out}")
    return EXIT_PASS
