"""`hil-bench run [SCENARIO]`: run a positioning scenario and judge it.

With no arguments: start the simulated arm of the built-in `sim` lab as its own process, run the
built-in ISO 9283 scenario over Modbus TCP, print a table per pose, write report.json, stop the
simulator. Exit codes: 0 pass/marginal, 1 tolerance failed, 2 bad input, 3 device/runtime error.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import math
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.cli.exitcodes import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS
from bench import __version__
from bench.bounds import check_cycles, check_seed
from bench.clock import Clock, RealClock, VirtualClock
from bench.evaluate import Evaluation, evaluate
from bench.impair import load_profile
from bench.instrument_report import instrument_evaluation, instrument_lines
from bench.instrument_sampler import InstrumentSampler
from bench.lab import load_lab
from bench.limits import Outcome
from bench.linkloss import LinkLossLog
from bench.linksample import LinkSampler, link_sampling
from bench.interrupts import interrupts_as_keyboardinterrupt
from bench.observer import Observers
from bench.outputs import claim_run_dir
from bench.paths import builtin_names
from bench.progress import Progress
from bench.reports.build import run_report
from bench.reports.collect import PlotData
from bench.reports.console import print_table
from bench.reports.record import LabInfo, RunInfo
from bench.reports.write import write_run_reports
from bench.fit import check_fits
from bench.follow import run_follow_scenario
from bench.rig import Rig
from bench.runner import Sample, check_scenario, run_pose_scenario
from bench.scenario import Scenario, load_scenario
from bench.session.recorder import SessionRecorder
from drivers.errors import BenchError, ConfigError, DeviceError, SafetyError

ARM_ENV = "HIL_BENCH_ARM"
#: a simulated robot's link is impaired like real urban 5G unless --network says otherwise
#: (real hardware is not: its link is already real)
DEFAULT_NETWORK: str | None = "5g-urban"


def register(sub: argparse._SubParsersAction) -> None:
    scen = ", ".join(builtin_names("scenario"))
    p = sub.add_parser(
        "run", help="run a positioning scenario and judge its accuracy",
        description="Run a scenario on the lab's robot (by default the built-in simulator), "
                    "measure ISO 9283 pose accuracy (AP) and repeatability (RP) per pose, judge "
                    "them against the scenario's tolerances and write report.json.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"built-in scenarios: {scen}\n"
               "exit codes: 0 pass/marginal, 1 tolerance failed, 2 bad input or configuration,\n"
               "            3 device or runtime error, 70 internal error, 130 interrupted\n"
               "examples:\n  hil-bench run\n  hil-bench run iso9283 --cycles 5 --out /tmp/r1\n"
               "  hil-bench run my-scenario.yaml --lab hardware/my-lab.yaml --arm")
    p.add_argument("scenario", nargs="?", default=None,
                   help="built-in scenario name or YAML file (default: the one the lab names, "
                        "else iso9283)")
    p.add_argument("--lab", default="sim",
                   help="lab file or built-in name (default: sim, everything simulated)")
    p.add_argument("--cycles", type=int, default=None, help="override the scenario's cycles")
    p.add_argument("--out", default=None,
                   help="output folder (default: a new timestamped folder under runs/); refused "
                        "when it already holds files (see --force) or another run is using it")
    p.add_argument("--force", action="store_true",
                   help="write into an --out folder that already holds files (they are replaced)")
    p.add_argument("--mode", choices=["wire", "virtual"], default=None,
                   help="wire: real sockets, real time (default); virtual: in-process simulator "
                        "on a virtual clock (simulated labs only; the default for a scenario "
                        "with `timing: virtual`, e.g. drift, on a simulated lab)")
    p.add_argument("--seed", type=int, default=None, help="simulator seed (default: scenario's)")
    p.add_argument("--network", default=None, metavar="NAME|FILE",
                   help="network profile for the robot link: built-in name or YAML file "
                        f"(default: {DEFAULT_NETWORK} for a simulated robot, none for real "
                        "hardware whose link is real; `ideal` turns impairment off); "
                        "see `hil-bench netem profiles`")
    p.add_argument("--link-loss-limit", type=float, default=None, metavar="S",
                   help="give up (exit 3) when the robot link has failed this long, seconds "
                        "(default: the scenario's ride_through.link_loss_limit, 30 s); 0 ends "
                        "the run at the first link failure")
    p.add_argument("--udp-link", action="append", default=[], metavar="HOST:PORT",
                   help="also impair a UDP stream or device at HOST:PORT (the console's video, "
                        "haptics) under the run's network profile: its sender sends to the UDP "
                        "proxy's port, printed at start and listed under `proxies` in "
                        "report.json; every datagram's fate goes to the session; repeatable")
    p.add_argument("--arm", action="store_true",
                   help=f"allow motion on real hardware (or set {ARM_ENV}=1)")
    p.add_argument("--sites", choices=["in-turn", "concurrent"], default="in-turn",
                   help="a lab with sites: drive them one after the other, with the scenario's "
                        "switch_time between them (default), or all at once")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.add_argument("--no-html", action="store_true",
                   help="write report.json and junit.xml only (drawing report.html's plots takes "
                        "a few seconds: for many runs in CI)")
    p.set_defaults(func=run)


def _out_dir(arg: str | None, scenario: str) -> Path:
    if arg:
        return Path(arg)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{stamp}-{scenario}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = Path(f"{base}-{i}")
    return path


def run(args: argparse.Namespace) -> int:
    with interrupts_as_keyboardinterrupt(), contextlib.ExitStack() as owned:
        return _run(args, owned)


def _run(args: argparse.Namespace, owned: contextlib.ExitStack) -> int:
    check_cycles(args.cycles)
    check_seed(args.seed)
    lab = load_lab(args.lab)
    # no scenario given: the one the lab names (a linear axis runs along its axis, a read-only
    # robot is followed), else the ISO 9283 cube
    sc: Scenario = load_scenario(args.scenario or lab.scenario, args.cycles)
    limit = getattr(args, "link_loss_limit", None)
    if limit is not None:
        if not (math.isfinite(limit) and limit >= 0):
            raise ConfigError("--link-loss-limit: must be a number of seconds >= 0")
        sc = dataclasses.replace(sc, ride_through=dataclasses.replace(sc.ride_through,
                                                                      link_loss_limit_s=limit))
    check_fits(sc, lab)
    sc.check_cycles()                 # e.g. RP asked for with --cycles 1: refused, exit 2
    if args.mode is None:                 # hours of drift cycles: virtual time on a simulator
        args.mode = sc.timing if sc.timing and lab.robot.simulate else "wire"
    if lab.sites:                       # one control centre, several remote sites
        from bench.cli.run_sites import run_sites
        return run_sites(args, sc, lab, owned, _out_dir(args.out, sc.name), DEFAULT_NETWORK,
                         ARM_ENV)
    armed = args.arm or os.environ.get(ARM_ENV, "") in {"1", "true", "yes"}
    if lab.has_real_hardware and not armed and sc.follow is None:     # a follow run sends nothing
        raise SafetyError(f"{lab.path}: the robot is real hardware; motion needs --arm "
                          f"(or {ARM_ENV}=1). Nothing was sent.")
    if lab.robot.workspace is not None:
        check_scenario(sc, lab.robot.workspace)
    seed = sc.seed if args.seed is None else args.seed
    net_name = args.network or (DEFAULT_NETWORK if lab.robot.simulate else None)
    network = load_profile(net_name) if net_name else None
    from bench.impair.serve import parse_hostport
    from drivers.endpoint import UdpEndpoint
    udp_links = [UdpEndpoint(*parse_hostport(u, "--udp-link"))
                 for u in getattr(args, "udp_link", [])]
    # the run folder is checked and owned before any device is opened
    out = owned.enter_context(claim_run_dir(_out_dir(args.out, sc.name), "--out",
                                            getattr(args, "force", False)))
    clock: Clock = VirtualClock() if args.mode == "virtual" else RealClock()
    t0 = time.monotonic()
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr,
                                                                     flush=True))
    log(f"hil-bench {__version__}: scenario {sc.name} ({len(sc.poses)} poses x {sc.cycles} "
        f"cycles), lab {lab.name}, mode {args.mode}, seed {seed}, "
        f"network {network.name if network else 'none'}")

    # cycles done and time left: one redrawn line on a terminal, a plain line per cycle otherwise
    bar = Progress("  cycle", stream=sys.stderr, quiet=args.quiet, min_interval_s=0.0, width=3)

    def progress(cycle: int, total: int, samples: list[Sample]) -> None:
        last = samples[-len(sc.poses):]
        worst = max(s.commanded.distance_to(s.attained) for s in last)
        bar.update(cycle, total, f"worst error this cycle {worst:.4f} mm")
        if cycle == total:
            bar.close()

    samples: list[Sample] = []
    error: BenchError | None = None
    interrupted = False
    observers = Observers()   # recorders and samplers attach here
    plot_data = PlotData()    # delays and link samples for report.html
    observers.add(plot_data)
    link_loss = LinkLossLog()   # outages, recoveries, retransmissions (bench.linkloss)
    observers.add(link_loss)
    session_path = Path(getattr(args, "session", None) or out / "session.mcap")
    observers.add(SessionRecorder(session_path, scenario=sc))
    info = RunInfo(LabInfo(lab.name, str(lab.path)), args.mode, seed,
                   network.summary() if network else None)
    link: LinkSampler | None = None
    sampler: InstrumentSampler | None = None
    try:
        journal = out / "sim-robot.jsonl" if lab.robot.simulate and args.mode == "wire" else None
        if journal:
            out.mkdir(parents=True, exist_ok=True)
        rig = Rig(lab, args.mode, clock, seed=seed, network=network, observer=observers,
                  journal=journal)
        info.simulators, info.proxies = rig.simulators, rig.proxies
        with rig:
            for udp in udp_links:
                px = rig.udp_link(udp)
                log(f"  udp link: {udp.describe()} through 127.0.0.1:{px.info['port']} "
                    f"({network.name if network else 'ideal'})")
            arm = rig.robot()
            info.lab.robot = arm.name
            log(f"  robot: {arm.name}")
            tracker = rig.instrument()
            if tracker is not None and lab.instrument is not None:
                info.lab.instrument = tracker.name
                log(f"  instrument: {tracker.name} (tool {lab.instrument.tool}, "
                    f"{lab.instrument.samples} frame(s) per pose)")
                sampler = InstrumentSampler(tracker, clock, lab.instrument, observers,
                                            threaded=args.mode == "wire",
                                            streaming=sc.control.mode == "stream")
                observers.observers.insert(0, sampler)    # first: it flushes before on_end
                sampler.start()
            interval = lab.modem.sample_interval_s if lab.modem else 1.0
            with link_sampling(rig.modem(), interval, args.mode, clock, observers) as link:
                if link is not None:
                    info.lab.modem = link.modem.name
                    log(f"  modem: {link.modem.name}, link sampled every "
                        f"{link.interval_s:g} s")
                observers.on_start(clock.now_ns(), {**info.as_json(), "scenario": sc.name})
                if sc.follow is not None:
                    run_follow_scenario(sc, arm, clock, progress, observers, into=samples)
                else:
                    run_pose_scenario(sc, arm, clock, lab.robot.workspace, progress,
                                      observers, into=samples)
        if link is not None and (lost := link.lost()):
            raise DeviceError(lost)
    except BenchError as exc:
        if isinstance(exc, ConfigError):
            raise
        error = exc
        observers.on_event(clock.now_ns(), "error", {"message": str(exc)})
    except KeyboardInterrupt:
        interrupted = True
        observers.on_event(clock.now_ns(), "interrupted", {"samples": len(samples)})
    bar.close()                   # end a redrawn line before any other message
    ev: Evaluation = evaluate(sc, samples, link=link_loss.figures(samples, clock.now_ns()))
    robot_ev, instrument = ev, None
    if sampler is not None and lab.instrument is not None:
        sampler.stop()
        if samples:
            # the verdict comes from the instrument; RegistrationError (exit 2) when its
            # registration is too poor for the tolerances it would judge
            ev, instrument = instrument_evaluation(sc, samples, sampler, lab.instrument,
                                                   robot_ev, info.lab.instrument or "")
    verdict = "interrupted" if interrupted else "error" if error else ev.outcome.value
    observers.on_end(clock.now_ns(), verdict, str(error) if error else None)
    info.duration_s = round(time.monotonic() - t0, 3)
    report = run_report(sc, ev, verdict=verdict, run=info, samples=samples,
                        error=str(error) if error else None, link=link, plot=plot_data,
                        real_hardware=lab.has_real_hardware, instrument=instrument,
                        robot_ev=robot_ev)
    write_run_reports(out, report, html=not getattr(args, "no_html", False))
    if interrupted:
        log(f"interrupted: the robot was sent a stop; partial data ({len(samples)} samples) in "
            f"{out / 'report.json'}")
        return EXIT_INTERRUPTED
    if error:
        log(f"run aborted after {len(samples)} samples; partial data in {out / 'report.json'}")
        raise error
    print_table(report, sys.stdout)
    if instrument is not None:
        print("\n".join(instrument_lines(instrument)))
    elif lab.has_real_hardware:
        print(f"  note: {(report.accuracy_source or {}).get('note')}")
    kept = getattr(args, "report_kept", True)
    print(f"\nverdict: {verdict.upper()}   report: {out / 'report.json' if kept else '(not kept)'}"
          f"   session: {session_path}")
    return EXIT_FAIL if ev.outcome is Outcome.FAIL else EXIT_PASS
