"""Shared by the sampling benchmarks (link_sampling.py, instrument_sampling.py): run settings of
one experiment alternately, run by run, so that a load change on the shared machine hits every
setting alike, and report each setting's medians; format the status-poll interval figures.

Each run returns a dict of figures (the poll-interval keys p50_ms, p99_ms, max_ms, polls, and any
others); `alternate` returns, per setting label, the median of each figure over the runs.
"""
from __future__ import annotations

import statistics
from typing import Any, Callable

from bench.observer import RunObserver


def alternate(runs: int, settings: dict[str, Callable[[], dict[str, float]]]
              ) -> dict[str, dict[str, float]]:
    """Median of every figure per setting, over `runs` rounds that run each setting once."""
    results: dict[str, list[dict[str, float]]] = {label: [] for label in settings}
    for _ in range(runs):
        for label, run in settings.items():
            results[label].append(run())
    return {label: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            for label, rs in results.items()}


def poll_row(label: str, r: dict[str, float], width: int) -> str:
    """`label`, then the status-poll interval p50/p99/max (ms) and the number of polls."""
    return (f"  {label:<{width}} p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms  "
            f"max {r['max_ms']:6.2f} ms  polls {r['polls']:.0f}")


class StatusTimes(RunObserver):
    """Gaps between consecutive robot reads (status, or an unlabelled pose read while a control
    mode or a follow run watches the motion) during one motion, ms; a command or a measured
    (labelled) pose starts a new motion."""

    def __init__(self) -> None:
        self.gaps_ms: list[float] = []
        self._last: int | None = None
        self.polls = 0

    def on_status(self, t_ns: int, status: Any) -> None:
        self._poll(t_ns)

    def _poll(self, t_ns: int) -> None:
        self.polls += 1
        if self._last is not None:
            self.gaps_ms.append((t_ns - self._last) / 1e6)
        self._last = t_ns

    def on_command(self, *args: Any) -> None:
        self._last = None

    def on_pose(self, t_ns: int, pose: Any, label: str = "") -> None:
        if label:
            self._last = None
        else:
            self._poll(t_ns)
