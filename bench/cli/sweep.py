"""`hil-bench sweep SCENARIO --delay START:STOP:STEP [--control ...]`: the latency budget.

Runs the scenario in virtual time at each one-way network delay (ms, each direction) and control
mode, using worker processes (both cores by default), prints a table, and reports per control mode
the largest delay at which every tolerance still passes. `--json` prints {"points": [...],
"budget_ms": {mode: ms or null}}; `--out DIR` also writes report.json, junit.xml and report.html.
Exit codes: 0 the sweep ran (whatever the verdicts), 2 bad input, 3 runtime error.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.cli.exitcodes import EXIT_PASS
from bench.bounds import check_cycles, check_seed
from bench.control.modes import CONTROL_MODES
from bench.outputs import claim_run_dir
from bench.progress import Progress
from bench.sweep import parse_range, sweep
from bench.scenario import load_scenario
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
    p.add_argument("--loss", type=float, default=0.0, help="message loss probability (0..1)")
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
    if not 0.0 <= args.loss < 1.0:      # also refuses NaN
        raise ConfigError("--loss: must be a probability in [0, 1)")
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
    result = sweep(args.scenario, args.lab, controls, delays, jitter, args.loss, args.cycles,
                   args.seed, args.jobs,
                   on_point=lambda i, n, p: progress.update(
                       i, n, f"{p['control']} @ {p['delay_ms']:g} ms: {p['verdict']}"),
                   network=args.network)
    progress.close()
    if args.out:
        from bench.reports.write import write_sweep_reports
        write_sweep_reports(Path(args.out), result)
    if args.json:
        print(json.dumps(result, indent=2, allow_nan=False))
        return EXIT_PASS
    print(f"\n{'control':<12}{'delay ms':>9}{'RTT ms':>8}  {'AP mm':>7} {'RP mm':>7} "
          f"{'worst':>7} {'overshoot':>9} {'settle s':>8}  verdict")
    for p in result["points"]:
        f = p["figures"]
        print(f"{p['control']:<12}{p['delay_ms']:>9g}{p['rtt_ms']:>8g}  {_fmt(f['AP']):>7} "
              f"{_fmt(f['RP']):>7} {_fmt(f['worst']):>7} {_fmt(f['overshoot']):>9} "
              f"{_fmt(f['settling'], 2):>8}  {p['verdict'].upper()}"
              + (f" ({', '.join(p['failed'])})" if p["failed"] else "")
              + (f" ({p['error']})" if p.get("error") else ""))
    print("\nlatency budget (largest one-way delay with every tolerance passing"
          + (f", on top of {args.network}" if args.network else "") + "):")
    for mode, b in result["budget_ms"].items():
        print(f"  {mode:<12} {'none (fails at the smallest delay)' if b is None else f'{b:g} ms'}")
    if args.out:
        print(f"reports: {args.out}")
    return EXIT_PASS
