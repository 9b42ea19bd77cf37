"""`hil-bench link qualify --lab LAB [--duration 60s]`: GO / NO-GO for a site's live link.

Probes the path to the lab's robot endpoint with bounded, low-rate, read-only requests of the
robot's own driver (one status read every `--interval`, each bounded by `--timeout`, no retries),
samples the modem at the same time, stops by itself after `--duration`, and writes what it
measured as a CICV5G trace plus a network profile that replays it (`--network` of run, replay,
sweep). Then it runs the scenario in virtual time on that measured link, shifted by more or less
delay, to find the delay margin, and prints GO or NO-GO with the margin and the reason.
A simulated robot is started for the probe (behind `--network`, default 5g-urban, as `run`
does); a real robot is probed where the lab says it is, and nothing else is ever contacted.
Probes only read, so a real robot needs no --arm.
Exit codes: 0 GO, 1 NO-GO (a tolerance of the link failed), 2 bad input, 3 the robot could not
be reached at all, 130 interrupted.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.clock import Clock, RealClock, VirtualClock
from bench.control.modes import CONTROL_MODES
from bench.impair import load_profile
from bench.lab import Lab, load_lab
from bench.linksample import LinkSampler
from bench.observer import RunObserver
from bench.qualify.decide import Criteria, decide
from bench.qualify.echo import EchoProbe
from bench.qualify.probe import MAX_DURATION_S, MAX_RATE_HZ, probe_link
from bench.rig import Rig
from bench.qualify.trace import link_figures, write_profile, write_trace
from bench.scenario import load_scenario
from bench.sites import qualified
from drivers.errors import ConfigError
from drivers.units import UnitError, parse_quantity

EXIT_GO, EXIT_NO_GO = 0, 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("link", help="qualify a site's live link: GO / NO-GO with margin",
                       description="Measure and judge the network link to a lab's robot.")
    lsub = p.add_subparsers(dest="link_command", metavar="LINKCOMMAND")
    q = lsub.add_parser(
        "qualify", help="probe the link to the robot, write it as a trace, print GO or NO-GO",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 GO, 1 NO-GO, 2 bad input, 3 robot unreachable, 130 interrupted\n"
               "examples:\n  hil-bench link qualify --lab sim --duration 60s --control "
               "remote-loop\n  hil-bench link qualify --lab sim --network coverage-hole "
               "--duration 10s\n  hil-bench run --network runs/X/link-sim.yaml   "
               "# replay the measured link")
    q.add_argument("--lab", default="sim", help="lab file or built-in name (default: sim)")
    q.add_argument("--site", default=None, help="site to qualify (default: every site)")
    q.add_argument("--duration", default="60 s", help="how long to probe (default 60 s)")
    q.add_argument("--interval", default="50 ms",
                   help="time between probes (default 50 ms, the CICV5G rate; at least "
                        f"{1 / MAX_RATE_HZ * 1e3:g} ms)")
    q.add_argument("--timeout", default="1 s", help="a probe unanswered this long is lost "
                                                    "(default 1 s)")
    q.add_argument("--network", default=None, metavar="NAME|FILE",
                   help="impairment in front of a simulated robot (default: the site's network, "
                        "else 5g-urban; a real robot's link is real)")
    q.add_argument("--mode", choices=["wire", "virtual"], default="wire",
                   help="wire: probe over real sockets in real time (default); virtual: probe "
                        "the in-process simulator through the profile in virtual time")
    q.add_argument("--scenario", default=None,
                   help="scenario the link must carry (default: the site's qualify policy, "
                        "else iso9283)")
    q.add_argument("--control", default=None,
                   help=f"control mode ({', '.join(CONTROL_MODES)}; default: the site's "
                        "qualify policy, else the scenario's)")
    q.add_argument("--cycles", type=int, default=3,
                   help="scenario cycles per sweep point (default 3)")
    q.add_argument("--max-loss", default=None,
                   help="largest lost-probe share (default: the site's policy, else 1 %%)")
    q.add_argument("--max-outage", default=None,
                   help="longest run of lost probes allowed (default: the site's policy, else "
                        "1 s, TS 22.263 5.5)")
    q.add_argument("--step", default="10 ms", help="margin resolution, one-way (default 10 ms)")
    q.add_argument("--sweep-lab", default=None,
                   help="lab whose simulated robot the sweep runs (default: the lab itself "
                        "when its robot is simulated, else the built-in sim)")
    q.add_argument("--seed", type=int, default=None, help="seed of the simulator and sweep")
    q.add_argument("--out", default=None, help="output folder (default runs/<time>-qualify)")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.set_defaults(func=qualify)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _q(text: str, base: str, what: str, lo: float, hi: float) -> float:
    try:
        v = parse_quantity(text, base)
    except UnitError as exc:
        raise ConfigError(f"{what}: {exc}") from None
    if not lo <= v <= hi:
        raise ConfigError(f"{what}: must be between {lo:g} and {hi:g} {base}, got {text!r}")
    return v


def _probe_lab(lab: Lab, timeout_s: float) -> Lab:
    """The lab with its robot's driver set for probing: one attempt, `timeout_s` each."""
    spec: Any = lab.robot.spec
    if hasattr(spec, "link") and hasattr(spec.link, "retries"):
        spec = dataclasses.replace(spec, link=dataclasses.replace(
            spec.link, timeout_s=timeout_s, retries=0))
    elif hasattr(spec, "settings") and hasattr(spec.settings, "timeout_s"):
        spec = dataclasses.replace(spec, settings=dataclasses.replace(
            spec.settings, timeout_s=timeout_s))
    return dataclasses.replace(lab, robot=dataclasses.replace(lab.robot, spec=spec))


def _measure(lab: Lab, args: argparse.Namespace, network: Any, seed: int,
             duration_s: float, interval_s: float, timeout_s: float) -> dict[str, Any]:
    clock: Clock = VirtualClock() if args.mode == "virtual" else RealClock()
    probed = _probe_lab(lab, timeout_s)
    echo = getattr(lab.qualify, "echo", None)
    if echo and args.mode == "virtual":
        raise ConfigError(f"{lab.path}: qualify.echo: echo probes go over the real link "
                          f"(wire mode only)")
    rig = Rig(probed, args.mode, clock, seed=seed, network=network)
    with rig:
        arm: Any = EchoProbe(echo, timeout_s) if echo else rig.robot()
        modem = rig.modem()
        sims, proxies = rig.simulators, rig.proxies
        if echo:
            arm.connect()
        sampler = None
        if modem is not None and lab.modem is not None:
            sampler = LinkSampler(modem, clock, lab.modem.sample_interval_s, RunObserver(),
                                  threaded=args.mode != "virtual")
        t0 = clock.now()
        try:
            rows = probe_link(arm, clock, duration_s, interval_s, sampler)
        finally:
            if echo:
                arm.close()
        end_s = clock.now() - t0
        endpoint = echo or ((proxies[-1].get("listen") or proxies[-1]) if proxies else
                            (sims[0] if sims else str(getattr(probed.robot.spec, "link", ""))))
        return {"rows": rows, "end_s": end_s, "robot": arm.name,
                "modem": modem.name if modem is not None else None,
                "endpoint": endpoint, "link_samples": len(sampler.samples) if sampler else 0}


def qualify(args: argparse.Namespace) -> int:
    lab = load_lab(args.lab)
    if args.site is not None:
        if lab.sites:
            targets = [lab.site_lab(args.site)]
        elif args.site == lab.name:
            targets = [lab]
        else:
            raise ConfigError(f"--site {args.site}: lab {lab.name} has no sites: (its one "
                              f"robot is site {lab.name})")
    else:
        targets = list(lab.sites) or [lab]
    probe = (_q(args.duration, "s", "--duration", 0.1, MAX_DURATION_S),
             _q(args.interval, "s", "--interval", 1 / MAX_RATE_HZ, 60.0),
             _q(args.timeout, "s", "--timeout", 0.001, 60.0))
    if args.cycles < 2:
        raise ConfigError("--cycles: at least 2 (repeatability RP needs two visits per pose)")
    plans = [_plan(site, args) for site in targets]       # everything validated before probing
    out = Path(args.out) if args.out else \
        Path("runs") / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-qualify"
    results = [_qualify_site(site, args, crit, network, sweep_lab, probe, out)
               for site, crit, network, sweep_lab in plans]
    out.mkdir(parents=True, exist_ok=True)
    (out / "qualify.json").write_text(json.dumps({"sites": results}, indent=2) + "\n",
                                      encoding="utf-8")
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else {"sites": results}, indent=2))
    else:
        for r in results:
            print_result(r, sys.stdout)
        if len(results) > 1:
            print_table(results, sys.stdout)
    return EXIT_GO if all(r["verdict"] == "GO" for r in results) else EXIT_NO_GO


def _plan(site: Lab, args: argparse.Namespace) -> tuple[Lab, Criteria, Any, str]:
    """Criteria (options over the site's policy over the defaults), network and sweep lab."""
    pol = site.qualify
    scenario = args.scenario or getattr(pol, "scenario", None) or "iso9283"
    sc = load_scenario(scenario, args.cycles)
    control = args.control or getattr(pol, "control", None) or sc.control.mode
    if control not in CONTROL_MODES:
        raise ConfigError(f"--control: unknown mode {control!r} (known: "
                          f"{', '.join(CONTROL_MODES)})")
    d = Criteria()
    max_loss = (_q(args.max_loss, "%", "--max-loss", 0.0, 100.0) / 100.0
                if args.max_loss is not None else getattr(pol, "max_loss", d.max_loss))
    max_outage = (_q(args.max_outage, "s", "--max-outage", 0.0, 3600.0)
                  if args.max_outage is not None else getattr(pol, "max_outage_s",
                                                              d.max_outage_s))
    crit = Criteria(scenario=scenario, control=control, cycles=args.cycles, seed=args.seed,
                    max_loss=max_loss, max_outage_s=max_outage,
                    step_ms=_q(args.step, "s", "--step", 0.001, 1.0) * 1e3)
    net_name = args.network or site.network or ("5g-urban" if site.robot.simulate else None)
    network = load_profile(net_name) if net_name and net_name != "real" else None
    if getattr(pol, "echo", None):          # echo probes go over the real link, not the robot's
        network = None
    sweep_lab = args.sweep_lab or (str(site.path) if site.robot.simulate else "sim")
    load_lab(sweep_lab)
    return site, crit, network, sweep_lab


def _qualify_site(lab: Lab, args: argparse.Namespace, crit: Criteria, network: Any,
                  sweep_lab: str, probe: tuple[float, float, float], out: Path
                  ) -> dict[str, Any]:
    duration_s, interval_s, timeout_s = probe
    site = lab.site or lab.name
    seed = load_scenario(crit.scenario, crit.cycles).seed if args.seed is None else args.seed
    started = datetime.now(timezone.utc)
    log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
    log(f"link qualify: site {site} of lab {lab.name.partition('#')[0]}, {args.mode} mode, "
        f"probing for {duration_s:g} s every {interval_s * 1e3:g} ms (timeout "
        f"{timeout_s:g} s), network {network.name if network else 'real'}")
    m = _measure(lab, args, network, seed, duration_s, interval_s, timeout_s)
    figures = link_figures(m["rows"], m["end_s"])
    result: dict[str, Any] = {
        "site": site, "lab": lab.name.partition("#")[0], "lab_source": str(lab.path),
        "mode": args.mode, "started_utc": started.isoformat(timespec="seconds"),
        "network": network.name if network else None, "robot": m["robot"],
        "modem": m["modem"], "link_samples": m["link_samples"], "endpoint": m["endpoint"],
        "probe": {"duration_s": duration_s, "interval_s": interval_s, "timeout_s": timeout_s},
        "criteria": crit.as_dict(), "sweep_lab": sweep_lab, "figures": figures}
    if figures["answered"] == 0:
        result.update(verdict="NO-GO", margin_ms=None, margin_at_least=False, budget_ms=None,
                      trace=None, profile=None,
                      reasons=[f"no probe answered in {duration_s:g} s"])
    else:
        trace = out / f"link-{site}.txt"
        profile = out / f"link-{site}.yaml"
        write_trace(trace, m["rows"])
        write_profile(profile, trace, m["rows"], m["end_s"], f"measured-{site}",
                      f"site {site} of lab {result['lab']}, measured {started:%Y-%m-%d %H:%M} "
                      f"UTC over {network.name if network else 'the real link'}")
        log(f"  {figures['probes']} probes, {figures['answered']} answered; sweeping "
            f"{crit.scenario} ({crit.control}) on the measured link in virtual time ...")
        dec = decide(str(profile), figures, sweep_lab, crit)
        result.update(dec.as_dict(), trace=str(trace), profile=str(profile))
    result["saved_to"] = str(qualified.save(result, lab.name))
    return result


def print_table(results: list[dict[str, Any]], stream: Any) -> None:
    """One line per site: verdict, margin, RTT p99, loss, longest outage, reason."""
    print(f"\n{'site':<14}{'network':<20}{'verdict':<8}{'margin':>18}{'RTT p99':>9}"
          f"{'loss':>8}{'outage':>8}  reason", file=stream)
    for r in results:
        f = r["figures"]
        p99 = (f.get("rtt_ms") or {}).get("p99")
        print(f"{r['site']:<14}{str(r['network'] or 'real'):<20}{r['verdict']:<8}"
              f"{margin_text(r):>18}{'-' if p99 is None else f'{p99:.0f} ms':>9}"
              f"{100 * (f['loss'] or 0):>7.2f}%{f['longest_outage_s']:>7.2f}s  "
              f"{'; '.join(r['reasons']) or '-'}", file=stream)


def margin_text(result: dict[str, Any]) -> str:
    """``+40 ms``, ``at least +160 ms``, ``-100 ms`` or ``none`` (one-way delay)."""
    m = result.get("margin_ms")
    if m is None:
        return "none"
    return f"{'at least ' if result.get('margin_at_least') else ''}{m:+g} ms"


def print_result(r: dict[str, Any], stream: Any) -> None:
    """The human summary of one site's qualification."""
    f = r["figures"]
    rtt, jit = f.get("rtt_ms"), f.get("jitter_ms")
    print(f"site {r['site']}: {f['probes']} probes over {f['duration_s']:g} s to {r['robot']}",
          file=stream)
    if rtt:
        print(f"  RTT ms: median {rtt['median']:g}, p99 {rtt['p99']:g}, max {rtt['max']:g}; "
              f"jitter {jit['mean_abs_diff']:g} ms (mean |change|), sd {jit['std']:g} ms",
              file=stream)
    print(f"  loss {100 * (f['loss'] or 0):.2f} % ({f['lost']} probes in {f['lost_runs']} runs); "
          f"longest outage {f['longest_outage_s']:g} s", file=stream)
    c = r["criteria"]
    if r.get("budget_ms") is not None:
        print(f"  budget ({Path(c['scenario']).stem}, {c['control']}): one-way p99 up to "
              f"{r['budget_ms']:g} ms; measured {(rtt or {}).get('p99', 0) / 2:g} ms", file=stream)
    why = "; ".join(r["reasons"]) if r["reasons"] else "every check passed"
    print(f"{r['verdict']}  margin {margin_text(r)}  ({why})", file=stream)
    if r.get("profile"):
        print(f"  measured link: {r['trace']}  replay: --network {r['profile']}", file=stream)
