"""Network conditions for recordings and replays, built on the impairment engine (`bench.impair`).

`network` is None or "recorded" (replay the per-message delays the session recorded, in order),
"ideal"/"none" (no impairment), or a profile name or file (`5g-weak-to-strong`,
`telesurgery-300ms`, ...). Two link shapes, as recorded in the session's metadata ``link``:

- ``request-reply`` (scenario runs: every call waits for its reply, like a Modbus transaction):
  the arm is wrapped in `bench.impair.ImpairedArm`;
- ``pipelined`` (setpoint streams): the arm is wrapped in `PipelinedArm`, setpoints are not
  acknowledged one by one.

Failure modes: ConfigError for an unknown profile or a damaged profile file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.clock import Clock
from bench.impair import ImpairedArm, load_profile, recorded_link
from bench.lab import Lab
from bench.observer import RunObserver
from bench.session.pipeline import PipelinedArm
from bench.session.reader import SessionReader
from bench.session.schema import T_NETWORK
from drivers.robot import RobotArm

REQUEST_REPLY, PIPELINED = "request-reply", "pipelined"


def describe(network: str | None) -> str:
    return network or "recorded"


def recorded_delays(path: str | Path) -> tuple[list[float | None], list[float | None]]:
    """(uplink, downlink) one-way delays in seconds, in send order (None = lost message)."""
    up: list[float | None] = []
    down: list[float | None] = []
    with SessionReader(path) as r:
        for m in r.messages([T_NETWORK]):
            d = m.data
            val = None if d.get("lost") else float(d.get("delay_ms", 0.0)) / 1e3
            (down if d.get("dir") == "down" else up).append(val)
    return up, down


def _timeouts(lab: Lab) -> dict[str, Any]:
    link = getattr(lab.robot.spec, "link", None)
    return {"timeout_s": getattr(link, "timeout_s", 0.5), "retries": getattr(link, "retries", 0)}


def wrap(arm: RobotArm, clock: Clock, network: str | None, *, lab: Lab, seed: int,
         observer: RunObserver, link_kind: str = REQUEST_REPLY,
         session: str | Path | None = None) -> tuple[RobotArm, Clock]:
    """The arm (and the clock to sleep on) as seen through `network`; see the module docstring."""
    if network in ("ideal", "none"):
        return arm, clock
    name = "recorded"
    if network in (None, "recorded"):
        if session is None:
            return arm, clock
        up, down = recorded_delays(session)
        if not up and not down:
            return arm, clock
        link = recorded_link(up or [0.0], down or [0.0])
    else:
        profile = load_profile(network)
        if profile.ideal:
            return arm, clock
        name = profile.name
        link = profile.link(seed)
    if link_kind == PIPELINED:
        p = PipelinedArm(arm, link, clock, observer, name)
        return p, p.clock
    imp = ImpairedArm(arm, link, clock, seed, observer, **_timeouts(lab))
    imp.profile_name = name
    return imp, clock
