"""`hil-bench replay SESSION`: re-issue a recorded session's commands and compare the outcome.

Prints one row per target visit (final error in both runs, the difference between the two
attained poses, time to arrive), the tracking (time-domain) error of both runs (setpoint streams
only: a target-mode session's pose reads are polls while waiting for an arrival, and a note says
so) and both verdicts.
Exit codes: 0 replay passes (pass/marginal), 1 replay fails its tolerances, 2 bad input,
3 device error during the replay.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.cli.exitcodes import EXIT_DEVICE, EXIT_FAIL, EXIT_PASS
from bench.bounds import check_number, check_seed
from bench.instrument_replay import instrument_text
from bench.outputs import check_output_file
from bench.paths import resolve
from bench.progress import TimeProgress
from bench.session.compare import Comparison
from bench.session.replay import MODES, replay_session
from bench.session.schema import T_COMMAND
from drivers.errors import ConfigError, DeviceError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay", help="replay a recorded session and compare with the original",
        description="Re-issue a session's commands with their recorded timing against the lab's "
                    "robot (virtual: in-process simulator on a virtual clock; wire: over the real "
                    "protocol, simulator processes for simulated labs), under the recorded "
                    "network delays or another profile, and compare with the original.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="built-in sessions: iso-cube, screw-guide, teleop-stream\n"
               "examples:\n  hil-bench replay iso-cube\n"
               "  hil-bench replay teleop-stream --network "
               "telesurgery-300ms --json\n"
               "  hil-bench replay runs/x/session.mcap --mode wire --out /tmp/replayed.mcap")
    p.add_argument("session", help="session file (.mcap) or built-in session name (iso-cube)")
    p.add_argument("--network", default=None,
                   help="recorded (default: the delays recorded in the session), ideal, or a "
                        "network profile name or file")
    p.add_argument("--mode", choices=MODES, default="virtual",
                   help="virtual (default, in-process, faster than real time) or wire")
    p.add_argument("--speed", type=float, default=1.0,
                   help="time scale of the operator's timing (2 = twice as fast); default 1")
    p.add_argument("--lab", default=None, help="lab file or name (default: the session's lab)")
    p.add_argument("--seed", type=int, default=None, help="simulator seed (default: recorded)")
    p.add_argument("--out", default=None, help="write the replay as a new session file")
    p.add_argument("--site", default=None,
                   help="a multi-site session: replay only this site (default: every site)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress lines (progress goes to stderr, in session seconds)")
    p.set_defaults(func=run)


def print_comparison(c: Comparison, out=sys.stdout) -> None:
    def f(v: float | None, w: int = 8, p: int = 4) -> str:
        return f"{v:{w}.{p}f}" if v is not None else f"{'-':>{w}}"

    out.write(f"replay of {c.session} ({c.mode}, network {c.network}): {c.commands} commands, "
              f"{c.duration_s:.3f} s session time in {c.wall_s:.3f} s\n")
    if c.targets:
        out.write(f"{'target':<10}{'cycle':>6}  {'err orig':>8}  {'err new':>8}  {'diff':>8}  "
                  f"{'t orig s':>8}  {'t new s':>8}\n")
        rows = c.targets if len(c.targets) <= 40 else c.targets[:20] + c.targets[-20:]
        for r in rows:
            out.write(f"{r.label:<10}{r.cycle:>6}  {f(r.error_original_mm)}  "
                      f"{f(r.error_replay_mm)}  {f(r.difference_mm)}  "
                      f"{f(r.arrive_original_s, 8, 3)}  {f(r.arrive_replay_s, 8, 3)}\n")
    to, tn = c.tracking_original, c.tracking_replay
    if tn["n"]:
        out.write(f"tracking error (pose vs last setpoint, {tn['n']} samples): RMS "
                  f"{f(to['rms_mm'], 0, 3)} -> {f(tn['rms_mm'], 0, 3)} mm, max "
                  f"{f(to['max_mm'], 0, 3)} -> {f(tn['max_mm'], 0, 3)} mm\n")
    if c.instrument:
        out.write(instrument_text(c.instrument))
    for note in c.notes:
        out.write(f"note: {note}\n")
    if c.link_loss:
        r = c.link_loss["run"]
        out.write(f"link: {r['outages']:.0f} outages, {r['link_down_time']:.3f} s without link "
                  f"(longest {r['longest_outage']:.3f} s), {r['retransmissions']:.0f} "
                  f"retransmissions, {r['lost_setpoints']:.0f} lost / {r['late_setpoints']:.0f} "
                  f"late setpoints, {r['protective_stops']:.0f} protective stops\n")
    for m in c.failed:
        v = "missing" if m["value"] is None else f"{m['value']:.3f}"
        out.write(f"FAIL: {m['name']} of {m['subject']} = {v} {m['unit']} "
                  f"(limit <= {m['limit']:g} {m['unit']})\n")
    if c.error:
        out.write(f"replay error: {c.error}\n")
    out.write(f"verdict: original {c.verdict_original.upper()}, replay "
              f"{c.verdict_replay.upper()}"
              f"{'' if c.max_difference_mm is None else f', largest pose difference {c.max_difference_mm:.4f} mm'}\n")


def session_commands(path: str) -> int:
    """Commands in a session, from its MCAP summary (0 when a cut-short file has none)."""
    from mcap.reader import make_reader
    try:
        with open(path, "rb") as f:
            summary = make_reader(f).get_summary()
    except Exception:  # noqa: BLE001 - a damaged file: no total, the replay reports the damage
        return 0
    if summary is None or summary.statistics is None:
        return 0
    return sum(n for cid, n in summary.statistics.channel_message_counts.items()
               if cid in summary.channels and summary.channels[cid].topic == T_COMMAND)


def run(args: argparse.Namespace) -> int:
    check_number(args.speed, "--speed", low=0.0, high=1000.0, low_open=True)
    check_seed(args.seed)
    if args.out:
        check_output_file(Path(args.out), "--out")
    path = str(resolve(args.session, "session"))
    from bench.sites.session import replay_sites, session_sites
    if session_sites(path):                   # a multi-site session: every site (or --site)
        return _replay_sites(args, path, replay_sites)
    if args.site:
        raise ConfigError(f"--site {args.site}: {args.session} is a single-robot session")
    # progress on stderr by commands re-issued: a wire-mode replay runs as long as the original
    progress = TimeProgress("  replay", total_commands=session_commands(path), quiet=args.quiet)
    try:
        c = replay_session(path, mode=args.mode, network=args.network, speed=args.speed,
                           record_to=args.out, lab=args.lab, seed=args.seed,
                           observer=None if args.quiet else progress)
    finally:
        progress.bar.close()
    if args.json:
        print(json.dumps(c.as_dict(), indent=2))
    else:
        print_comparison(c)
    if c.error:
        if not args.json:
            raise DeviceError(c.error)
        return EXIT_DEVICE
    return EXIT_PASS if c.passed or c.verdict_replay == "n/a" else EXIT_FAIL


def _replay_sites(args: argparse.Namespace, path: str, replay_sites: Any) -> int:
    """Replay each site of a multi-site session on its own site; exit code of the worst."""
    done = replay_sites(path, args.site, mode=args.mode, network=args.network,
                        speed=args.speed, record_to=args.out, lab=args.lab, seed=args.seed)
    if args.json:
        print(json.dumps({"sites": {name: c.as_dict() for name, c in done}}, indent=2))
    else:
        for name, c in done:
            print(f"site {name}:")
            print_comparison(c)
    if any(c.error for _, c in done):
        return EXIT_DEVICE
    return EXIT_PASS if all(c.passed or c.verdict_replay == "n/a" for _, c in done) \
        else EXIT_FAIL
