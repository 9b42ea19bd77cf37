"""Optional kernel netem backend: a profile as `tc`/`ip` command lines for a network interface
where the kernel has sch_netem (a stock Debian kernel does; the bench's CI VMs do not: there
`hil-bench netem ns` impairs any program with the bench's own engine instead).

`--dev` is the interface towards the robot: its egress carries the uplink (operator -> robot);
its ingress is redirected to an ifb device whose egress carries the downlink, since netem only
shapes egress (tc-netem(8); `act_mirred`, `ifb`). A plan has three parts:

  setup     ip link add IFB type ifb; ip link set IFB up;
            tc qdisc replace dev DEV root netem <uplink>;
            tc qdisc replace dev DEV handle ffff: ingress;
            tc filter replace dev DEV parent ffff: protocol all prio 1 u32 match u32 0 0
               action mirred egress redirect dev IFB;
            tc qdisc replace dev IFB root netem <downlink>
  changes   (t_s, `tc qdisc change ... netem ...`) at every row of a delay trace and at every
            outage edge (an outage is `loss random 100%`), for `duration_s`: netem has no time
            series, so a trace is replayed by changing the qdisc at the trace's rate (netem
            applies a change to packets enqueued after it)
  teardown  tc qdisc del dev DEV root; tc qdisc del dev DEV ingress; ip link del IFB

Mapping (tc-netem(8), iproute2 tc/q_netem.c): delay base, jitter, correlation (netem's own
correlation, which shrinks the jitter; the bench's keeps the distribution), distribution
(uniform = netem's default without a table; normal, pareto, paretonormal tables), loss random /
gemodel p r 1-h 1-k, rate, duplicate, corrupt, reorder (needs a delay). Not expressible and
refused by name: mahimahi delivery traces (`delivery:`).
Failure modes: ConfigError for a profile netem cannot express; DeviceError when tc fails or when
the kernel has no netem (the message points to `hil-bench netem ns`).
"""
from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field, replace

import numpy as np

from bench.impair.dist import JitterSpec
from bench.impair.outage import Outages
from bench.impair.profile import DirectionSpec, NetworkProfile
from bench.impair.traces import TraceDelay, load_trace
from drivers.errors import ConfigError, DeviceError

#: the bench's distribution names -> netem's table names (uniform is netem's default: no table)
NETEM_DIST = {"normal": "normal", "pareto": "pareto", "pareto-normal": "paretonormal"}
INSTEAD = ("use `hil-bench netem ns -- COMMAND` (any program, no kernel netem needed) or the "
           "proxies (hil-bench netem proxy/udp/serial)")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}ms"


def _pct(p: float) -> str:
    return f"{p * 100:.4g}%"


def netem_args(profile: NetworkProfile, spec: DirectionSpec | None = None) -> list[str]:
    """The `netem ...` arguments for one direction (default: the uplink) of a profile without a
    trace or outages (those need a schedule of changes: `plan`)."""
    if profile.trace is not None:
        raise ConfigError(f"{profile.source}: netem cannot replay a delay trace (trace:) in one "
                          f"qdisc; `hil-bench netem kernel` replays it by qdisc changes")
    if not profile.outages.empty:
        raise ConfigError(f"{profile.source}: netem has no outages (outage:); `hil-bench netem "
                          f"kernel` schedules them as qdisc changes")
    return _args(profile, spec or profile.uplink)


def _args(profile: NetworkProfile, s: DirectionSpec, outage: bool = False) -> list[str]:
    if s.delivery is not None:
        raise ConfigError(f"{profile.source}: netem cannot replay a mahimahi trace (delivery:); "
                          f"{INSTEAD}")
    j = s.jitter
    args = ["netem", "delay", _ms(j.base_s)]
    if not j.constant:
        args.append(_ms(j.jitter_s))
        if j.correlation:
            args.append(_pct(j.correlation))
        if j.distribution in NETEM_DIST:
            args += ["distribution", NETEM_DIST[j.distribution]]
    loss = s.loss
    if outage:                      # a coverage hole: everything is lost until it ends
        args += ["loss", "random", "100%"]
    elif loss.model == "bernoulli" and loss.p > 0:
        args += ["loss", "random", _pct(loss.p)]
    elif loss.model == "gilbert-elliott":
        args += ["loss", "gemodel", _pct(loss.p), _pct(loss.r), _pct(loss.bad_loss),
                 _pct(loss.good_loss)]
    if s.rate_Bps is not None:
        args += ["rate", f"{s.rate_Bps * 8:.0f}bit"]
    if s.duplicate_p:
        args += ["duplicate", _pct(s.duplicate_p)]
    if s.corrupt_p:
        args += ["corrupt", _pct(s.corrupt_p)]
    if s.reorder_p:
        if j.base_s <= 0:
            raise ConfigError(f"{profile.source}: netem's reorder needs a delay")
        args += ["reorder", _pct(s.reorder_p)]
    return args


@dataclass
class Plan:
    """Command lines (argument lists) to impair `dev` in both directions, and to undo it."""

    dev: str
    ifb: str
    setup: list[list[str]] = field(default_factory=list)
    changes: list[tuple[float, list[str]]] = field(default_factory=list)
    teardown: list[list[str]] = field(default_factory=list)

    def script(self) -> str:
        """The plan as text: setup lines, then `@T tc ...` changes (T seconds after setup)."""
        lines = [" ".join(c) for c in self.setup]
        if self.changes:
            lines.append(f"# then at T seconds after setup ({len(self.changes)} changes; "
                         "`--apply` replays them through `tc -batch`):")
            lines += [f"@{t:.3f} {' '.join(c)}" for t, c in self.changes]
        lines.append("# undo: " + "; ".join(" ".join(c) for c in self.teardown))
        return "\n".join(lines)


def ifb_name(dev: str) -> str:
    """The ifb device for `dev`'s ingress (interface names are at most 15 bytes)."""
    return ("ifb-" + dev)[:15]


def plan(dev: str, profile: NetworkProfile, ifb: str | None = None, duration_s: float = 60.0,
         seed: int = 0) -> Plan:
    """Everything netem can do for `profile` on `dev` (uplink on egress, downlink via ifb);
    traces and outages become timed qdisc changes over the first `duration_s` seconds."""
    ifb = ifb or ifb_name(dev)
    p = Plan(dev, ifb)
    up_at, down_at = _delay_sources(profile)
    outages = None if profile.outages.empty else Outages(profile.outages,
                                                         np.random.default_rng(seed))
    qdiscs = (("up", ["dev", dev, "root"], profile.uplink, up_at),
              ("down", ["dev", ifb, "root"], profile.downlink, down_at))

    def state(spec: DirectionSpec, at, t: float) -> list[str]:
        s = spec if at is None else replace(spec, jitter=JitterSpec(base_s=at(t)))
        return _args(profile, s, outage=outages is not None and outages.down(t))

    first = {name: state(spec, at, 0.0) for name, _, spec, at in qdiscs}
    p.setup = [["ip", "link", "add", ifb, "type", "ifb"], ["ip", "link", "set", ifb, "up"],
               ["tc", "qdisc", "replace", *qdiscs[0][1], *first["up"]],
               ["tc", "qdisc", "replace", "dev", dev, "handle", "ffff:", "ingress"],
               ["tc", "filter", "replace", "dev", dev, "parent", "ffff:", "protocol", "all",
                "prio", "1", "u32", "match", "u32", "0", "0", "action", "mirred", "egress",
                "redirect", "dev", ifb],
               ["tc", "qdisc", "replace", *qdiscs[1][1], *first["down"]]]
    p.teardown = teardown(dev, ifb)
    times = _change_times(profile, outages, duration_s)
    last = dict(first)
    for t in times:
        for name, target, spec, at in qdiscs:
            args = state(spec, at, t + 1e-6)    # the row that starts at t (not float noise)
            if args != last[name]:
                p.changes.append((t, ["tc", "qdisc", "change", *target, *args]))
                last[name] = args
    return p


def _delay_sources(profile: NetworkProfile):
    if profile.trace is None:
        return None, None
    tr = load_trace(profile.trace.path, profile.trace.format)
    shares = (1.0, 1.0) if profile.trace.one_way else (profile.trace.split,
                                                       1.0 - profile.trace.split)
    return tuple(TraceDelay(tr, sh, profile.trace.start_s).at for sh in shares)


def _change_times(profile: NetworkProfile, outages: Outages | None, duration_s: float) -> list[float]:
    times: set[float] = set()
    if profile.trace is not None:
        tr = load_trace(profile.trace.path, profile.trace.format)
        td = TraceDelay(tr, 1.0, profile.trace.start_s)
        # the rows in force from `start`, wrapping around, as the engine replays them
        k = 0
        while True:
            base = k * td.duration_s - profile.trace.start_s
            row_times = [base + t for t in td.t_s if 0 < base + t < duration_s]
            times.update(row_times)
            if base + td.duration_s >= duration_s:
                break
            k += 1
    if outages is not None:
        t = 0.0
        while t < duration_s:
            w = outages.window(t)
            if w is None:          # step to the next window start (scheduled or Markov)
                nxt = _next_outage(outages, t, duration_s)
                if nxt is None:
                    break
                t = nxt
                continue
            times.update(x for x in w if 0 < x < duration_s)
            t = w[1]
    return sorted(round(t, 6) for t in times)


def _next_outage(outages: Outages, t: float, end: float) -> float | None:
    starts = [s for s, _ in outages.spec.scheduled if s > t]
    outages._extend(end)
    starts += [s for s in outages._starts if s > t]
    starts = [s for s in starts if s < end]
    return min(starts) if starts else None


def available() -> tuple[bool, str]:
    """(True, "") where netem works; else (False, a one-line reason)."""
    tc, unshare = shutil.which("tc"), shutil.which("unshare")
    if not tc or not unshare:
        return False, "the `tc` or `unshare` command is not installed (Debian: iproute2, util-linux)"
    try:
        r = subprocess.run([unshare, "-n", tc, "qdisc", "add", "dev", "lo", "root", "netem",
                            "delay", "1ms"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"probing netem failed: {exc}"
    if r.returncode == 0:
        return True, ""
    err = (r.stderr or r.stdout).strip().splitlines()
    reason = err[-1] if err else f"exit code {r.returncode}"
    if "unknown" in reason.lower():
        reason += " (this kernel has no sch_netem)"
    return False, reason


def apply(dev: str, profile: NetworkProfile, duration_s: float = 60.0, seed: int = 0) -> Plan:
    """Run the plan's setup on `dev`, then its changes on time (through one `tc -batch`
    process); returns the plan. The impairment stays until `clear`."""
    ok, reason = available()
    if not ok:
        raise DeviceError(f"kernel netem is not available here: {reason}; {INSTEAD}")
    p = plan(dev, profile, duration_s=duration_s, seed=seed)
    for cmd in p.setup:
        _run(cmd)
    if p.changes:
        batch = subprocess.Popen(["tc", "-force", "-batch", "-"], stdin=subprocess.PIPE,
                                 text=True)
        assert batch.stdin is not None
        t0 = time.monotonic()
        for t, cmd in p.changes:
            time.sleep(max(0.0, t0 + t - time.monotonic()))
            batch.stdin.write(" ".join(cmd[1:]) + "\n")
            batch.stdin.flush()
        batch.stdin.close()
        batch.wait()
    return p


def clear(dev: str, ifb: str | None = None) -> list[list[str]]:
    """Remove the plan's qdiscs and ifb device from `dev` (back to the kernel's default);
    returns the commands run (missing pieces are not an error)."""
    cmds = teardown(dev, ifb or ifb_name(dev))
    for cmd in cmds:
        subprocess.run(cmd, capture_output=True, text=True)
    return cmds


def teardown(dev: str, ifb: str) -> list[list[str]]:
    """The commands that undo a plan on `dev` and its ifb device."""
    return [["tc", "qdisc", "del", "dev", dev, "root"],
            ["tc", "qdisc", "del", "dev", dev, "ingress"], ["ip", "link", "del", ifb]]


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        msg = (r.stderr or r.stdout).strip().splitlines()
        raise DeviceError(f"{' '.join(cmd)}: {msg[-1] if msg else f'exit code {r.returncode}'}")


__all__ = ["INSTEAD", "NETEM_DIST", "Plan", "apply", "available", "clear", "ifb_name",
           "netem_args", "plan", "teardown"]
