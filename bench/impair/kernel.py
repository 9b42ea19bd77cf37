"""Optional kernel netem backend: a profile as `tc qdisc ... netem` arguments, applied to a network
interface where the kernel has netem (a stock Debian kernel does; the bench's CI VMs do not).

Availability is detected at run time in a throwaway network namespace (`unshare -n tc qdisc add
dev lo root netem delay 1ms`), so probing never touches a real interface. Only the delay model,
Bernoulli/Gilbert-Elliott loss, rate, duplication and corruption of the uplink map onto netem;
traces, outages and delivery traces do not, and are refused by name. netem's correlation is not
the bench's (netem averages successive random numbers, which shrinks the jitter); the value is
passed as is and the difference is documented in docs/network.md.
Failure modes: ConfigError for a profile netem cannot express; DeviceError when tc fails.
"""
from __future__ import annotations

import shutil
import subprocess

from bench.impair.profile import DirectionSpec, Profile
from drivers.errors import ConfigError, DeviceError

#: the bench's distribution names -> netem's table names (uniform is netem's default: no table)
NETEM_DIST = {"normal": "normal", "pareto": "pareto", "pareto-normal": "paretonormal"}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}ms"


def _pct(p: float) -> str:
    return f"{p * 100:.4g}%"


def netem_args(profile: Profile, spec: DirectionSpec | None = None) -> list[str]:
    """The `netem ...` arguments for one direction (default: the uplink) of `profile`."""
    if profile.trace is not None:
        raise ConfigError(f"{profile.source}: netem cannot replay a delay trace (trace:)")
    if not profile.outages.empty:
        raise ConfigError(f"{profile.source}: netem has no outages (outage:)")
    s = spec or profile.uplink
    if s.delivery is not None:
        raise ConfigError(f"{profile.source}: netem cannot replay a mahimahi trace (delivery:)")
    j = s.jitter
    args = ["netem", "delay", _ms(j.base_s)]
    if not j.constant:
        args.append(_ms(j.jitter_s))
        if j.correlation:
            args.append(_pct(j.correlation))
        if j.distribution in NETEM_DIST:
            args += ["distribution", NETEM_DIST[j.distribution]]
    loss = s.loss
    if loss.model == "bernoulli" and loss.p > 0:
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
    return args


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


def apply(dev: str, profile: Profile) -> list[str]:
    """Replace the root qdisc of `dev` by the profile's netem; returns the command run."""
    ok, reason = available()
    if not ok:
        raise DeviceError(f"kernel netem is not available here: {reason}; use the proxies "
                          f"(hil-bench netem proxy/serial) instead")
    cmd = ["tc", "qdisc", "replace", "dev", dev, "root", *netem_args(profile)]
    _run(cmd)
    return cmd


def clear(dev: str) -> list[str]:
    """Remove the root qdisc of `dev` (back to the kernel's default)."""
    cmd = ["tc", "qdisc", "del", "dev", dev, "root"]
    _run(cmd)
    return cmd


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        msg = (r.stderr or r.stdout).strip().splitlines()
        raise DeviceError(f"{' '.join(cmd)}: {msg[-1] if msg else f'exit code {r.returncode}'}")
