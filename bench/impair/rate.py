"""Bandwidth: a token bucket, and mahimahi delivery-opportunity traces. Times in seconds, sizes in
bytes, rates in bytes per second.

Both answer "a message of n bytes is ready at t: when has its last byte left?"; messages must be
offered in the order they are sent (one instance per direction).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass


@dataclass
class TokenBucket:
    """`rate_Bps` bytes/s sustained, bursts of up to `burst_B` bytes at line speed."""

    rate_Bps: float
    burst_B: float
    _tokens: float = -1.0
    _t: float = 0.0

    def __post_init__(self) -> None:
        if self.rate_Bps <= 0 or self.burst_B <= 0:
            raise ValueError("rate and burst must be > 0")
        if self._tokens < 0:
            self._tokens = self.burst_B

    def depart(self, t: float, n: int) -> float:
        """Departure time of a message of `n` bytes ready at `t` (FIFO after earlier ones)."""
        t = max(t, self._t)
        self._tokens = min(self.burst_B, self._tokens + (t - self._t) * self.rate_Bps)
        self._t = t
        if self._tokens >= n:
            self._tokens -= n
            return t
        wait = (n - self._tokens) / self.rate_Bps
        self._tokens = 0.0
        self._t = t + wait
        return self._t


class DeliveryTrace:
    """mahimahi link trace: each line one integer millisecond at which 1500 bytes may leave.

    The trace repeats with a period equal to its last timestamp (mahimahi's wrap-around). A message
    of n bytes uses ceil(n / 1500) opportunities at or after the time it is ready; unused
    opportunities are lost (no banking), as in mahimahi.
    """

    MTU = 1500

    def __init__(self, opportunities_ms: list[int], source: str = "") -> None:
        if not opportunities_ms:
            raise ValueError(f"{source}: a delivery trace needs at least one line")
        ops = sorted(opportunities_ms)
        if ops[-1] <= 0:
            raise ValueError(f"{source}: the last timestamp must be > 0 (it is the period)")
        self.ops_s = [v / 1000.0 for v in ops]
        self.period_s = ops[-1] / 1000.0
        self.source = source
        self._next = 0          # index of the next unused opportunity (over all periods)

    def _time(self, j: int) -> float:
        k, i = divmod(j, len(self.ops_s))
        return k * self.period_s + self.ops_s[i]

    def _first_at(self, t: float) -> int:
        k = math.floor(t / self.period_s)
        i = bisect.bisect_left(self.ops_s, t - k * self.period_s)
        return k * len(self.ops_s) + i

    def depart(self, t: float, n: int) -> float:
        """Time the last of the message's opportunities is used."""
        need = max(1, math.ceil(n / self.MTU))
        j = max(self._next, self._first_at(t))
        self._next = j + need
        return self._time(j + need - 1)

    def rate_Bps(self) -> float:
        """Average capacity in bytes per second."""
        return len(self.ops_s) * self.MTU / self.period_s
