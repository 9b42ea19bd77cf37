"""Instrument sampling during runs: at each attained pose (after the robot's settle time and the
instrument's own `settle`), the instrument's measurement of the tool, told to the run's observers
as ``on_event(t_ns, "instrument", {...})`` (session topic /instrument/measurement).

The runner must not wait for the instrument (robot timing is what is under test), so:
* wire mode (`threaded=True`): a thread reads the instrument continuously (every frame it gives,
  which is also the stream record); when the runner reports a measured pose (`on_pose` with a
  label), the next `samples` frames taken at or after that time + `settle` are that visit's
  measurement. Frames go through a queue and reach the observers on the runner's thread at its
  next hook, so observers are only called from one thread;
* virtual mode: no thread; the in-process instrument is read at once at the visit's time.
Add the sampler FIRST to the run's `Observers`. A failed read is counted; the visit keeps what it
got (a visit with no visible frame is reported as not measured). When every visit failed, the run
has no instrument verdict and the report says why.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.clock import Clock
from bench.lab_instrument import InstrumentEntry
from bench.observer import RunObserver
from drivers.errors import BenchError
from drivers.instrument.base import Instrument, ToolMeasurement, matrix_from_quaternion
from drivers.instrument.frames import inverse, matrix_of
from drivers.pose import Pose
from drivers.robot import ArmStatus


@dataclass
class Visit:
    """One labelled pose visit and the instrument frames that measured it."""

    label: str
    t_ns: int
    due_ns: int
    frames: list[ToolMeasurement] = field(default_factory=list)
    errors: int = 0

    def mean(self) -> ToolMeasurement | None:
        """The average of the visible frames (position mean, first frame's orientation)."""
        seen = [f for f in self.frames if f.visible and f.position_mm is not None]
        if not seen:
            return None
        pos = np.mean([f.position_mm for f in seen], axis=0)
        first = seen[0]
        return ToolMeasurement(first.tool, first.t_ns, True, (float(pos[0]), float(pos[1]),
                                                               float(pos[2])),
                               first.orientation, first.rms_mm, first.frame, first.device_t_s)


class InstrumentSampler(RunObserver):
    """Measures each visit with `instrument` and reports frames to `sink`."""

    def __init__(self, instrument: Instrument, clock: Clock, entry: InstrumentEntry,
                 sink: RunObserver, threaded: bool) -> None:
        self.instrument = instrument
        self.clock = clock
        self.entry = entry
        self.sink = sink
        self.threaded = threaded
        self.visits: list[Visit] = []
        self.errors = 0
        self.frames = 0
        self.last_error = ""
        self._queue: queue.Queue[tuple[int, str, dict[str, Any]]] = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self.threaded:
            self._thread = threading.Thread(target=self._run, name="instrument-sampler",
                                            daemon=True)
            self._thread.start()

    def stop(self, wait_s: float = 2.0) -> None:
        """Let pending visits collect their frames (up to `wait_s`), then stop the thread."""
        if self._thread is not None:
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and self._pending():
                time.sleep(0.01)
            self._stop.set()
            self._thread.join(2)
            self._thread = None
        self._flush()

    def _pending(self) -> bool:
        with self._lock:
            return any(len(v.frames) < self.entry.samples and v.errors < 5 for v in self.visits)

    # -- reading -------------------------------------------------------------------------------
    def _read(self) -> list[ToolMeasurement] | None:
        try:
            frames = self.instrument.read()
        except BenchError as exc:
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._queue.put((self.clock.now_ns(), "error", {"error": self.last_error}))
            return None
        self.frames += 1
        return frames

    def _run(self) -> None:
        while not self._stop.is_set():
            frames = self._read()
            t = self.clock.now_ns()
            if frames is None:
                with self._lock:
                    for v in self.visits:
                        if v.due_ns <= t and len(v.frames) < self.entry.samples:
                            v.errors += 1
                self._stop.wait(0.05)
                continue
            mine = [f for f in frames if f.tool == self.entry.tool]
            label = ""
            with self._lock:
                for v in self.visits:
                    if mine and v.due_ns <= mine[0].t_ns and len(v.frames) < self.entry.samples:
                        v.frames.append(mine[0])
                        label = v.label
                        break
            for f in frames:
                self._queue.put((f.t_ns, label if f.tool == self.entry.tool else "",
                                 f.as_dict()))

    def _flush(self) -> None:
        while True:
            try:
                t, label, detail = self._queue.get_nowait()
            except queue.Empty:
                return
            kind = "instrument_error" if label == "error" else "instrument"
            self.sink.on_event(t, kind, detail if label in ("", "error")
                               else {**detail, "label": label})

    # -- RunObserver ---------------------------------------------------------------------------
    def on_pose(self, t_ns: int, pose: Pose, label: str = "") -> None:
        if label:
            visit = Visit(label, t_ns, t_ns + int(self.entry.settle_s * 1e9))
            with self._lock:
                self.visits.append(visit)
            if not self.threaded:
                for _ in range(self.entry.samples):
                    frames = self._read()
                    mine = [f for f in frames or [] if f.tool == self.entry.tool]
                    if frames is None:
                        visit.errors += 1
                    elif mine:
                        visit.frames.append(mine[0])
                        self._queue.put((mine[0].t_ns, label, mine[0].as_dict()))
        self._flush()

    def on_command(self, t_ns: int, seq: int, label: str, target: Pose, speed_mm_s: float) -> None:
        self._flush()

    def on_status(self, t_ns: int, status: ArmStatus) -> None:
        self._flush()

    def on_end(self, t_ns: int, verdict: str, error: str | None) -> None:
        self.stop()

    # -- results -------------------------------------------------------------------------------
    def tool_positions(self, registration: np.ndarray) -> list[np.ndarray | None]:
        """Per visit, the robot tool point in the robot base frame (mm) that the instrument saw:
        T_base_instrument . T_instrument_marker . inverse(T_tool_marker); None if not seen."""
        marker_inv = inverse(matrix_of(self.entry.marker))
        out: list[np.ndarray | None] = []
        with self._lock:
            visits = list(self.visits)
        for v in visits:
            m = v.mean()
            if m is None or m.position_mm is None:
                out.append(None)
                continue
            t = np.eye(4)
            t[:3, :3] = matrix_from_quaternion(m.orientation) if m.orientation else np.eye(3)
            t[:3, 3] = m.position_mm
            out.append((registration @ t @ marker_inv)[:3, 3])
        return out

    def raw_positions(self) -> list[np.ndarray | None]:
        """Per visit, the marker position in the instrument frame (mm), None if not seen."""
        with self._lock:
            visits = list(self.visits)
        return [np.array(m.position_mm) if (m := v.mean()) and m.position_mm else None
                for v in visits]
