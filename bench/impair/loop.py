"""A single-threaded I/O loop with precise timers, for the impairment proxies (own process).

Why not asyncio: its epoll selector rounds every timeout up to a whole millisecond, so each timer
fires 0.2-0.35 ms late on these machines; a helper thread that spins would fight the I/O thread
for the GIL. Here one thread does everything: `select.select` (microsecond timeouts) sleeps until
`spin_s` before the next precise deadline, then the loop polls the sockets without blocking until
the deadline passes, so reads keep being served while it waits (see docs/network.md, precision).
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


def try_realtime(priority: int = 10) -> bool:
    """Switch this process to SCHED_FIFO at `priority`; False without the privilege (CAP_SYS_NICE).

    A real-time process must never busy-wait (the kernel throttles it for 50 ms a second), so
    callers use a spin of 0 when this succeeds: FIFO wakes it promptly even on a busy machine.
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


class PreciseLoop:
    """Readers, writers and timers on one thread. Callbacks must not block."""

    def __init__(self, spin_s: float = 0.0015) -> None:
        self.spin_ns = int(spin_s * 1e9)
        self._readers: dict[int, Callable[[], None]] = {}
        self._writers: dict[int, Callable[[], None]] = {}
        self._timers: list[tuple[int, int, bool, Callable[[], None]]] = []
        self._count = itertools.count()
        self.running = False
        #: how late each precise timer ran (ns), for diagnostics and the benchmark
        self.lateness_ns: list[int] = []
        self.keep_lateness = False

    def add_reader(self, fd: int, cb: Callable[[], None]) -> None:
        self._readers[fd] = cb

    def remove_reader(self, fd: int) -> None:
        self._readers.pop(fd, None)

    def add_writer(self, fd: int, cb: Callable[[], None]) -> None:
        self._writers[fd] = cb

    def remove_writer(self, fd: int) -> None:
        self._writers.pop(fd, None)

    def call_at(self, t_ns: int, cb: Callable[[], None], precise: bool = True) -> None:
        """Run `cb` at monotonic time `t_ns`; `precise` timers finish their wait by spinning."""
        heapq.heappush(self._timers, (t_ns, next(self._count), precise, cb))

    def due_now(self, t_ns: int, now: int | None = None) -> bool:
        """Whether a timer for `t_ns` would run at once and first: its time has come (by `now`,
        default the clock) and no timer is due before it (a caller may then run its callback
        directly, in order)."""
        timers = self._timers
        return t_ns <= (now_ns() if now is None else now) and (not timers or timers[0][0] > t_ns)

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
        while self.running:
            self._run_due()
            timeout = 0.2
            if self._timers:
                t, _, precise, _ = self._timers[0]
                wait = t - now_ns()
                timeout = max(0.0, (wait - (self.spin_ns if precise else 0)) / 1e9)
                timeout = min(timeout, 0.2)
            try:
                r, w, _ = select.select(list(self._readers), list(self._writers), [], timeout)
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
