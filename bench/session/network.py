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

import itertools
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import orjson

from bench.clock import Clock
from bench.impair import ImpairedArm, load_profile
from bench.impair.link import Direction, Fate, ImpairedLink
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
                yield _delay_of(d)


def _delay_of(d: dict[str, Any]) -> float | None:
    """A recorded network event's one-way delay in seconds (None: the message was lost)."""
    return None if d.get("lost") else float(d.get("delay_ms", 0.0)) / 1e3


def has_recorded_delays(path: str | Path) -> bool:
    with SessionReader(path) as r:
        return next(iter(r.raw([T_NETWORK])), None) is not None


#: a direction whose delays pile up unread beyond this (the replay loop reads far ahead of it, or
#: never uses it) reads them from the file by itself instead, so memory stays flat
HELD_MAX = 4096


class _Lane:
    """One direction of a `DelayFeed`: delays the loop pushed and not yet taken, how many it
    pushed, and the direction's own reader once it reads for itself."""

    __slots__ = ("held", "pushed", "own")

    def __init__(self) -> None:
        self.held: deque[float | None] = deque()
        self.pushed = 0
        self.own: Iterator[float | None] | None = None


class DelayFeed:
    """A session's recorded one-way delays, both directions, in send order, taken from the replay
    loop's own pass over the file instead of a second pass each (see `bench.session.drive`).

    The loop `push`es every network event it reads and sets `pull` (read one more message of
    the file: True, False at its end, None when it holds too many messages read ahead already)
    for when a direction needs a delay the loop has not reached yet.
    Without a loop (`pull` None: the link used on its own, or after the loop stopped early), or
    once a direction's unread delays pile up beyond `HELD_MAX`, that direction reads the rest
    from the file itself, after the delays it has taken: the same delays in the same order either
    way."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self.pull: Callable[[], bool | None] | None = None
        self.ended = False                        # the loop's pass reached the end of the file
        self.used = False                         # a link takes its delays from here
        self.lanes = {"up": _Lane(), "down": _Lane()}

    def push(self, d: dict[str, Any]) -> None:
        """A recorded network event (the decoded message), in file order."""
        direction = "down" if d.get("dir") == "down" else "up"
        lane = self.lanes[direction]
        if lane.own is not None:
            return
        if len(lane.held) >= HELD_MAX:
            self._read_own(direction)
        else:
            lane.held.append(_delay_of(d))
            lane.pushed += 1

    def _read_own(self, direction: str) -> Iterator[float | None]:
        lane = self.lanes[direction]
        taken = lane.pushed - len(lane.held)
        lane.held.clear()
        lane.own = itertools.islice(_delays(self.path, direction), taken, None)
        return lane.own

    def next(self, direction: str, default: float | None) -> float | None:
        """The direction's next delay (s, None = lost), or `default` when the recording has
        no more."""
        lane = self.lanes[direction]
        own = lane.own
        if own is None:
            held = lane.held
            while not held and self.pull is not None and not self.ended:
                got = self.pull()
                if got is None:                  # the loop holds too much read ahead
                    break
                self.ended = not got
            if held:
                return held.popleft()
            if self.ended:
                return default
            own = self._read_own(direction)
        return next(own, default)


class StreamedDelays(LossModel):
    """The recorded delays of one direction, replayed in order as the engine asks for them (the
    same contract as `bench.impair.link.Recorded`: `lost()` draws the next message, the call
    gives its delay). When the recording runs out, the last delay is kept."""

    def __init__(self, feed: DelayFeed, direction: str) -> None:
        self._feed, self._direction = feed, direction
        self._held = feed.lanes[direction].held
        self._current: float | None = 0.0
        self._last = 0.0

    def lost(self) -> bool:
        held = self._held
        # the loop's pass has usually pushed this delay already (its network event comes
        # before the message it delayed)
        cur = held.popleft() if held else self._feed.next(self._direction, self._last)
        self._current = cur
        if cur is not None:
            self._last = cur
        return cur is None

    def __call__(self, t: float) -> float:
        return self._current or 0.0


class RecordedDirection(Direction):
    """A `Direction` whose loss and delay are one `StreamedDelays` and nothing else (no outages,
    rate limit, reordering, duplication or corruption): `send` gives the same fate as
    `Direction.send` in fewer steps (a 100 Hz stream sends one setpoint each 10 ms)."""

    def __init__(self, name: str, delays: StreamedDelays, rng: np.random.Generator) -> None:
        super().__init__(name, delays, delays, None, rng)
        self._delays = delays

    def send(self, t: float, n: int = 0, ordered: bool = True,
             retransmission: bool = False) -> Fate:
        if retransmission:
            return super().send(t, n, ordered, retransmission)
        d = self._delays
        if d.lost():
            return Fate(self.name, t, True, "loss")
        arrive = t + (d._current or 0.0)           # leave = t (no rate), not reordered
        if ordered:
            arrive = max(arrive, self._last_arrival)
            self._last_arrival = arrive
        return Fate(self.name, t, False, None, arrive, False, None, reordered=False)


def streamed_link(path: str | Path, feed: DelayFeed | None = None) -> ImpairedLink:
    """Like `bench.impair.recorded_link`, reading the delays from the session as it goes
    (through `feed` when the replay loop shares its pass over the file)."""
    rng = np.random.default_rng(0)
    feed = feed or DelayFeed(path)
    feed.used = True
    up, down = StreamedDelays(feed, "up"), StreamedDelays(feed, "down")
    return ImpairedLink(RecordedDirection("up", up, rng), RecordedDirection("down", down, rng))


def _timeouts(lab: Lab) -> dict[str, Any]:
    spec = lab.robot.spec
    return {"timeout_s": spec.timeout_s, "retries": spec.retries}


def wrap(arm: RobotArm, clock: Clock, network: str | None, *, lab: Lab, seed: int,
         observer: RunObserver, link_kind: str = REQUEST_REPLY,
         session: str | Path | None = None,
         feed: DelayFeed | None = None) -> tuple[RobotArm, Clock]:
    """The arm (and the clock to sleep on) as seen through `network`; see the module docstring.
    `feed`: the replay loop's `DelayFeed` for the recorded delays (else they are read apart)."""
    if network in ("ideal", "none"):
        return arm, clock
    name = "recorded"
    tcp: TcpSpec | None = TcpSpec() if tcp_link(lab.robot.spec) else None
    if network in (None, "recorded"):
        if session is None:
            return arm, clock
        if not has_recorded_delays(session):
            return arm, clock
        link = streamed_link(session, feed)
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
