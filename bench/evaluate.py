"""From samples to a verdict: ISO 9283 figures per pose, judged against the scenario's limits."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.limits import Measurement, Outcome
from bench.metrics.iso9283 import PoseStats, pose_stats
from bench.runner import Sample
from bench.scenario import TOLERANCE_UNITS, Scenario


@dataclass(frozen=True)
class Evaluation:
    """Per-pose statistics, every judged measurement and the overall outcome."""

    poses: dict[str, PoseStats]
    measurements: list[Measurement]

    @property
    def outcome(self) -> Outcome:
        return Outcome.worst([m.outcome for m in self.measurements])


def evaluate(sc: Scenario, samples: list[Sample]) -> Evaluation:
    """Group samples by pose, compute AP/RP, and judge each against the scenario's tolerances.

    A pose with no samples yields NaN figures, which fail any limit.
    """
    stats: dict[str, PoseStats] = {}
    measurements: list[Measurement] = []
    for name, target in sc.poses.items():
        pts = np.array([s.attained.as_array() for s in samples if s.pose == name]).reshape(-1, 6)
        if len(pts):
            st = pose_stats(target.as_array(), pts)
        else:
            nan = float("nan")
            st = PoseStats(0, nan, nan, nan, nan, nan)
        stats[name] = st
        for key, unit in TOLERANCE_UNITS.items():
            measurements.append(Measurement(key, getattr(st, key), unit,
                                            sc.tolerances.get(key), subject=name))
    return Evaluation(stats, measurements)
