"""`hil-bench run --lab LAB` for a lab with `sites:`: one scenario on every site, in turn or at once.

In turn (default, `--sites in-turn`): the operator drives one site after the other; between two
sites the scenario's `switch_time` passes (the operator switching consoles), recorded as a
``switch`` event. At once (`--sites concurrent`): every site runs in its own thread; in virtual
mode all of them on one `SharedVirtualClock`, deterministic. Each site opens its own devices
(simulator, impairment proxy on its own network, modem), is judged on the scenario's tolerances
overridden by the site's own `tolerances:`, and gets a full report in ``OUT/<site>/``. One
``OUT/report.json`` (schema ``hil-bench/sites-report/1``) lists every site's verdict beside its
latest link qualification, and one ``OUT/session.mcap`` holds every site on its own topics.
A lab that asks for a fresh qualification (``qualify: {max_age: ...}``) refuses to start while a
site's latest is missing, NO-GO or older (exit 2, nothing sent).
Exit codes: 0 every site passed (or marginal), 1 a tolerance failed at some site, 2 bad input or
a refusal, 3 a device error at some site, 130 interrupted.
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from bench import __version__
from bench.cli.exitcodes import EXIT_DEVICE, EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS
from bench.clock import Clock, RealClock, VirtualClock
from bench.evaluate import evaluate
from bench.impair import load_profile
from bench.lab import Lab
from bench.limits import Outcome
from bench.linksample import link_sampling
from bench.linkloss import LinkLossLog
from bench.observer import Observers
from bench.outputs import claim_run_dir
from bench.rig import Rig
from bench.reports.atomic import write_json_atomic
from bench.reports.build import run_report
from bench.reports.collect import PlotData
from bench.reports.console import print_table
from bench.reports.record import LabInfo, RunInfo, SiteInfo
from bench.reports.write import write_run_reports
from bench.runner import Sample, check_scenario, run_pose_scenario
from bench.scenario import Scenario
from bench.session.recorder import scenario_to_dict
from bench.session.schema import T_EVENT
from bench.session.writer import SessionWriter
from bench.sites import qualified
from bench.sites.clock import SharedVirtualClock
from bench.sites.lab import REAL
from bench.sites.session import SiteRecorder
from drivers.errors import BenchError, ConfigError, DeviceError, SafetyError

SITES_SCHEMA = "hil-bench/sites-report/1"
ORDERS = ("in-turn", "concurrent")
_RANK = {"pass": 0, "marginal": 1, "fail": 2, "error": 3, "interrupted": 4}


@dataclasses.dataclass
class SitePlan:
    """One site, checked and ready: its lab, scenario (with its tolerances), network, seed."""

    lab: Lab
    scenario: Scenario
    network: Any
    seed: int
    qualification: dict[str, Any] | None


def _plan(site: Lab, sc: Scenario, args: argparse.Namespace, armed: bool,
          default_network: str | None) -> SitePlan:
    name = site.site or site.name
    if site.has_real_hardware and not (armed and site.arm):
        why = "the run is not armed (--arm)" if not armed else "the site says arm: false"
        raise SafetyError(f"{site.path}: site {name}'s robot is real hardware and {why}. "
                          f"Nothing was sent.")
    tol = getattr(site, "tolerances", None) or {}
    site_sc = dataclasses.replace(sc, tolerances={**sc.tolerances, **tol})
    if site.robot.workspace is not None:
        check_scenario(site_sc, site.robot.workspace)
    net_name = args.network or site.network or (default_network if site.robot.simulate
                                                else None)
    network = load_profile(net_name) if net_name and net_name != REAL else None
    policy = site.qualify
    q = qualified.require_fresh(site.name, getattr(policy, "max_age_s", None))
    seed = sc.seed if args.seed is None else args.seed
    return SitePlan(site, site_sc, network, seed, q)


def _run_site(p: SitePlan, mode: str, clock: Clock, writer: SessionWriter, out: Path,
              log: Callable[[str], None], html: bool = True) -> dict[str, Any]:
    """Run the scenario on one site; write its reports; return its summary for the lab report."""
    lab, sc, name = p.lab, p.scenario, p.lab.site or p.lab.name
    site_out = out / name
    site_out.mkdir(parents=True, exist_ok=True)
    observers = Observers()
    plot = PlotData()
    observers.add(plot)
    observers.add(SiteRecorder(writer, name, scenario=sc))
    link_loss = LinkLossLog()   # outages, recoveries, retransmissions of this site's link
    observers.add(link_loss)
    info = RunInfo(LabInfo(lab.name, str(lab.path), site=name), mode, p.seed,
                   p.network.summary() if p.network else None)
    samples: list[Sample] = []
    error: BenchError | None = None
    link = None
    t0 = time.monotonic()
    try:
        journal = site_out / "sim-robot.jsonl" if lab.robot.simulate and mode == "wire" else None
        rig = Rig(lab, mode, clock, seed=p.seed, network=p.network, observer=observers,
                  journal=journal)
        info.simulators, info.proxies = rig.simulators, rig.proxies
        with rig:
            arm = rig.robot()
            info.lab.robot = arm.name
            interval = lab.modem.sample_interval_s if lab.modem else 1.0
            with link_sampling(rig.modem(), interval, mode, clock, observers) as link:
                if link is not None:
                    info.lab.modem = link.modem.name
                log(f"  site {name}: robot {arm.name}"
                    + (f", modem {link.modem.name}" if link is not None else ""))
                observers.on_start(clock.now_ns(), {**info.as_json(), "scenario": sc.name})
                run_pose_scenario(sc, arm, clock, lab.robot.workspace, None, observers,
                                  into=samples)
        if link is not None and (lost := link.lost()):
            raise DeviceError(lost)
    except ConfigError:
        raise
    except BenchError as exc:
        error = exc
        observers.on_event(clock.now_ns(), "error", {"message": str(exc)})
    ev = evaluate(sc, samples, link=link_loss.figures(samples, clock.now_ns()))
    verdict = "error" if error else ev.outcome.value
    observers.on_end(clock.now_ns(), verdict, str(error) if error else None)
    info.duration_s = round(time.monotonic() - t0, 3)
    report = run_report(sc, ev, verdict=verdict, run=info, samples=samples,
                        error=str(error) if error else None, link=link, plot=plot,
                        real_hardware=lab.has_real_hardware,
                        site=SiteInfo(name, p.qualification))
    write_run_reports(site_out, report, html=html)
    return {"site": name, "verdict": verdict, "error": str(error) if error else None,
            "network": p.network.name if p.network else None, "robot": info.lab.robot,
            "qualification": p.qualification, "report": str(Path(name) / "report.json"),
            "samples": len(samples), "_report": report,
            "failed": sorted({m.name for m in ev.measurements if m.outcome is Outcome.FAIL}),
            "duration_s": info.duration_s}


def _in_turn(plans: list[SitePlan], mode: str, clock: Clock, writer: SessionWriter,
             out: Path, switch_s: float, log: Callable[[str], None],
             html: bool) -> list[dict[str, Any]]:
    results = []
    for i, p in enumerate(plans):
        if i:
            prev = plans[i - 1].lab.site
            writer.write(T_EVENT, clock.now_ns(), {"kind": "switch", "detail": {
                "from": prev, "to": p.lab.site, "switch_s": switch_s}})
            clock.sleep(switch_s)
        results.append(_run_site(p, mode, clock, writer, out, log, html))
    return results


def _concurrent(plans: list[SitePlan], mode: str, writer: SessionWriter, out: Path,
                log: Callable[[str], None], html: bool) -> list[dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    errors: list[BaseException] = []
    shared = SharedVirtualClock() if mode == "virtual" else None
    clocks: dict[str, Clock] = {}
    for p in plans:
        name = p.lab.site or p.lab.name
        clocks[name] = shared.join(name) if shared is not None else RealClock()

    def work(p: SitePlan) -> None:
        name = p.lab.site or p.lab.name
        try:
            if shared is not None:
                shared.wait_turn(name)
            results[name] = _run_site(p, mode, clocks[name], writer, out, log, html)
        except BaseException as exc:            # re-raised on the main thread below
            errors.append(exc)
        finally:
            if shared is not None:
                shared.leave(name)

    threads = [threading.Thread(target=work, args=(p,), name=f"site-{p.lab.site}")
               for p in plans]
    for t in threads:
        t.start()
    if shared is not None:
        shared.start()
    try:
        for t in threads:
            t.join()
    except KeyboardInterrupt:
        # Ctrl-C reaches the main thread only: interrupt every site the same way, so each
        # runner sends its robot a stop and closes its devices, then report the interruption
        for t in threads:
            if t.is_alive() and t.ident is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t.ident),
                                                           ctypes.py_object(KeyboardInterrupt))
        for t in threads:
            t.join()
        raise
    if errors:
        raise errors[0]
    return [results[p.lab.site or p.lab.name] for p in plans]


def run_sites(args: argparse.Namespace, sc: Scenario, lab: Lab, owned: contextlib.ExitStack,
              out_dir: Path, default_network: str | None, arm_env: str) -> int:
    """Run `sc` on every site of `lab` (see the module docstring); returns the exit code."""
    order = getattr(args, "sites", None) or "in-turn"
    if order not in ORDERS:
        raise ConfigError(f"--sites: {order!r} (use {' or '.join(ORDERS)})")
    armed = args.arm or os.environ.get(arm_env, "") in {"1", "true", "yes"}
    plans = [_plan(site, sc, args, armed, default_network) for site in lab.sites]
    out = owned.enter_context(claim_run_dir(out_dir, "--out", getattr(args, "force", False)))
    names = tuple(p.lab.site or p.lab.name for p in plans)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr,
                                                                     flush=True))
    log(f"hil-bench {__version__}: scenario {sc.name} on {len(plans)} sites of lab {lab.name} "
        f"({order}, switch {sc.switch_s:g} s), mode {args.mode}: "
        + ", ".join(f"{n} over {p.network.name if p.network else 'the real link'}"
                    for n, p in zip(names, plans)))
    clock: Clock = VirtualClock() if args.mode == "virtual" else RealClock()
    html = not getattr(args, "no_html", False)
    session_path = out / "session.mcap"
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.monotonic()
    with SessionWriter(session_path, sites=names) as writer:
        writer.write_metadata(clock.now_ns(), {
            "tool": {"name": "hil-bench", "version": __version__},
            "lab": {"name": lab.name, "source": str(lab.path)}, "mode": args.mode,
            "sites": list(names), "site_order": order, "switch_s": sc.switch_s,
            "scenario": scenario_to_dict(sc), "started_utc": started})
        try:
            if order == "in-turn":
                results = _in_turn(plans, args.mode, clock, writer, out, sc.switch_s, log, html)
            else:
                results = _concurrent(plans, args.mode, writer, out, log, html)
        except KeyboardInterrupt:
            writer.write(T_EVENT, clock.now_ns(), {"kind": "interrupted", "detail": {}})
            log(f"interrupted: partial reports in {out}")
            return EXIT_INTERRUPTED
        verdict = max((r["verdict"] for r in results), key=lambda v: _RANK.get(v, 3))
        writer.write(T_EVENT, clock.now_ns(), {"kind": "end", "detail": {"verdict": verdict,
                                                                          "error": None}})
    report = {"schema": SITES_SCHEMA, "verdict": verdict, "lab": {"name": lab.name,
              "source": str(lab.path)}, "mode": args.mode, "site_order": order,
              "switch_s": sc.switch_s, "scenario": sc.name, "started_utc": started,
              "duration_s": round(time.monotonic() - t0, 3), "session": str(session_path),
              "sites": {r["site"]: {k: v for k, v in r.items() if not k.startswith("_")}
                        for r in results}}
    write_json_atomic(out / "report.json", report)
    for r in results:
        print(f"\nsite {r['site']} ({r['network'] or 'real link'}): {r['verdict'].upper()}")
        print_table(r["_report"], sys.stdout)
    print_sites(report, sys.stdout)
    print(f"\nverdict: {verdict.upper()}   report: {out / 'report.json'}   "
          f"session: {session_path}")
    errors = [r for r in results if r["error"]]
    if errors:
        log(f"device error at {', '.join(r['site'] for r in errors)}: {errors[0]['error']}")
        return EXIT_DEVICE
    return EXIT_FAIL if verdict == "fail" else EXIT_PASS


def print_sites(report: dict[str, Any], stream: Any) -> None:
    """One line per site: verdict beside its latest link qualification."""
    print(f"\n{'site':<14}{'network':<20}{'verdict':<9}{'qualification':<42}", file=stream)
    for name, r in report["sites"].items():
        q = r.get("qualification")
        if q is None:
            qt = "none"
        else:
            m = q.get("margin_ms")
            margin = "none" if m is None else \
                f"{'>=' if q.get('margin_at_least') else ''}{m:+g} ms"
            qt = f"{q['verdict']} margin {margin}, {q['age_s']:g} s ago"
        print(f"{name:<14}{str(r['network'] or 'real'):<20}{r['verdict'].upper():<9}{qt}",
              file=stream)
