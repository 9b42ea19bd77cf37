"""TCP over an impaired link: a lost segment is retransmitted, so the application sees it late.

A TCP connection never loses bytes while it lives. When the link loses a segment (loss model or
outage), the sender retransmits it after the retransmission timeout (RTO) and doubles the RTO on
every further loss of the same segment (exponential back-off); bytes sent behind it wait at the
receiver until it arrives (head-of-line blocking). RTO follows RFC 6298 section 2:

* first RTT measurement R: SRTT = R, RTTVAR = R / 2;
* later ones R': RTTVAR = (1 - beta) RTTVAR + beta |SRTT - R'|, SRTT = (1 - alpha) SRTT + alpha R'
  with alpha = 1/8, beta = 1/4;
* RTO = SRTT + max(G, K RTTVAR), K = 4, at least `min_rto_s` (RFC 6298 recommends 1 s; Linux uses
  200 ms, TCP_RTO_MIN, the default here), at most `max_rto_s` (Linux TCP_RTO_MAX 120 s); 1 s
  before the first measurement (RFC 6298 2.1);
* Karn's rule: a retransmitted segment gives no RTT measurement (RFC 6298 section 3); the
  backed-off RTO is kept until the next valid measurement (section 5.5-5.7).

RTT samples come from the link's own delays: the segment's one-way delay plus the last one-way
delay seen in the other direction (its ACK). When a segment would still be unacknowledged
`reset_after_s` after it was first sent (a long outage), the connection is reset at that moment:
the segment and everything behind it are lost (cause "stall" before the reset, "reset" from
then on) until a new connection is made (like TCP_USER_TIMEOUT, RFC 5482; Linux without it retries for ~15 minutes).
Times in seconds since the link started. Serial links do not use this: loss stays loss there.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from bench.impair.link import Direction, Fate, ImpairedLink

ALPHA, BETA, K = 1.0 / 8.0, 1.0 / 4.0, 4.0       # RFC 6298 section 2
CLOCK_G_S = 0.001                                 # clock granularity G (Linux: one jiffy or less)


@dataclass(frozen=True)
class TcpSpec:
    """Retransmission parameters of a TCP link (seconds)."""

    min_rto_s: float = 0.2
    max_rto_s: float = 120.0
    initial_rto_s: float = 1.0
    reset_after_s: float = 5.0

    def __post_init__(self) -> None:
        if not 0 < self.min_rto_s <= self.max_rto_s:
            raise ValueError("tcp: need 0 < min_rto <= max_rto")
        if self.reset_after_s <= 0:
            raise ValueError("tcp: reset_after must be > 0")


class TcpSender:
    """One direction of one TCP connection over `direction` (see the module docstring)."""

    def __init__(self, direction: Direction, spec: TcpSpec) -> None:
        self.direction, self.spec = direction, spec
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.rto = spec.initial_rto_s
        self.last_delay: float | None = None
        self.peer: TcpSender | None = None
        #: when the stack gives up on a segment and resets the connection (None: alive)
        self.reset_at: float | None = None
        self._last_arrival = -math.inf
        self._resend_at = -math.inf      # when the head of a stalled queue finally got through

    def _measure(self, rtt: float) -> None:
        srtt = self.srtt
        if srtt is None:
            srtt, var = rtt, rtt / 2.0
        else:
            var = (1 - BETA) * self.rttvar + BETA * abs(srtt - rtt)
            srtt = (1 - ALPHA) * srtt + ALPHA * rtt
        self.srtt, self.rttvar = srtt, var
        k_var = K * var
        rto = srtt + (k_var if k_var > CLOCK_G_S else CLOCK_G_S)
        spec = self.spec
        self.rto = spec.min_rto_s if rto < spec.min_rto_s else \
            spec.max_rto_s if rto > spec.max_rto_s else rto

    def send(self, t: float, n: int = 0) -> Fate:
        """The fate of `n` bytes written at `t`: delivered (possibly after retransmissions,
        `Fate.retransmits` / `Fate.stall_s`), or lost with cause "reset"."""
        if self.reset_at is None and t >= self._last_arrival:
            # the common case, kept cheap (a 100 Hz stream replays 6000 of these a minute):
            # nothing in flight ahead of it, delivered on its first transmission
            fate = self.direction.send(t, n, False)
            if not fate.lost and fate.corrupt_bit is None:
                delay = fate.t_arrive_s - t
                peer = self.peer
                back = peer.last_delay if peer is not None and peer.last_delay is not None \
                    else delay
                self._measure(delay + back)
                self.last_delay = delay
                self._last_arrival = fate.t_arrive_s
                fate.duplicate = False
                return fate
            return self._send(t, n, fate)
        return self._send(t, n, None)

    def _send(self, t: float, n: int, first: Fate | None) -> Fate:
        """`send` for a segment that is lost on its way or sent behind one still in flight."""
        name = self.direction.name
        if self.reset_at is not None:     # stuck behind a segment that never gets through
            return Fate(name, t, True, "reset" if t >= self.reset_at else "stall")
        # a segment lost while an earlier one waits for its retransmission is resent when that
        # one gets through (SACK recovery), else after its own RTO
        held_until = self._resend_at if t < self._last_arrival else -math.inf
        t_try, rto, tries = t, self.rto, 0
        while True:
            if first is not None:
                fate, first = first, None
            else:
                fate = self.direction.send(t_try, n, ordered=False, retransmission=tries > 0)
            if not fate.lost and fate.corrupt_bit is None:   # a bad checksum is a loss to TCP
                break
            if held_until > t_try:
                nxt = held_until
            else:
                nxt = t_try + rto
                rto = min(2.0 * rto, self.spec.max_rto_s)
            if nxt - t > self.spec.reset_after_s:
                self.reset_at = t + self.spec.reset_after_s
                return Fate(name, t, True, "stall", retransmits=tries)
            t_try = nxt
            tries += 1
        if tries:
            self.rto = max(self.rto, rto) if held_until > t else rto   # backed off (5.5)
            self._resend_at = max(self._resend_at, t_try)
        elif held_until <= t:                   # Karn: only a clean, unblocked segment is timed
            back = self.peer.last_delay if self.peer and self.peer.last_delay is not None \
                else fate.delay_s
            self._measure(fate.delay_s + back)
        self.last_delay = fate.delay_s
        if fate.t_arrive_s < self._last_arrival:               # head-of-line blocking
            fate.t_arrive_s = self._last_arrival
        self._last_arrival = fate.t_arrive_s
        # the segment's fate as the application sees it (the object is fresh from `send`):
        # from the first send, and TCP drops duplicates (corrupted segments were retried above)
        fate.t_send_s, fate.duplicate = t, False
        fate.retransmits, fate.stall_s = tries, t_try - t
        return fate


class TcpConnection:
    """Both directions of one TCP connection over `link`; make a new one to reconnect."""

    def __init__(self, link: ImpairedLink, spec: TcpSpec | None = None) -> None:
        spec = spec or TcpSpec()
        self.base, self.spec = link, spec
        self.uplink = TcpSender(link.uplink, spec)
        self.downlink = TcpSender(link.downlink, spec)
        self.uplink.peer, self.downlink.peer = self.downlink, self.uplink

    def reset_at(self) -> float | None:
        """When the connection is reset (the earlier direction to give up), None while alive."""
        times = [s.reset_at for s in (self.uplink, self.downlink) if s.reset_at is not None]
        return min(times) if times else None

    def direction(self, name: str) -> TcpSender:
        return self.uplink if name == "up" else self.downlink
