"""Network conditions for recordings and replays, built on the impairment engine (`bench.impair`).

`network` is None or "recorded" (replay the per-message delays the session recorded, in order),
"ideal"/"none" (no impairment), or a profile name or file (`5g-weak-to-strong`,
`telesurgery-300ms`, ...). Two link shapes, as recorded in the session's metadata ``link``:

- ``request-reply`` (scenario runs: every call waits for its reply, like a Modbus transaction):
  the arm is wrapped in `bench.impair.ImpairedArm`;
- ``pipelined`` (setpoint streams): the arm is wrapped in `PipelinedArm`, setpoints are not
  acknowledged one by one.

When the lab's robot link is TCP (Modbus TCP, RTU/ASCII over TCP) both shapes run over the TCP
model (`bench.impair.tcp`): what the link loses is retransmitted, so it arrives late and holds
back what follows; serial links keep loss as loss.

Failure modes: ConfigError for an unknown profile or a damaged profile file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np
import orjson

from bench.clock import Clock
from bench.impair import ImpairedArm, load_profile
from bench.impair.link import Direction, ImpairedLink
from bench.impair.loss import LossModel
from bench.impair.tcp import TcpConnection, TcpSpec
from bench.impair.wire import tcp_link
from bench.lab import Lab
from bench.observer import RunObserver
from bench.session.pipeline import PipelinedArm
from bench.session.reader import SessionReader
from bench.session.schema import T_NETWORK
from drivers.robot import RobotArm

REQUEST_REPLY, PIPELINED = "request-reply", "pipelined"


def describe(network: str | None) -> str:
    return network or "recorded"


def _delays(path: str | Path, direction: str) -> Iterator[float | None]:
    """One direction's recorded one-way delays in seconds, in send order (None = lost), read
    lazily from the session file (its own file handle), so a long session stays out of memory."""
    loads = orjson.loads
    with SessionReader(path) as r:
        for _topic, _t, payload in r.raw([T_NETWORK]):
            d = loads(payload)
            if (d.get("dir") == "down") == (direction == "down"):
                yield None if d.get("lost") else float(d.get("delay_ms", 0.0)) / 1e3


def has_recorded_delays(path: str | Path) -> bool:
    with SessionReader(path) as r:
        return next(iter(r.raw([T_NETWORK])), None) is not None


class StreamedDelays(LossModel):
    """The recorded delays of one direction, replayed in order as the engine asks for them (the
    same contract as `bench.impair.link.Recorded`: `lost()` draws the next message, the call
    gives its delay). When the recording runs out, the last delay is kept."""

    def __init__(self, path: str | Path, direction: str) -> None:
        self._it = _delays(path, direction)
        self._current: float | None = 0.0
        self._last = 0.0

    def lost(self) -> bool:
        self._current = next(self._it, self._last)
        if self._current is not None:
            self._last = self._current
        return self._current is None

    def __call__(self, t: float) -> float:
        return self._current or 0.0


def streamed_link(path: str | Path) -> ImpairedLink:
    """Like `bench.impair.recorded_link`, reading the delays from the session as it goes."""
    rng = np.random.default_rng(0)
    up, down = StreamedDelays(path, "up"), StreamedDelays(path, "down")
    return ImpairedLink(Direction("up", up, up, None, rng), Direction("down", down, down, None, rng))


def _timeouts(lab: Lab) -> dict[str, Any]:
    spec = lab.robot.spec
    return {"timeout_s": spec.timeout_s, "retries": spec.retries}


def wrap(arm: RobotArm, clock: Clock, network: str | None, *, lab: Lab, seed: int,
         observer: RunObserver, link_kind: str = REQUEST_REPLY,
         session: str | Path | None = None) -> tuple[RobotArm, Clock]:
    """The arm (and the clock to sleep on) as seen through `network`; see the module docstring."""
    if network in ("ideal", "none"):
        return arm, clock
    name = "recorded"
    tcp: TcpSpec | None = TcpSpec() if tcp_link(lab.robot.spec) else None
    if network in (None, "recorded"):
        if session is None:
            return arm, clock
        if not has_recorded_delays(session):
            return arm, clock
        link = streamed_link(session)
    else:
        profile = load_profile(network)
        if profile.ideal:
            return arm, clock
        name = profile.name
        link = profile.link(seed)
        tcp = profile.tcp if tcp is not None else None
    if link_kind == PIPELINED:
        p = PipelinedArm(arm, TcpConnection(link, tcp) if tcp is not None else link, clock,
                         observer, name)
        return p, p.clock
    imp = ImpairedArm(arm, link, clock, seed, observer, **_timeouts(lab), tcp=tcp)
    imp.profile_name = name
    return imp, clock
