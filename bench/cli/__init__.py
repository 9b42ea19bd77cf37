"""`hil-bench` command line: one module per subcommand, each with `register(subparsers)`.

Exit codes (the same for every subcommand; docs/reliability.md says what produces each):
  0 pass (or marginal)   1 a tolerance failed   2 bad input or configuration
  3 device or runtime error   70 internal error (a bug: please report it)
  130 interrupted (Ctrl-C / SIGTERM)
Errors are printed as one line, ``hil-bench: error: ...``; set HIL_BENCH_DEBUG=1 for tracebacks.
`main` is the only place that turns exceptions into exit codes: a `BenchError` keeps its own, an
OSError on a named path is bad input (2) unless the disk itself failed (3), anything else is an
internal error (70, never 1: 1 means a robot missed its tolerance, and a CI pipeline must not
read a crash as an accuracy failure).
"""
from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback

from bench import __version__
from bench.cli import link as link_cmd
from bench.cli import modem as modem_cmd
from bench.cli import run as run_cmd
from bench.cli import netem as netem_cmd
from bench.cli import record as record_cmd
from bench.cli import replay as replay_cmd
from bench.cli import session as session_cmd
from bench.cli import sim as sim_cmd
from bench.cli import trace as trace_cmd
from bench.cli import analyze as analyze_cmd
from bench.cli import instrument as instrument_cmd
from bench.cli import sweep as sweep_cmd
from bench.cli.exitcodes import (EXIT_CONFIG, EXIT_DEVICE, EXIT_FAIL, EXIT_INTERNAL,  # noqa: F401
                                 EXIT_INTERRUPTED, EXIT_PASS)
from bench.interrupts import interrupts_as_keyboardinterrupt
from drivers.errors import BenchError

DEBUG_ENV = "HIL_BENCH_DEBUG"

#: OS errors that say the storage failed, not that the user named a wrong path: runtime errors
_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG}

#: subcommand modules; a new command adds its module here
COMMANDS = [run_cmd, sim_cmd, netem_cmd, trace_cmd, record_cmd, session_cmd, replay_cmd, modem_cmd,
            analyze_cmd, sweep_cmd, link_cmd, instrument_cmd]

EPILOG = """\
exit codes: 0 pass (or marginal), 1 a tolerance failed, 2 bad input or configuration,
            3 device or runtime error, 70 internal error (a bug; rerun with
            HIL_BENCH_DEBUG=1 and report the traceback), 130 interrupted.
examples:
  hil-bench run                      ISO 9283 test on the built-in simulator (30 cycles)
  hil-bench run iso9283 --cycles 5   fewer cycles
  hil-bench run --mode virtual       same scenario in virtual time (no sockets, instant)
  hil-bench sim serve                serve the simulated arm over Modbus TCP on a free port
  hil-bench modem status /dev/ttyUSB2  print a 5G modem's link state (RAT, cell, RSRP, SINR)
  hil-bench analyze tracker.csv      ISO 9283 figures of an external instrument's measurements
  hil-bench sweep --delay 0:200:20   latency budget per control mode (virtual time)
  hil-bench link qualify --lab sim   GO / NO-GO for the link to the lab's robot (60 s probe)
  hil-bench replay runs/X/session.mcap --network telesurgery-300ms   the same run, worse network
  hil-bench session info runs/X/session.mcap   topics, counts, duration, truncated or not
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hil-bench",
        description="Hardware-in-the-loop bench for robot positioning over 5G: runs positioning "
                    "scenarios on real or simulated arms and judges ISO 9283 accuracy.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"hil-bench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (never raises, never 1 for an
    error: see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_CONFIG
    try:
        # SIGTERM ends every command as Ctrl-C does (exit 130, children and files closed)
        with interrupts_as_keyboardinterrupt():
            return int(args.func(args) or 0)
    except BenchError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        print("hil-bench: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:           # `| head` went away: nothing more to say
        _silence_stdout()
        return EXIT_PASS
    except OSError as exc:
        return _os_error(exc)
    except Exception as exc:          # noqa: BLE001 - the last line of defence, by design
        return _internal(exc)


def _fail(message: str, code: int) -> int:
    if os.environ.get(DEBUG_ENV):
        traceback.print_exc()
    print(f"hil-bench: error: {message}", file=sys.stderr)
    return code


def _os_error(exc: OSError) -> int:
    """An OSError nobody turned into a BenchError: name the path and the reason."""
    reason = exc.strerror or type(exc).__name__
    path = exc.filename
    where = f"{path}: " if path is not None else ""
    if exc.filename2 is not None:
        where = f"{path} -> {exc.filename2}: "
    if exc.errno in _STORAGE_ERRNOS:
        return _fail(f"{where}{reason} (storage failed)", EXIT_DEVICE)
    if path is None:
        return _internal(exc)
    return _fail(f"{where}{reason}", EXIT_CONFIG)


def _internal(exc: BaseException) -> int:
    text = " ".join(str(exc).split())[:200]
    return _fail(f"internal error: {type(exc).__name__}{': ' + text if text else ''} "
                 f"(a bug in hil-bench; rerun with {DEBUG_ENV}=1 for the traceback and report it)",
                 EXIT_INTERNAL)


def _silence_stdout() -> None:
    try:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces stdout for the exit
    except OSError:
        pass
