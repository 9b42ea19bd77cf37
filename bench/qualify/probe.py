"""Probing a live link: one read-only request every `interval_s` for `duration_s`, timed.

A probe is one call of a read-only function of the robot's own driver (`RobotArm.read_status`:
Modbus holding-register reads, GRBL `?`), so the traffic goes exactly where the lab's robot
endpoint is and nowhere else. Each probe is bounded by the driver's timeout (the caller opens the
arm with the probe timeout and no retries, so one probe is one attempt); a probe that raises a
`BenchError` (no reply in time, bad frame, connection lost) is a lost probe. After anything but
a plain timeout the arm is reconnected, so a broken connection or a stale late reply (which a
Modbus client rejects by its transaction id) cannot spoil the next probes.

Probes run on a fixed schedule (start + k x interval); a probe that overruns its slot makes the
next ones start at once after it, without bursting to catch up. The loop stops by itself after
`duration_s` (plus at most one probe timeout). The modem, when the site has one, is sampled by a
`LinkSampler` at the same time and each row carries the latest link state read before it.
Times: `t_s` on the run's clock, epoch milliseconds for the trace (`pub_ms`, `sub_ms`).
"""
from __future__ import annotations

import bisect
import time
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from bench.clock import Clock
from bench.linksample import LinkSampler
from drivers.errors import BenchError, DeviceTimeout
from drivers.robot import ArmState, ArmStatus

#: probes must stay low-rate: at most this many per second
MAX_RATE_HZ = 50.0
#: and a qualification is bounded in time (seconds)
MAX_DURATION_S = 3600.0


class Probed(Protocol):
    """What the probe loop needs: a `RobotArm` (its read-only `read_status`) or an `EchoProbe`."""

    def read_status(self) -> Any: ...

    def connect(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ProbeRow:
    """One probe: sent at `t_s` (run clock) / `pub_ms` (epoch ms); answered after `rtt_ms`, or
    lost (`rtt_ms` None, `error` says why). Modem fields are the latest sample before it."""

    t_s: float
    pub_ms: float
    rtt_ms: float | None
    error: str = ""
    cell_id: str | None = None
    sinr_db: float | None = None
    rsrp_dbm: float | None = None

    @property
    def lost(self) -> bool:
        return self.rtt_ms is None


def probe_link(arm: Probed, clock: Clock, duration_s: float, interval_s: float,
               sampler: LinkSampler | None = None,
               epoch_ms: float | None = None,
               on_row: Callable[[ProbeRow], None] | None = None) -> list[ProbeRow]:
    """Probe `arm` (connected) for `duration_s` every `interval_s`; one row per probe.

    `epoch_ms` is the wall-clock time (ms since 1970) of `clock.now()` at the start (default:
    now). Raises ValueError for a rate above MAX_RATE_HZ or a duration outside (0, MAX_DURATION_S].
    """
    if not 0 < duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration must be in (0, {MAX_DURATION_S:g}] s, got {duration_s:g}")
    if interval_s < 1.0 / MAX_RATE_HZ:
        raise ValueError(f"probe interval {interval_s:g} s is below {1 / MAX_RATE_HZ:g} s "
                         f"(at most {MAX_RATE_HZ:g} probes per second)")
    t_start = clock.now()
    epoch0 = time.time() * 1e3 if epoch_ms is None else epoch_ms
    raw: list[tuple[float, float | None, str]] = []
    if sampler is not None:
        sampler.on_start(clock.now_ns(), {})
    k = 0
    try:
        while True:
            due = t_start + k * interval_s
            now = clock.now()
            if due - t_start >= duration_s:
                break
            if due > now:
                clock.sleep(due - now)
            elif now - due >= interval_s:      # overran: skip the missed slots
                k += int((now - due) // interval_s)
                continue
            t_send = clock.now()
            try:
                arm.read_status()
                raw.append((t_send, (clock.now() - t_send) * 1e3, ""))
            except DeviceTimeout as exc:       # unanswered: the connection may still be fine
                raw.append((t_send, None, f"{type(exc).__name__}: {exc}"))
            except BenchError as exc:
                raw.append((t_send, None, f"{type(exc).__name__}: {exc}"))
                _reconnect(arm)
            if sampler is not None:                # virtual mode: samples due on the clock
                sampler.on_status(clock.now_ns(), ArmStatus(state=ArmState.IDLE))
            if on_row is not None:
                t, rtt, err = raw[-1]
                on_row(ProbeRow(t - t_start, epoch0 + (t - t_start) * 1e3, rtt, err))
            k += 1
    finally:
        if sampler is not None:
            sampler.on_end(clock.now_ns(), "done", None)
    return _rows(raw, t_start, epoch0, sampler)


def _reconnect(arm: Probed) -> None:
    """Drop a connection that may still deliver a stale reply; the next probe reconnects."""
    arm.close()
    try:
        arm.connect()
    except BenchError:
        pass            # still down: the next probe fails (and is counted) in its own slot


def _rows(raw: list[tuple[float, float | None, str]], t_start: float, epoch0: float,
          sampler: LinkSampler | None) -> list[ProbeRow]:
    samples = sampler.samples if sampler is not None else []
    times = [s["t_ns"] / 1e9 for s in samples]
    out = []
    for t, rtt, err in raw:
        cell = sinr = rsrp = None
        i = bisect.bisect_right(times, t + 1e-9) - 1
        if i >= 0:
            s = samples[i]
            cell, sinr, rsrp = s.get("cell_id"), s.get("sinr_db"), s.get("rsrp_dbm")
        out.append(ProbeRow(t - t_start, epoch0 + (t - t_start) * 1e3, rtt, err,
                            None if cell is None else str(cell), sinr, rsrp))
    return out
