"""The impairment engine: what happens to one message sent at time t in one direction.

An `ImpairedLink` has an uplink (operator -> robot) and a downlink (robot -> operator) `Direction` and one
outage timeline shared by both. For a message of `n` bytes sent `t` seconds after the link started:

1. during an outage it is lost (cause "outage"); else the loss model may lose it (cause "loss");
   on a TCP link (`tcp.py`) a lost segment is retransmitted instead, so it arrives late;
2. it leaves when the rate limit (token bucket or mahimahi delivery trace) lets it;
3. it arrives one one-way delay later (jitter model or trace);
4. streams stay in order: it never arrives before the previous message of the same direction
   (a delayed chunk holds back later ones, as on a TCP connection; as toxiproxy does); datagram
   paths (UDP proxy, namespace forwarder) send with `ordered=False`: there jitter reorders, as
   netem's time-ordered queue does, and `reorder_p` sends a message without its delay (netem's
   `reorder`: it overtakes the ones in flight);
5. it may also be duplicated or have one bit flipped.

Everything is pure and seeded: the same seed and the same sequence of sends give the same fates.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from bench.impair.loss import LossModel
from bench.impair.outage import Outages


class Departure(Protocol):
    def depart(self, t: float, n: int) -> float: ...


@dataclass(slots=True)      # not frozen: one per message, and a frozen init costs 5x
class Fate:
    """What happened to one message. Times in seconds since the link started (treat as read-only)."""

    direction: str
    t_send_s: float
    lost: bool
    cause: str | None = None          # "loss" or "outage" when lost
    t_arrive_s: float = math.inf
    duplicate: bool = False
    corrupt_bit: int | None = None    # index of the bit to flip, counted from the frame's start
    reordered: bool = False           # sent without its delay (reorder_p)
    retransmits: int = 0              # TCP links: retransmissions before it got through
    stall_s: float = 0.0              # TCP links: first send to the successful retransmission

    @property
    def delay_s(self) -> float:
        """Arrival minus send (delay, queueing and rate limit together); inf when lost."""
        return self.t_arrive_s - self.t_send_s

    def as_event(self) -> dict:
        """The detail of a "network" observer event (delays in ms, rounded to 1 us)."""
        ev: dict = {"dir": self.direction, "lost": self.lost}
        if self.lost:
            ev["cause"] = self.cause
        else:
            ev["delay_ms"] = round(self.delay_s * 1000.0, 3)
        if self.duplicate:
            ev["duplicate"] = True
        if self.corrupt_bit is not None:
            ev["corrupt_bit"] = self.corrupt_bit
        if self.reordered:
            ev["reordered"] = True
        if self.retransmits:
            ev["retransmits"] = self.retransmits
            ev["retransmitted_after_ms"] = round(self.stall_s * 1000.0, 3)
        return ev

    def describe(self) -> str:
        """A few words for messages: "outage" (lost, the cause), "delayed 812.0 ms",
        "retransmitted after 600 ms (2x), delayed 612.4 ms"."""
        if self.lost:
            return str(self.cause)
        text = f"delayed {self.delay_s * 1e3:.1f} ms"
        if self.retransmits:
            text = (f"retransmitted after {self.stall_s * 1e3:.0f} ms ({self.retransmits}x), "
                    + text)
        return text


class Direction:
    """One direction of a link: delay source, loss, rate, duplication and corruption."""

    def __init__(self, name: str, delay: Callable[[float], float], loss: LossModel,
                 outages: Outages | None, rng: np.random.Generator,
                 rate: Departure | None = None, duplicate_p: float = 0.0,
                 corrupt_p: float = 0.0, reorder_p: float = 0.0,
                 transparent: bool = False) -> None:
        self.name = name
        #: the builder's promise that this direction changes nothing, ever (no delay, loss,
        #: outage, rate, duplication, corruption or reordering): a path may hand its messages on
        #: as it reads them and account for them afterwards (`Gate.passed`)
        self.transparent = transparent
        self.delay = delay
        self.loss = loss
        self.outages = outages
        self.rng = rng
        self.rate = rate
        self.duplicate_p = duplicate_p
        self.corrupt_p = corrupt_p
        self.reorder_p = reorder_p
        self._last_arrival = -math.inf

    def send(self, t: float, n: int = 0, ordered: bool = True,
             retransmission: bool = False) -> Fate:
        """The fate of a message of `n` bytes sent at `t` (seconds since the link started).
        `ordered=False` skips rule 4 (datagrams and IP packets may overtake each other; a TCP
        connection keeps its own order, `tcp.py`).
        A TCP `retransmission` is computed ahead of time, an RTO or more after the loss, while
        the loss model's state is drawn message by message: it is lost with the model's long-run
        rate instead of advancing the chain (see `LossModel.rate`)."""
        if self.outages is not None and self.outages.down(t):
            return Fate(self.name, t, True, "outage")
        if retransmission:
            rate = self.loss.rate()
            if rate > 0 and float(self.rng.random()) < rate:
                return Fate(self.name, t, True, "loss")
        elif self.loss.lost():
            return Fate(self.name, t, True, "loss")
        leave = self.rate.depart(t, n) if self.rate is not None else t
        delay = self.delay(t)
        reordered = self.reorder_p > 0 and float(self.rng.random()) < self.reorder_p
        arrive = leave + (0.0 if reordered else delay)
        if ordered:
            arrive = max(arrive, self._last_arrival)
            self._last_arrival = arrive
        dup = self.duplicate_p > 0 and float(self.rng.random()) < self.duplicate_p
        bit = None
        if self.corrupt_p > 0 and n > 0 and float(self.rng.random()) < self.corrupt_p:
            bit = int(self.rng.integers(0, 8 * n))
        return Fate(self.name, t, False, None, arrive, dup, bit, reordered=reordered)


class ImpairedLink:
    """Uplink and downlink of one impaired connection."""

    def __init__(self, uplink: Direction, downlink: Direction,
                 outages: Outages | None = None) -> None:
        self.uplink = uplink
        self.downlink = downlink
        self.outages = outages

    def direction(self, name: str) -> Direction:
        return self.uplink if name == "up" else self.downlink


class Recorded(LossModel):
    """Replays recorded one-way delays in order (seconds; None = lost): for session replays.

    Use as both the delay source and the loss model of a `Direction`, see `recorded_link`. After the
    recording is exhausted it repeats from the start.
    """

    def __init__(self, delays_s: Sequence[float | None]) -> None:
        if not delays_s:
            raise ValueError("a recorded direction needs at least one delay")
        self.delays = list(delays_s)
        self._i = 0
        self._current: float | None = 0.0

    def lost(self) -> bool:
        self._current = self.delays[self._i % len(self.delays)]
        self._i += 1
        return self._current is None

    def __call__(self, t: float) -> float:
        return self._current or 0.0


def recorded_link(up_s: Sequence[float | None], down_s: Sequence[float | None]) -> ImpairedLink:
    """A link that replays recorded per-message delays (None = lost, cause "loss")."""
    rng = np.random.default_rng(0)
    ups, downs = Recorded(up_s), Recorded(down_s)
    return ImpairedLink(Direction("up", ups, ups, None, rng), Direction("down", downs, downs, None, rng))
