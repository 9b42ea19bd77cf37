"""Link sampling during runs: the modem's LinkState every `interval_s`, told to the run's
observers as ``on_event(t_ns, "link", {...})`` and summarised for report.json.

Robot timing must not suffer, so the sampler never makes the runner wait for the modem:
* wire mode (`threaded=True`): a thread of its own reads the modem on a fixed schedule; samples go
  through a queue and are handed to the observers on the runner's thread at its next hook (so
  observers are only ever called from one thread, in time order within a few ms);
* virtual mode: no thread; at each runner hook, if the virtual clock has passed the next due time,
  the (in-process, instant) modem is read at the clock's current time.
Add the sampler FIRST to the run's `Observers`, so it flushes its last samples before the other
observers see `on_end`. A failed read is counted and reported as a sample with an ``error`` key;
the run goes on (link telemetry never aborts a positioning run once started), but when
`LINK_LOST_AFTER` samples in a row failed the run's verdict becomes ERROR once it has ended.
"""
from __future__ import annotations

import contextlib
import queue
import statistics
import threading
from typing import Any, Iterator

from bench.clock import Clock
from bench.observer import Observers, RunObserver
from drivers.errors import BenchError
from drivers.modem.base import Modem
from drivers.pose import Pose
from drivers.robot import ArmStatus

#: this many failed link samples in a row mean the modem is lost (a single one is a hiccup)
LINK_LOST_AFTER = 3


class LinkSampler(RunObserver):
    """Samples `modem` every `interval_s` and reports to `sink` (normally the run's Observers)."""

    def __init__(self, modem: Modem, clock: Clock, interval_s: float, sink: RunObserver,
                 threaded: bool) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.modem = modem
        self.clock = clock
        self.interval_s = interval_s
        self.sink = sink
        self.threaded = threaded
        self.samples: list[dict[str, Any]] = []      # successful samples, flat (report rows)
        self.errors: list[dict[str, Any]] = []
        self._queue: queue.Queue[tuple[int, dict[str, Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_due: float | None = None
        self._emitting = False
        self.consecutive_errors = 0
        self.max_consecutive_errors = 0

    # -- sampling --------------------------------------------------------------------------
    def _sample(self) -> tuple[int, dict[str, Any]]:
        t_ns = self.clock.now_ns()
        try:
            link = self.modem.read_link()
        except BenchError as exc:
            return t_ns, {"error": f"{type(exc).__name__}: {exc}"}
        return t_ns, {**link.summary(), "cells": [c.as_dict() for c in link.cells]}

    def _run(self) -> None:
        start = self.clock.now()
        n = 0
        while not self._stop.is_set():
            self._queue.put(self._sample())
            n += 1
            delay = start + n * self.interval_s - self.clock.now()
            if delay < 0:          # a slow modem: skip the missed slots instead of bursting
                n += int(-delay // self.interval_s) + 1
                delay = start + n * self.interval_s - self.clock.now()
            if self._stop.wait(max(0.0, delay)):
                break

    def start(self) -> None:
        """Begin sampling (the first sample is taken now)."""
        if self.threaded:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="link-sampler",
                                                daemon=True)
                self._thread.start()
        else:
            self._next_due = self.clock.now()
            self._poll()

    def stop(self) -> None:
        """Stop sampling and hand over what is left. Safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(max(5.0, 3 * self.interval_s))
            self._thread = None
        self._flush()

    def _poll(self) -> None:
        """Virtual mode: take the samples that are due on the clock."""
        if self.threaded or self._next_due is None or self._stop.is_set():
            return
        now = self.clock.now()
        if now + 1e-9 >= self._next_due:     # 1 ns slack: sums of float sleeps fall just short
            self._queue.put(self._sample())
            missed = max(0, int((now - self._next_due) // self.interval_s))
            self._next_due += (missed + 1) * self.interval_s

    def _flush(self) -> None:
        if self._emitting:
            return
        self._emitting = True
        try:
            while True:
                try:
                    t_ns, detail = self._queue.get_nowait()
                except queue.Empty:
                    return
                if "error" in detail:
                    self.errors.append({"t_ns": t_ns, **detail})
                    self.consecutive_errors += 1
                    self.max_consecutive_errors = max(self.max_consecutive_errors,
                                                      self.consecutive_errors)
                else:
                    self.consecutive_errors = 0
                    self.samples.append({"t_ns": t_ns, **{k: v for k, v in detail.items()
                                                          if k != "cells"}})
                self.sink.on_event(t_ns, "link", detail)
        finally:
            self._emitting = False

    def _hook(self) -> None:
        self._poll()
        self._flush()

    # -- observer hooks (runner thread) ---------------------------------------------------
    def on_start(self, t_ns: int, meta: dict[str, Any]) -> None:
        self.start()

    def on_command(self, t_ns: int, seq: int, label: str, target: Pose, speed_mm_s: float) -> None:
        self._hook()

    def on_pose(self, t_ns: int, pose: Pose, label: str = "") -> None:
        self._hook()

    def on_status(self, t_ns: int, status: ArmStatus) -> None:
        self._hook()

    def on_event(self, t_ns: int, kind: str, detail: dict[str, Any]) -> None:
        if kind != "link":
            self._hook()

    def on_end(self, t_ns: int, verdict: str, error: str | None) -> None:
        self._poll()
        self.stop()

    def lost(self) -> str | None:
        """Why the link telemetry of this run cannot be trusted (LINK_LOST_AFTER or more failed
        samples in a row), or None. A run with a lost link gets verdict ERROR after it ends."""
        if self.max_consecutive_errors < LINK_LOST_AFTER:
            return None
        return (f"modem {self.modem.name}: link telemetry lost: {self.max_consecutive_errors} "
                f"samples in a row failed (last: {self.errors[-1]['error']})")

    # -- report ---------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Counts, cells seen, cell changes and RSRP / SINR statistics of the run."""
        changes = []
        cells: list[str] = []
        prev = None
        for s in self.samples:
            cid = s.get("cell_id")
            if cid is not None and cid not in cells:
                cells.append(cid)
            if prev is not None and cid != prev:
                changes.append({"t_ns": s["t_ns"], "from": prev, "to": cid})
            prev = cid if cid is not None else prev
        return {"modem": self.modem.name, "interval_s": self.interval_s,
                "samples": len(self.samples), "errors": len(self.errors),
                "cells": cells, "cell_changes": changes,
                "rats": sorted({s["rat"] for s in self.samples if s.get("rat")}),
                "rsrp_dbm": _stats([s.get("rsrp_dbm") for s in self.samples]),
                "sinr_db": _stats([s.get("sinr_db") for s in self.samples])}


def _stats(values: list[Any]) -> dict[str, float] | None:
    xs = [float(v) for v in values if isinstance(v, (int, float))]
    if not xs:
        return None
    return {"min": min(xs), "median": statistics.median(xs), "max": max(xs)}


@contextlib.contextmanager
def link_sampling(modem: Modem | None, interval_s: float, mode: str, clock: Clock,
                  observers: Observers) -> Iterator[LinkSampler | None]:
    """Sample an opened `modem` (None: no sampling, yields None) every `interval_s` during a run.

    wire mode: the sampler reads the modem from its own thread; virtual mode: at the runner's
    hooks, on the run's virtual clock. The sampler is put first in `observers` and stopped on
    exit (before the caller closes the modem: see `bench.rig.Rig`).
    """
    if modem is None:
        yield None
        return
    sampler = LinkSampler(modem, clock, interval_s, observers, threaded=mode != "virtual")
    observers.observers.insert(0, sampler)
    try:
        yield sampler
    finally:
        sampler.stop()
