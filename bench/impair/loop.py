"""A single-threaded I/O loop with precise timers, for the impairment proxies (own process).

Why not asyncio: its epoll selector rounds every timeout up to a whole millisecond, so each timer
fires 0.2-0.35 ms late on these machines; a helper thread that spins would fight the I/O thread
for the GIL. Here one thread does everything with `select.select` (microsecond timeouts).

How it waits (docs/network.md, precision). A CPU that has slept for more than a few hundred
microseconds (a halted virtual CPU above all) takes 50-150 us to wake up and then runs several
times slower for a while (measured here: a packet-socket read took 4 us awake, 8 us after a
0.1 ms sleep, 51 us after 5 ms); a CPU that slept only briefly wakes promptly and warm. So:

- real-time mode (SCHED_FIFO, `realtime_loop`): before a precise deadline it wakes `lead_s`
  early and sleeps the rest in naps of at most `nap_s`; it never busy-waits (a real-time process
  that spins can starve the programs it serves, and the kernel throttles it for 50 ms a second);
- without real-time priority it sleeps until `spin_s` before a precise deadline, then polls the
  descriptors without blocking until the deadline passes, so reads keep being served;
- `expect_soon()` (after a delivery that will probably be answered at once): for `window_s` it
  sleeps at most `nap_s` at a time, so that the answer is read by a warm CPU. An idle link costs
  nothing: with no timers and no window the loop sleeps in select until a descriptor is ready.

Times are `time.monotonic_ns()` (the same clock as the bench's RealClock, in every process).
"""
from __future__ import annotations

import ctypes
import heapq
import itertools
import os
import select
import time
from typing import Callable

now_ns = time.monotonic_ns
#: the longest sleep (signals and stop() are noticed within it)
MAX_SLEEP_NS = 200_000_000
#: SCHED_FIFO priority of the proxies (`try_realtime`)
REALTIME_PRIORITY = 40


def try_realtime(priority: int = REALTIME_PRIORITY) -> bool:
    """Switch this process to SCHED_FIFO at `priority`; False without the privilege (CAP_SYS_NICE).

    The default puts the proxy above the real-time programs it usually carries (the precision
    benchmark's run at 20): a program woken by a delivery then runs on another CPU instead of
    preempting the proxy half-way through its next packet; and below the kernel's threaded
    interrupt handlers (50).
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return True
    except (OSError, AttributeError):
        return False


def reduce_timer_slack() -> bool:
    """Ask Linux for 1 ns timer slack (default 50 us) for this thread; False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(29, 1, 0, 0, 0) == 0          # PR_SET_TIMERSLACK
    except (OSError, AttributeError):
        return False


#: real-time mode: wake this long before a precise deadline, then nap (module docstring); the
#: longest nap; how long answers are expected after `expect_soon`
LEAD_S = 0.0002
NAP_S = 0.00005
WINDOW_S = 0.001


def realtime_loop(window_s: float = WINDOW_S) -> PreciseLoop:
    """The loop of a proxy process running SCHED_FIFO: leads and naps, no spinning."""
    return PreciseLoop(0.0, lead_s=LEAD_S, nap_s=NAP_S, window_s=window_s)


def proxy_loop(realtime: bool, spin_s: float, window_s: float = WINDOW_S) -> PreciseLoop:
    """The loop of a proxy process: `realtime_loop` when it runs SCHED_FIFO, else one that
    spins the last `spin_s` before each precise deadline (and naps in answer windows)."""
    if realtime:
        return realtime_loop(window_s)
    return PreciseLoop(spin_s, nap_s=NAP_S, window_s=window_s)


class PreciseLoop:
    """Readers, writers and timers on one thread. Callbacks must not block."""

    def __init__(self, spin_s: float = 0.0015, *, lead_s: float = 0.0, nap_s: float = 0.0,
                 window_s: float = 0.0) -> None:
        self.spin_ns = int(spin_s * 1e9)
        self.lead_ns = int(lead_s * 1e9)
        self.nap_ns = int(nap_s * 1e9)
        self.window_ns = int(window_s * 1e9)
        self._hot_until = 0
        self._readers: dict[int, Callable[[], None]] = {}
        self._writers: dict[int, Callable[[], None]] = {}
        self._timers: list[tuple[int, int, bool, Callable[[], None]]] = []
        self._count = itertools.count()
        self.running = False
        #: how late each precise timer ran (ns), for diagnostics and the benchmark
        self.lateness_ns: list[int] = []
        self.keep_lateness = False
        self.cpu_s = 0.0
        self.run_s = 0.0

    def add_reader(self, fd: int, cb: Callable[[], None]) -> None:
        self._readers[fd] = cb

    def remove_reader(self, fd: int) -> None:
        self._readers.pop(fd, None)

    def add_writer(self, fd: int, cb: Callable[[], None]) -> None:
        self._writers[fd] = cb

    def remove_writer(self, fd: int) -> None:
        self._writers.pop(fd, None)

    def call_at(self, t_ns: int, cb: Callable[[], None], precise: bool = True) -> None:
        """Run `cb` at monotonic time `t_ns`; `precise` timers end their wait with naps (real-time
        mode) or by spinning (module docstring)."""
        heapq.heappush(self._timers, (t_ns, next(self._count), precise, cb))

    def due_now(self, t_ns: int, now: int | None = None) -> bool:
        """Whether a timer for `t_ns` would run at once and first: its time has come (by `now`,
        default the clock) and no timer is due before it (a caller may then run its callback
        directly, in order)."""
        timers = self._timers
        return t_ns <= (now_ns() if now is None else now) and (not timers or timers[0][0] > t_ns)

    def expect_soon(self) -> None:
        """Something will probably arrive within `window_s` (an answer to what was just
        delivered): until then, sleep at most `nap_s` at a time (a short sleep wakes promptly,
        a long one pays the idle CPU's wake-up)."""
        if self.window_ns:
            self._hot_until = now_ns() + self.window_ns

    def sleep_ns(self, now: int) -> int:
        """How long the loop may sleep at `now` (ns, >= 0): up to the next timer (less its lead,
        or its spin), at most a nap while an answer is expected, at most MAX_SLEEP_NS."""
        timeout = MAX_SLEEP_NS
        if self._timers:
            t, _, precise, _ = self._timers[0]
            wait = t - now
            if precise:
                wait -= self.spin_ns
                if wait > self.lead_ns:
                    wait -= self.lead_ns        # a long sleep ends lead_ns early ...
                elif self.nap_ns:
                    wait = min(wait, self.nap_ns)   # ... and naps cover the rest
            timeout = min(wait, timeout)
        if now < self._hot_until:
            timeout = min(timeout, self.nap_ns)
        return max(timeout, 0)

    def stop(self) -> None:
        self.running = False

    def _run_due(self) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now_ns():
            t, _, precise, cb = heapq.heappop(timers)
            if precise and self.keep_lateness:
                self.lateness_ns.append(now_ns() - t)
            cb()

    def run(self) -> None:
        """Serve until `stop()` is called (from a callback or a signal handler)."""
        self.running = True
        cpu0, wall0 = time.process_time(), time.monotonic()
        try:
            self._serve()
        finally:
            self.cpu_s += time.process_time() - cpu0
            self.run_s += time.monotonic() - wall0

    def usage(self) -> dict[str, float]:
        """CPU time this process used while the loop ran, and how long it ran (s), for the
        stopped lines: what the proxy cost (one CPU fully busy: cpu_s == run_s)."""
        return {"cpu_s": round(self.cpu_s, 3), "run_s": round(self.run_s, 3)}

    def _serve(self) -> None:
        while self.running:
            self._run_due()
            timeout_ns = self.sleep_ns(now_ns())
            try:
                r, w, _ = select.select(list(self._readers), list(self._writers), [],
                                        timeout_ns / 1e9)
            except InterruptedError:
                continue
            except OSError:
                # a descriptor was closed under us: drop the dead ones and carry on
                self._drop_dead()
                continue
            for fd in w:
                cb = self._writers.get(fd)
                if cb:
                    cb()
            for fd in r:
                cb = self._readers.get(fd)
                if cb:
                    cb()

    def _drop_dead(self) -> None:
        for table in (self._readers, self._writers):
            for fd in list(table):
                try:
                    select.select([fd], [], [], 0)
                except (OSError, ValueError):
                    table.pop(fd, None)
