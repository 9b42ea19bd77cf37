"""`hil-bench record`: record a session file.

Three ways:
  hil-bench record [SCENARIO] -o FILE.mcap [run options]   run a scenario (as `hil-bench run`)
  hil-bench record --stream -o FILE.mcap [--rate 100 --duration 60]   a teleoperation stream
  hil-bench record --follow -o FILE.mcap [--rate 50] [--duration S] [--connect HOST:PORT]
      sample the robot's pose and status while someone moves it by other means (Ctrl-C ends)
Exit codes as for `run`; an interrupted --follow recording is finished normally (exit 0).
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from bench.cli.exitcodes import EXIT_FAIL, EXIT_PASS
from bench import __version__
from bench.bounds import check_cycles, check_number, check_seed
from bench.cli import run as run_cmd
from bench.clock import Clock, RealClock, VirtualClock
from bench.lab import load_lab
from bench.observer import Observers, RunObserver
from bench.outputs import check_output_file
from bench.progress import TimeProgress
from bench.rig import Rig
from bench.session import network as net_mod
from bench.session.recorder import SessionRecorder
from bench.evaluate import evaluate
from bench.session.compare import Tracking
from bench.session.streamer import StreamSpec, run_stream
from drivers.errors import BenchError, ConfigError, SafetyError


def _run_parser() -> argparse.ArgumentParser:
    """`run`'s own parser, so `record` accepts every option `run` has (now and later)."""
    holder = argparse.ArgumentParser(add_help=False)
    run_cmd.register(holder.add_subparsers())
    sub = next(a for a in holder._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["run"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record", parents=[_run_parser()], add_help=False, conflict_handler="resolve",
        help="record a session file (scenario run, teleoperation stream, or follow a robot)",
        description=__doc__.split("\n", 2)[2].split("Exit codes")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-h", "--help", action="help", help="show this help message and exit")
    p.add_argument("-o", "--output", required=True, help="session file to write (.mcap)")
    p.add_argument("--out", default=None,
                   help="folder for the scenario's report.json (default: not kept)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--stream", action="store_true",
                     help="stream operator setpoints at --rate for --duration")
    how.add_argument("--follow", action="store_true",
                     help="only sample pose and status at --rate (someone else moves the robot)")
    p.add_argument("--rate", type=float, default=None, help="Hz (stream 100, follow 50)")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds (stream: 60; follow: until Ctrl-C)")
    p.add_argument("--amplitude", type=float, default=20.0, help="stream motion amplitude, mm")
    p.add_argument("--network", default=None, metavar="NAME|FILE",
                   help="network profile for the robot link (a scenario run: as `run`, default "
                        "5g-urban for a simulated robot; --stream: none unless given; --follow: "
                        "not allowed)")
    p.add_argument("--connect", default=None,
                   help="follow: HOST:PORT of a running robot/simulator instead of the lab's")
    p.set_defaults(func=record)


def record(args: argparse.Namespace) -> int:
    out = check_output_file(Path(args.output), "-o")
    check_number(args.rate, "--rate", low=0.0, high=10_000.0, low_open=True)
    check_number(args.duration, "--duration", low=0.0, low_open=True)
    check_number(args.amplitude, "--amplitude", low=0.0)
    check_seed(args.seed)
    check_cycles(args.cycles)
    if args.stream or args.follow:
        return _record_arm(args, out)
    args.session = str(out)
    if args.out:
        return run_cmd.run(args)
    # the run folder the report would need lives next to the session (a killed recording leaves
    # it there, hidden, not in /tmp)
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.run-", dir=out.parent) as tmp:
        args.out, args.report_kept = tmp, False
        try:
            return run_cmd.run(args)
        finally:
            print("(report.json not kept: give --out DIR to keep it)", file=sys.stderr)


def _record_arm(args: argparse.Namespace, out: Path) -> int:
    lab = load_lab(args.lab)
    args.mode = args.mode or "wire"      # run's --mode defaults to the scenario's timing
    if lab.has_real_hardware and args.stream and not args.arm:
        raise SafetyError(f"{lab.path}: the robot is real hardware; streaming motion needs --arm. "
                          "Nothing was sent.")
    seed = 1 if args.seed is None else args.seed
    # following someone else's motion happens in real time whatever the mode
    virtual = args.mode == "virtual" and not args.follow
    clock0: Clock = VirtualClock() if virtual else RealClock()
    clock = clock0
    spec = StreamSpec(rate_hz=args.rate or 100.0, duration_s=args.duration or 60.0,
                      amplitude_mm=args.amplitude, seed=seed)
    if args.stream and lab.robot.workspace is not None:
        lab.robot.workspace.check(spec.center, "stream centre")
    network = getattr(args, "network", None)
    if network and args.follow:
        raise ConfigError("--network: a --follow recording only watches the robot; "
                          "impairment applies to scenario runs and --stream")
    from bench.impair import load_profile
    net_meta = load_profile(network).summary() if network else None
    rec = SessionRecorder(out, scenario=spec.scenario() if args.stream else None)
    meta = {"lab": {"name": lab.name, "source": str(lab.path), "robot": ""}, "mode": args.mode,
            "seed": seed, "network": net_meta,
            "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "recording": "stream" if args.stream else "follow",
            "link": net_mod.PIPELINED if args.stream else net_mod.REQUEST_REPLY,
            "command": "hil-bench " + " ".join(sys.argv[1:])}
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    # progress on stderr in session seconds, as `run` shows its cycles
    progress = TimeProgress("  stream" if args.stream else "  follow",
                            spec.duration_s if args.stream else (args.duration or 0.0),
                            quiet=args.quiet, what="commands" if args.stream else "samples")
    watch = Observers([rec, progress])
    verdict, error = "n/a", None
    try:
        with run_cmd.interrupts_as_keyboardinterrupt(), _open(lab, args, seed, clock0) as base:
            arm, clock = base, clock0
            if args.stream:
                arm, clock = net_mod.wrap(base, clock0, network or "ideal", lab=lab, seed=seed,
                                          observer=watch, link_kind=net_mod.PIPELINED)
            meta["lab"]["robot"] = base.name
            rec.on_start(clock.now_ns(), meta)
            progress.on_start(clock.now_ns(), meta)
            log(f"hil-bench {__version__}: recording {meta['recording']} from {base.name} "
                f"to {out}")
            if args.stream:
                tracking = Tracking()
                samples = run_stream(spec, arm, clock, watch, tracking)
                progress.finish(clock.now_ns())
                err = samples[0].commanded.distance_to(samples[0].attained)
                verdict = evaluate(spec.scenario(), samples,
                                   tracking=tracking.figures()).outcome.value
                log(f"  final error {err:.4f} mm, tracking RMS {tracking.rms_mm:.3f} mm, max "
                    f"{tracking.max_mm:.3f} mm: {verdict}")
            else:
                try:
                    _follow(arm, clock, watch, args.rate or 50.0, args.duration)
                finally:
                    progress.finish(clock.now_ns())
    except KeyboardInterrupt:
        if args.stream:
            rec.on_end(clock.now_ns(), "error", "interrupted")
            raise
        verdict = "n/a"
    except BenchError as exc:
        if isinstance(exc, ConfigError):
            rec.close()
            raise
        error = str(exc)
        rec.on_event(clock.now_ns(), "error", {"message": error})
        rec.on_end(clock.now_ns(), "error", error)
        raise
    rec.on_end(clock.now_ns(), verdict, error)
    print(f"session: {out}")
    return EXIT_FAIL if verdict == "fail" else EXIT_PASS


@contextlib.contextmanager
def _open(lab, args: argparse.Namespace, seed: int, clock: Clock):
    if args.connect:
        host, _, port = args.connect.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--connect {args.connect}: expected HOST:PORT")
        with lab.robot.spec.open((host, int(port))) as arm:
            yield arm
    else:
        with Rig(lab, args.mode, clock, seed=seed) as rig:
            yield rig.robot()


def _follow(arm, clock: Clock, rec: RunObserver, rate_hz: float,
            duration_s: float | None) -> None:
    period = 1.0 / rate_hz
    t0 = clock.now()
    i = 0
    while duration_s is None or i * period <= duration_s:
        wait = t0 + i * period - clock.now()
        if wait > 0:
            clock.sleep(wait)
        rec.on_pose(clock.now_ns(), arm.read_pose(), "")
        rec.on_status(clock.now_ns(), arm.read_status())
        i += 1
