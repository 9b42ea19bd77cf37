"""Instrument sampling during runs: at each attained pose (after the robot's settle time and the
instrument's own `settle`), `samples` fresh instrument frames of the tool, told to the run's
observers as ``on_event(t_ns, "instrument", {...})`` (session topic /instrument/measurement).

The measurement is taken while the robot rests at the pose: the runner reports the measured pose
(`on_pose` with a label) and sends the next command only after the observers return, so the
frames are read right there, on the runner's thread (a few ms per visit over a serial line;
`settle` extends the dwell). Between visits, in wire mode (`threaded=True`), a thread records the
instrument at `stream_hz` (the stream record; throttled, because a Python thread polling back to
back takes the GIL from the runner often enough to stretch its 5 ms polls by about 1 ms:
benchmarks/instrument_sampling.py); in virtual time (`threaded=False`) and during a setpoint
stream (`streaming=True`) the runner's thread reads it at that rate at its unlabelled pose reads
instead. One lock serialises the two readers. Its
frames reach the observers on the runner's thread at its next hook; during a setpoint stream
each is kept with the setpoint current at its time (the instrument's tracking error), and the
robot's own pose reads are compared with the same setpoints. A failed
read is counted; a visit with no visible frame is reported as not measured; the run goes on
(the verdict then has no data for that visit).
"""
from __future__ import annotations

import math
import queue
import re
import threading
from collections import deque
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from bench.clock import Clock
from bench.lab_instrument import InstrumentEntry
from bench.observer import RunObserver
from bench.session.compare import Tracking
from drivers.errors import BenchError
from drivers.instrument.base import Instrument, ToolMeasurement, matrix_from_quaternion
from drivers.instrument.frames import inverse, matrix_of
from drivers.pose import Pose
from drivers.robot import ArmStatus


_CYCLE = re.compile(r" \(cycle \d+\)$")
#: polls per wanted frame before giving up on distinct frames, and the pause between polls
MAX_POLLS_PER_FRAME = 40
FRAME_POLL_S = 0.004


@dataclass
class Visit:
    """One labelled pose visit and the instrument frames that measured it."""

    label: str
    t_ns: int
    frames: list[ToolMeasurement] = field(default_factory=list)
    errors: int = 0

    def mean(self) -> ToolMeasurement | None:
        """The average of the visible frames (position mean, first frame's orientation)."""
        seen = [f for f in self.frames if f.visible and f.position_mm is not None]
        if not seen:
            return None
        pos = np.mean(np.array([f.position_mm for f in seen], dtype=float), axis=0)
        first = seen[0]
        return ToolMeasurement(first.tool, first.t_ns, True, (float(pos[0]), float(pos[1]),
                                                               float(pos[2])),
                               first.orientation, first.rms_mm, first.frame, first.device_t_s)


class InstrumentSampler(RunObserver):
    """Measures each visit with `instrument` and reports frames to `sink`."""

    def __init__(self, instrument: Instrument, clock: Clock, entry: InstrumentEntry,
                 sink: RunObserver, threaded: bool, stream_hz: float = 10.0,
                 streaming: bool = False) -> None:
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
        self._period = 1.0 / stream_hz if stream_hz > 0 else 0.0
        self._io = threading.Lock()              # the stream thread and the runner share a port
        self.dwell_s: list[float] = []           # wall time spent reading at each visit
        # streams: the setpoints sent (recent ones, to find the one current at a frame's time),
        # each stream frame of the tool with its setpoint, and the robot's own tracking error
        self._setpoints: deque[tuple[int, str, tuple[float, float, float]]] = deque(maxlen=4096)
        #: (frame, the setpoint current at its time, that setpoint's pose name)
        self.stream: list[tuple[ToolMeasurement, tuple[float, float, float], str]] = []
        #: the robot's own tracking error, per pose name of the setpoint (`tracking_of`)
        self.robot_tracking: dict[str, Tracking] = {}
        self._last_stream_ns = -(1 << 62)
        # only a setpoint stream needs the frames kept (memory on hours-long runs) and, in
        # virtual time, the stream record read on the runner's thread
        self.streaming = streaming

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self.threaded and self._period > 0:
            self._thread = threading.Thread(target=self._run, name="instrument-stream",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the stream thread and hand over what it read."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(2)
            self._thread = None
        self._flush()

    # -- reading -------------------------------------------------------------------------------
    def _read(self) -> list[ToolMeasurement] | None:
        try:
            with self._io:
                frames = self.instrument.read()
        except BenchError as exc:
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._queue.put((self.clock.now_ns(), "error", {"error": self.last_error}))
            return None
        self.frames += 1
        return frames

    def _run(self) -> None:
        while not self._stop.wait(self._period):
            for f in self._read() or []:
                self._queue.put((f.t_ns, "", f.as_dict()))

    def _flush(self) -> None:
        while True:
            try:
                t, label, detail = self._queue.get_nowait()
            except queue.Empty:
                return
            if label == "error":
                self.sink.on_event(t, "instrument_error", detail)
                continue
            if self.streaming and not label and detail.get("tool") == self.entry.tool and \
                    detail.get("visible"):
                sp = self._setpoint_at(t)
                if sp is not None:
                    self.stream.append((measurement_from_dict(detail), sp[1], sp[0]))
            self.sink.on_event(t, "instrument", {**detail, "label": label} if label
                               else detail)

    # -- RunObserver ---------------------------------------------------------------------------
    def _setpoint_at(self, t_ns: int) -> tuple[str, tuple[float, float, float]] | None:
        """(pose name, position) of the last setpoint sent at or before `t_ns` (None: none
        yet, or too old to know)."""
        for t, name, xyz in reversed(self._setpoints):
            if t <= t_ns:
                return name, xyz
        return None

    def on_pose(self, t_ns: int, pose: Pose, label: str = "") -> None:
        if self.streaming and not label and self._setpoints:   # the robot's reading of a stream
            _, name, (x, y, z) = self._setpoints[-1]
            self.robot_tracking.setdefault(name, Tracking()).add(
                math.dist((pose.x, pose.y, pose.z), (x, y, z)), t_ns)
            # without the stream thread (virtual time), the stream record is read here, at
            # the same rate in the run's time
            if not self.threaded and self._period > 0 and \
                    t_ns - self._last_stream_ns >= self._period * 1e9:
                self._last_stream_ns = t_ns
                for f in self._read() or []:
                    self._queue.put((f.t_ns, "", f.as_dict()))
        if label:
            if self.entry.settle_s > 0:
                self.clock.sleep(self.entry.settle_s)
            t0 = time.perf_counter()
            visit = Visit(label, t_ns)
            seen: set[tuple[int | None, float | None]] = set()
            # distinct frames only: polling faster than the instrument measures returns the same
            # frame again (same NDI frame number), and averaging copies reduces no noise. The
            # frame current when the visit begins may have been measured before the robot
            # arrived (an NDI frame is up to 1/60 s old): it is skipped, so is every copy of it
            for _ in range((self.entry.samples + 1) * MAX_POLLS_PER_FRAME):
                if len(visit.frames) >= self.entry.samples or visit.errors >= 3:
                    break
                frames = self._read()
                mine = [f for f in frames or [] if f.tool == self.entry.tool]
                if frames is None:
                    visit.errors += 1
                    continue
                if not mine:
                    continue
                key = (mine[0].frame, mine[0].device_t_s)
                if key != (None, None) and (not seen or key in seen):
                    seen.add(key)                   # the stale first frame, or a copy
                    self.clock.sleep(FRAME_POLL_S)
                    continue
                seen.add(key)
                visit.frames.append(mine[0])
                self._queue.put((mine[0].t_ns, label, mine[0].as_dict()))
            with self._lock:
                self.visits.append(visit)
            self.dwell_s.append(time.perf_counter() - t0)
        self._flush()

    def on_command(self, t_ns: int, seq: int, label: str, target: Pose, speed_mm_s: float) -> None:
        self._setpoints.append((t_ns, pose_name(label), (target.x, target.y, target.z)))
        self._flush()

    def on_status(self, t_ns: int, status: ArmStatus) -> None:
        self._flush()

    def on_end(self, t_ns: int, verdict: str, error: str | None) -> None:
        self.stop()

    # -- results -------------------------------------------------------------------------------
    def means(self) -> list[ToolMeasurement | None]:
        """Per visit, the average of its visible frames (None: not seen)."""
        with self._lock:
            visits = list(self.visits)
        return [v.mean() for v in visits]

    def tool_poses(self, registration: np.ndarray) -> list[np.ndarray | None]:
        """Per visit, the robot's tool pose (4x4, robot base frame, mm) that the instrument saw
        (`tool_poses_of`); None if not seen."""
        return tool_poses_of(self.means(), registration, self.entry.marker)

    def tool_positions(self, registration: np.ndarray) -> list[np.ndarray | None]:
        """Per visit, the tool point (3,) in the robot base frame, mm; None if not seen."""
        return [None if t is None else t[:3, 3] for t in self.tool_poses(registration)]

    def raw_positions(self) -> list[np.ndarray | None]:
        """Per visit, the marker position in the instrument frame (mm), None if not seen."""
        return [np.array(m.position_mm) if m and m.position_mm else None for m in self.means()]


def tool_poses_of(means: list[ToolMeasurement | None], registration: np.ndarray,
                  marker: Pose) -> list[np.ndarray | None]:
    """The robot's tool pose (4x4, robot base frame, mm) behind each marker measurement (in the
    instrument frame): T_base_instrument . T_instrument_marker . inverse(T_tool_marker), with
    `marker` the marker's pose in the tool frame; None where the marker was not seen."""
    marker_inv = inverse(matrix_of(marker))
    out: list[np.ndarray | None] = []
    for m in means:
        if m is None or m.position_mm is None:
            out.append(None)
            continue
        t = np.eye(4)
        t[:3, :3] = matrix_from_quaternion(m.orientation) if m.orientation else np.eye(3)
        t[:3, 3] = m.position_mm
        out.append(registration @ t @ marker_inv)
    return out


def pose_name(label: str) -> str:
    """The pose a command's label names: ``line (cycle 2)`` -> ``line``."""
    return _CYCLE.sub("", label)


def tracking_of(per_pose: dict[str, Tracking], poses: Iterable[str], band_mm: float) -> Tracking:
    """The tracking statistics of the setpoints towards `poses`, merged (mm; time beyond the
    band in ns)."""
    out = Tracking(band_mm=band_mm)
    for name in poses:
        t = per_pose.get(name)
        if t is not None:
            out.n += t.n
            out.sum_sq += t.sum_sq
            out.max_mm = max(out.max_mm, t.max_mm)
            out.beyond_ns += t.beyond_ns
    return out


def measurement_from_dict(d: dict[str, Any], t_ns: int | None = None) -> ToolMeasurement:
    """A ToolMeasurement back from its `as_dict` form (a session's /instrument/measurement
    message); `t_ns` overrides the dict's own time."""
    pos, q = d.get("position_mm"), d.get("orientation_wxyz")
    t = int(d.get("t_ns") or 0) if t_ns is None else t_ns
    return ToolMeasurement(str(d["tool"]), t, bool(d.get("visible")),
                           tuple(float(v) for v in pos) if pos else None,  # type: ignore[arg-type]
                           tuple(float(v) for v in q) if q else None,      # type: ignore[arg-type]
                           d.get("rms_mm"), d.get("frame"), d.get("device_t_s"),
                           str(d.get("status", "ok")))
