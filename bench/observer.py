"""Run observers: everything the runner does is told to observers as it happens.

Recorders (session files), progress displays and link samplers implement the methods they care
about; the runner calls every observer in order. Times are integer nanoseconds on the run's clock.
An observer must not block: it runs on the runner's thread, between device calls.
"""
from __future__ import annotations

from typing import Any

from drivers.pose import Pose
from drivers.robot import ArmStatus


class RunObserver:
    """Base class with no-op hooks; override what you need."""

    #: False when the observer only cares about network events that are not plain deliveries
    #: (lost, retransmitted, or the first delivery after a loss): a long setpoint stream then
    #: skips building one event per setpoint for it (`bench.linkloss.LinkLossLog`)
    every_network_event: bool = True

    def on_start(self, t_ns: int, meta: dict[str, Any]) -> None:
        """The run starts; `meta` has scenario, lab, mode, seed, version."""

    def on_command(self, t_ns: int, seq: int, label: str, target: Pose, speed_mm_s: float) -> None:
        """A motion command was accepted by the arm (after it returned)."""

    def on_pose(self, t_ns: int, pose: Pose, label: str = "") -> None:
        """A pose was read from the arm (`label` names a measured pose, "" while following)."""

    def on_status(self, t_ns: int, status: ArmStatus) -> None:
        """A status was read from the arm."""

    def on_event(self, t_ns: int, kind: str, detail: dict[str, Any]) -> None:
        """Anything else: "stop", "error", "verdict", network events, link samples ..."""

    def on_end(self, t_ns: int, verdict: str, error: str | None) -> None:
        """The run is over (also after an error); flush and close here."""


class Observers(RunObserver):
    """Fans every hook out to a list of observers."""

    def __init__(self, observers: list[RunObserver] | None = None) -> None:
        self.observers = list(observers or [])

    def add(self, obs: RunObserver) -> None:
        self.observers.append(obs)

    @property
    def every_network_event(self) -> bool:  # type: ignore[override]
        return any(o.every_network_event for o in self.observers)

    def on_start(self, t_ns: int, meta: dict[str, Any]) -> None:
        for o in self.observers:
            o.on_start(t_ns, meta)

    def on_command(self, t_ns: int, seq: int, label: str, target: Pose, speed_mm_s: float) -> None:
        for o in self.observers:
            o.on_command(t_ns, seq, label, target, speed_mm_s)

    def on_pose(self, t_ns: int, pose: Pose, label: str = "") -> None:
        for o in self.observers:
            o.on_pose(t_ns, pose, label)

    def on_status(self, t_ns: int, status: ArmStatus) -> None:
        for o in self.observers:
            o.on_status(t_ns, status)

    def on_event(self, t_ns: int, kind: str, detail: dict[str, Any]) -> None:
        for o in self.observers:
            o.on_event(t_ns, kind, detail)

    def on_end(self, t_ns: int, verdict: str, error: str | None) -> None:
        for o in self.observers:
            o.on_end(t_ns, verdict, error)
