"""`hil-bench trace info FILE`: rows, duration and round-trip quantiles of a delay trace.

`--json` prints one object: `file`, `format`, `rows`, and `rtt_ms` with `median`, `p99`, `max`
(and `mean`), or `rtt_ms: null` with `period_ms` and `rate_mbit_s` for a mahimahi link trace.
Exit codes: 0 done, 2 unreadable or malformed file.
"""
from __future__ import annotations

import argparse
import json

from bench.cli.exitcodes import EXIT_PASS
from bench.impair.traces import READERS, load_trace
from drivers.data import trace_path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("trace", help="inspect network traces (CICV5G, mahimahi, CSV)",
                       description="Inspect delay and capacity traces used by network profiles.")
    tsub = p.add_subparsers(dest="trace_command", metavar="TRACECOMMAND")
    i = tsub.add_parser("info", help="rows and RTT median/p99/max of a trace file",
                        description="Summarise a trace: rows, duration, round-trip time "
                                    "median, p99 and max in ms.",
                        formatter_class=argparse.RawDescriptionHelpFormatter,
                        epilog="shipped traces (CICV5G, CC BY 4.0): "
                               "cicv5g_urban_n78_v0_run01 (urban-n78), cicv5g_urban_n8_v20_run01 "
                               "(urban-n8), cicv5g_w2s_n8_v30_run01 (w2s)\n"
                               "examples:\n  hil-bench trace info urban-n78\n"
                               "  hil-bench trace info my-trace.csv --json")
    i.add_argument("file", help="trace file, or a shipped trace's name or short name (urban-n78)")
    i.add_argument("--format", default="auto", choices=["auto", *READERS],
                   help="file format (default: auto-detect)")
    i.add_argument("--json", action="store_true", help="print one JSON object")
    i.set_defaults(func=info)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def info(args: argparse.Namespace) -> int:
    summary = load_trace(trace_path(args.file), args.format).info()
    if args.json:
        print(json.dumps(summary))
        return EXIT_PASS
    print(f"{summary['file']}: {summary['format']}, {summary['rows']} rows")
    rtt = summary.get("rtt_ms")
    if rtt:
        print(f"  duration {summary['duration_s']} s; RTT ms: median {rtt['median']:g}, "
              f"p99 {rtt['p99']:g}, max {rtt['max']:g}, mean {rtt['mean']:g}")
    else:
        print(f"  period {summary['period_ms']} ms, capacity {summary['rate_mbit_s']} Mbit/s")
    return EXIT_PASS
