"""`hil-bench session info|export FILE`: look into a recorded session.

`info` prints the message count per topic, the duration and whether the file was cut short
(a recorder killed before it could finish) and whether it is damaged (records or messages that
cannot be read, listed with topic and position); `--json` prints one object with keys topics,
messages, duration_s, truncated, damaged (plus finished, truncation, damaged_messages, damage,
format, scenario, mode, network).
`export` writes CSV or JSON Lines to stdout or `--out`. Exit codes: 0 ok, 2 missing or not a
session file.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bench.cli.exitcodes import EXIT_PASS
from bench.outputs import check_output_file
from bench.paths import resolve
from bench.session.info import export_csv, export_jsonl, session_info
from bench.session.schema import FORMAT, TOPICS
from drivers.errors import ConfigError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("session", help="inspect or export a recorded session (.mcap)",
                       description="Inspect or export a session file written by hil-bench run, "
                                   "record or replay.")
    ss = p.add_subparsers(dest="session_command", metavar="ACTION")
    pi = ss.add_parser("info", help="topics, message counts, duration, truncated or not")
    pi.add_argument("file", help="session file (.mcap) or built-in session name (iso-cube)")
    pi.add_argument("--json", action="store_true", help="print one JSON object")
    pi.set_defaults(func=info)
    pe = ss.add_parser("export", help="write the messages as CSV or JSON Lines",
                       epilog="examples:\n  hil-bench session export run/session.mcap "
                              "--format csv --topic /robot/pose > poses.csv",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    pe.add_argument("file", help="session file (.mcap) or built-in session name (iso-cube)")
    pe.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")
    pe.add_argument("--topic", action="append", default=None,
                    help=f"only this topic (repeatable; one of {', '.join(TOPICS)})")
    pe.add_argument("--out", default=None, help="output file (default: stdout)")
    pe.set_defaults(func=export)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def info(args: argparse.Namespace) -> int:
    args.file = str(resolve(args.file, "session"))
    data = session_info(args.file)
    try:
        _print_info(args, data)
    except BrokenPipeError:             # `| head`: the reader went away, that is fine
        sys.stdout = open(os.devnull, "w")
    return EXIT_PASS


def _print_info(args: argparse.Namespace, data: dict) -> None:
    if args.json:
        print(json.dumps(data, indent=2))
        return
    state = "TRUNCATED (" + (data["truncation"] or "") + ")" if data["truncated"] else "complete"
    if data["damaged"]:
        state += (f", DAMAGED ({data['damaged_messages']} unreadable, first: "
                  f"{data['damage'][0]})")
    print(f"{args.file}: {data['messages']} messages, {data['duration_s']:.3f} s, {state}")
    if data["format"] not in (None, FORMAT):
        print(f"  format {data['format']} (this hil-bench reads {FORMAT})")
    if data["scenario"]:
        print(f"  scenario {data['scenario']}, mode {data['mode']}")
    for topic, n in data["topics"].items():
        print(f"  {topic:<20} {n:>9}")


def export(args: argparse.Namespace) -> int:
    args.file = str(resolve(args.file, "session"))
    if args.topic:
        unknown = [t for t in args.topic if t not in TOPICS]
        if unknown:
            raise ConfigError(f"--topic: unknown topic {unknown[0]!r} (known: {', '.join(TOPICS)})")
    if args.out:
        check_output_file(Path(args.out), "--out")
    out = open(Path(args.out), "w", encoding="utf-8", newline="") if args.out else sys.stdout
    damage: list[str] = []
    try:
        if args.format == "csv":
            n = export_csv(args.file, out, args.topic, damage)
        else:
            n = export_jsonl(args.file, out, args.topic, damage)
    except BrokenPipeError:             # `| head`: the reader went away, that is fine
        sys.stdout = open(os.devnull, "w")
        return EXIT_PASS
    finally:
        if out is not sys.stdout:
            out.close()
    skipped = f" ({len(damage)} damaged messages skipped, first: {damage[0]})" if damage else ""
    print(f"exported {n} messages{skipped}", file=sys.stderr)
    return EXIT_PASS
