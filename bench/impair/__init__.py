"""Network impairment: seeded 5G-like delay, jitter, loss, outages and rate limits, applied in
virtual time around any `RobotArm`, or on the wire by proxies running in their own process.

Public API (units: seconds unless the name says ms; see docs/network.md)::

    from bench.impair import load_profile, ImpairedArm

    profile = load_profile("5g-weak-to-strong")      # built-in name, or a path to a YAML file
    arm = ImpairedArm(inner_arm, profile, clock, seed=1, observer=obs, timeout_s=0.5, retries=1)
    # every call crosses the link: commands take effect one uplink delay later, readings are one
    # downlink delay old; loss/outage -> DeviceTimeout after timeout_s per attempt; each injected
    # delay/loss is told to obs.on_event(t_ns, "network", {"dir", "call", "attempt", "lost",
    # "delay_ms" | "cause"})

    link = profile.link(seed)                 # the pure engine: link.uplink.send(t_s, n_bytes)
    fate = link.uplink.send(0.25, 12)         # -> Fate(lost, cause, t_arrive_s, delay_s, ...)
    link = recorded_link([0.01, None, ...], [0.012, ...])   # replay recorded one-way delays
    names = profile_names()                   # built-in profiles in fixtures/networks/

Failure modes: ConfigError (exit code 2) naming file, line and key for bad profiles or traces.
"""
from __future__ import annotations

from bench.impair.link import Fate, ImpairedLink, recorded_link
from bench.impair.profile import NetworkProfile, load_profile
from bench.impair.traces import Trace, load_trace
from bench.impair.virtual import ImpairedArm
from bench.paths import builtin_names


def profile_names() -> list[str]:
    """Names of the built-in network profiles."""
    return builtin_names("network")


__all__ = ["Fate", "ImpairedArm", "ImpairedLink", "NetworkProfile", "Trace", "load_profile", "load_trace",
           "profile_names", "recorded_link"]
