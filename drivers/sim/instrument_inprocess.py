"""A simulated tracker behind the `Instrument` interface, in the same process (virtual mode).

It reads `TrackerModel.observe()` directly, at the time `time_fn` gives (a virtual clock makes a
run deterministic and instant). Same measurements as the wire simulators, without the bytes: the
NDI TX rounding and float32 of the wire are not applied.
"""
from __future__ import annotations

from typing import Callable

from drivers.errors import DeviceError
from drivers.instrument.base import Instrument, ToolMeasurement
from drivers.pose import Pose
from drivers.sim.tracker import TrackerModel, TrackerParams


class InProcessTracker(Instrument):
    """`params`' tracker watching `source(now)` (the arm's true pose), read at `time_fn()` s."""

    kind = "simulated tracker (in process)"

    def __init__(self, params: TrackerParams, source: Callable[[float], Pose | None],
                 time_fn: Callable[[], float]) -> None:
        self.params = params
        self.source = source
        self.time_fn = time_fn
        self.name = f"sim-tracker:{params.model}"
        self.model: TrackerModel | None = None

    def connect(self) -> None:
        if self.model is None:
            self.model = TrackerModel(self.params, self.source, self.time_fn)

    def close(self) -> None:
        self.model = None

    def read(self) -> list[ToolMeasurement]:
        if self.model is None:
            raise DeviceError(f"{self.name}: not connected")
        now = self.time_fn()
        obs = self.model.observe(now)
        t_ns = int(round(now * 1e9))
        if self.params.fault == "silent":
            raise DeviceError(f"{self.name}: no reply (simulated silent fault)")
        if not obs.visible:
            return [ToolMeasurement(self.params.tool, t_ns, False, frame=obs.frame,
                                    status="missing")]
        return [ToolMeasurement(self.params.tool, t_ns, True, obs.position_mm, obs.orientation,
                                obs.rms_mm, obs.frame)]
