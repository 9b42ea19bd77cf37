"""TCP over an impaired link: a lost segment is retransmitted, so the application sees it late.

A TCP connection never loses bytes while it lives. When the link loses a segment (loss model or
outage), the sender retransmits it after a timeout and backs off on every further loss of the same
segment; bytes sent behind it wait at the receiver until it arrives (head-of-line blocking).
The timing is Linux's with its default settings (torvalds/linux, net/ipv4/tcp_input.c
`tcp_rtt_estimator()` and `tcp_set_rto()`, include/net/tcp.h `__tcp_set_rto()`, net/ipv4/
tcp_output.c `tcp_schedule_loss_probe()`), which differs from RFC 6298 section 2 in the floor:

* first RTT sample R: SRTT = R, MDEV = 2 R, RTTVAR = max(MDEV, rto_min);
* later samples R': SRTT += (R' - SRTT) / 8; MDEV += |R' - SRTT| - MDEV / 4, with that step divided
  by 8 more when the RTT falls (the "Eifel-like" damping); RTTVAR rises to MDEV at once and, once
  per round trip (an ACK for data sent after the previous round's ACK), decays a quarter of the way
  towards the round's largest MDEV, never below rto_min;
* RTO = SRTT + RTTVAR, at most `max_rto_s` (TCP_RTO_MAX 120 s). So RTO >= SRTT + rto_min: with
  20 ms RTT a lost request waits ~220 ms, where RFC 6298 clamped to 200 ms gives 200 ms.
  (MDEV here is RFC 6298's 4 x RTTVAR; `min_rto_s` is Linux's rto_min, TCP_RTO_MIN 200 ms, also
  the route's `rto_min` and the tcp_rto_min_us sysctl.)
* 1 s before the first sample (TCP_TIMEOUT_INIT; a real connection has one from its handshake,
  this model takes its first from the first data exchange);
* a lone segment (nothing in flight ahead of it) is first resent by the tail loss probe at
  min(2 SRTT + rto_min, RTO) (`tcp_schedule_loss_probe`, one packet out); the RTO timer restarts
  from the probe unchanged, and only then doubles on each further loss: resends at P, P+R, P+3R...
  A segment sent while an earlier one is still in flight is resent after its RTO, doubling;
* TCP timestamps are on by default in Linux (net.ipv4.tcp_timestamps = 1): the ACK of a
  retransmission is timed through its TSecr (`tcp_ack_update_rtt()`, RFC 7323 RTTM), so the RTO is
  recomputed, and the back-off dropped, as soon as a retransmission gets through.

Checked against the kernel (tests/test_impair_netns.py, the model replaying the kernel
connection's own RTT samples): Linux 6.18 in `hil-bench netem ns`, 10 ms each way, 15 % uplink
loss: lost requests resent after 224-232 ms where the model says 220.3 (SRTT + 200 ms; the kernel
rounds up to its 4 ms jiffy, HZ=250), a thrice-lost one at +225-230, +227-232, +453-480 ms where
the model says +220, +220, +441 (a backed-off timer lands on the timer wheel's 32 ms steps). The
model works in continuous time (no jiffies: the remote stack's HZ is unknown). Not modelled:
RACK/SACK fast recovery of a segment followed by later ones (it is resent with a stalled head,
below, or after its RTO), and the probe's shorter timeout (2 SRTT + 2 ms) when several segments
are in flight.

RTT samples come from the link's own delays: the segment's one-way delay plus the last one-way
delay seen in the other direction (its ACK). When a segment would still be unacknowledged
`reset_after_s` after it was first sent (a long outage), the connection is reset at that moment:
the segment and everything behind it are lost (cause "stall" before the reset, "reset" from
then on) until a new connection is made (like TCP_USER_TIMEOUT, RFC 5482; Linux without it
retries for ~15 minutes). Times in seconds since the link started. Serial links do not use this:
loss stays loss there.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from bench.impair.link import Direction, Fate, ImpairedLink



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
        #: Linux's estimator state in seconds: srtt_us, mdev_us, mdev_max_us, rttvar_us
        self.srtt: float | None = None
        self.mdev = 0.0
        self.mdev_max = 0.0
        self.rttvar = 0.0
        self.rto = spec.initial_rto_s
        self.last_delay: float | None = None
        self.peer: TcpSender | None = None
        #: when the stack gives up on a segment and resets the connection (None: alive)
        self.reset_at: float | None = None
        self._round_end = -math.inf      # Linux's rtt_seq as a time: the last round's ACK
        self._last_arrival = -math.inf
        self._resend_at = -math.inf      # when the head of a stalled queue finally got through

    def _measure(self, rtt: float, t_sent: float) -> None:
        """One RTT sample of a segment (re)sent at `t_sent`: tcp_rtt_estimator + tcp_set_rto."""
        rto_min = self.spec.min_rto_s
        srtt = self.srtt
        if srtt is None:
            self.srtt, self.mdev = rtt, 2.0 * rtt
            self.rttvar = self.mdev_max = self.mdev if self.mdev > rto_min else rto_min
            self._round_end = t_sent + rtt
        else:
            err = rtt - srtt
            self.srtt = srtt + err / 8.0
            if err < 0:
                step = -err - self.mdev / 4.0
                if step > 0:
                    step /= 8.0          # the RTT fell: finer gain, the RTO does not jump up
            else:
                step = err - self.mdev / 4.0
            mdev = self.mdev = self.mdev + step
            if mdev > self.mdev_max:
                self.mdev_max = mdev
                if mdev > self.rttvar:
                    self.rttvar = mdev
            if t_sent > self._round_end:             # a new round trip: decay, restart the max
                if self.mdev_max < self.rttvar:
                    self.rttvar -= (self.rttvar - self.mdev_max) / 4.0
                self._round_end = t_sent + rtt
                self.mdev_max = rto_min
        rto = self.srtt + self.rttvar
        self.rto = rto if rto < self.spec.max_rto_s else self.spec.max_rto_s

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
                self._measure(delay + back, t)
                self.last_delay = delay
                self._last_arrival = fate.t_arrive_s
                fate.duplicate = False
                return fate
            return self._send(t, n, fate)
        return self._send(t, n, None)

    def first_resend(self) -> float:
        """When a lone lost segment is first resent: the tail loss probe, min(PTO, RTO) with
        PTO = 2 SRTT + rto_min for one packet out (TCP_TIMEOUT_INIT without a sample)."""
        pto = self.spec.initial_rto_s if self.srtt is None \
            else 2.0 * self.srtt + self.spec.min_rto_s
        return pto if pto < self.rto else self.rto

    def _send(self, t: float, n: int, first: Fate | None) -> Fate:
        """`send` for a segment that is lost on its way or sent behind one still in flight."""
        name = self.direction.name
        if self.reset_at is not None:     # stuck behind a segment that never gets through
            return Fate(name, t, True, "reset" if t >= self.reset_at else "stall")
        # a segment lost while an earlier one waits for its retransmission is resent when that
        # one gets through (SACK recovery), else after its own RTO
        lone = t >= self._last_arrival
        held_until = -math.inf if lone else self._resend_at
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
            elif lone and tries == 0:    # the loss probe; the RTO restarts from it, not doubled
                nxt = t_try + self.first_resend()
            else:
                nxt = t_try + rto
                rto = min(2.0 * rto, self.spec.max_rto_s)
            if nxt - t > self.spec.reset_after_s:
                self.reset_at = t + self.spec.reset_after_s
                return Fate(name, t, True, "stall", retransmits=tries)
            t_try = nxt
            tries += 1
        if tries:
            self._resend_at = max(self._resend_at, t_try)
        if tries or held_until <= t:
            # timed: a clean segment by its send time, a retransmission through its timestamp
            # echo (which also ends the back-off); one only held behind a stalled head is
            # acknowledged with it and gives no sample of its own
            back = self.peer.last_delay if self.peer and self.peer.last_delay is not None \
                else fate.delay_s
            self._measure(fate.delay_s + back, t_try)
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
