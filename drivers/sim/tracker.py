"""A simulated tracking instrument: it sees the simulated arm's TRUE pose through a marker on the
tool, in its own frame, with its own noise, rate, dropouts and faults. The protocol servers
(`drivers.sim.ndi`, `drivers.sim.igtl`) turn its `observe()` into bytes.

Geometry: the tracker stands at `pose` in the robot base frame (T_base_tracker); the marker sits
at `marker` in the tool (flange) frame (T_flange_marker). What the tracker reports is
T_tracker_marker = inverse(T_base_tracker) . T_base_flange(true) . T_flange_marker.

Noise defaults come from the published accuracy of the model (3-D RMS over the volume; per-axis
sigma = RMS / sqrt(3) for isotropic Gaussian error, with `depth_factor` times that along the
camera's viewing axis z): Polaris Vicra 0.25 mm RMS (NDI Polaris Vicra User Guide rev. 2, p. 97);
Polaris Vega 0.12 mm and Spectra 0.25 mm RMS (NDI product figures, not confirmed in a primary
source here); Aurora 0.48 mm RMS (NDI figure, unconfirmed). The frame counter runs at 60 Hz as
the NDI API guide says (quoted in scikit-surgerynditracker `get_frame`); `rate_hz` is how often a
new measurement is made (Vicra 20 Hz, Polaris/Vega 60 Hz, Aurora 40 Hz).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from drivers.instrument.base import Quaternion, quaternion_from_matrix
from drivers.instrument.frames import inverse, matrix_of
from drivers.pose import Pose

#: model -> (3-D RMS accuracy mm, measurement rate Hz)
MODELS: dict[str, tuple[float, float]] = {
    "polaris-vega": (0.12, 60.0), "polaris-spectra": (0.25, 60.0),
    "polaris-vicra": (0.25, 20.0), "aurora": (0.48, 40.0), "ideal": (0.0, 60.0),
}
FAULTS = ("none", "silent", "crc", "missing")
FRAME_HZ = 60.0


@dataclass(frozen=True)
class TrackerParams:
    """A simulated tracker. Units: mm, deg, s, Hz."""

    model: str = "polaris-vega"
    pose: Pose = field(default_factory=lambda: Pose(400.0, 0.0, 1800.0, 180.0, 0.0, 0.0))
    marker: Pose = field(default_factory=Pose)
    tool: str = "tool"
    handle: int = 1
    noise_mm: float | None = None          # per-axis sigma; None: from the model's RMS
    depth_factor: float = 1.0
    angle_noise_deg: float = 0.0
    rate_hz: float | None = None           # None: the model's rate
    dropout: float = 0.0                   # probability that a frame does not see the tool
    fault: str = "none"                    # none | silent | crc | missing (every reply)
    fit_rms_mm: float | None = None        # reported marker-fit RMS; None: the noise RMS
    seed: int = 0

    def sigma_mm(self) -> float:
        if self.noise_mm is not None:
            return self.noise_mm
        return MODELS[self.model][0] / math.sqrt(3.0)

    def rate(self) -> float:
        return self.rate_hz if self.rate_hz is not None else MODELS[self.model][1]


@dataclass(frozen=True, slots=True)
class Observation:
    """What the tracker measured in one frame (its own frame; mm, unit quaternion w, x, y, z)."""

    frame: int
    t_s: float
    visible: bool
    position_mm: tuple[float, float, float] | None = None
    orientation: Quaternion | None = None
    rms_mm: float = 0.0


class TrackerModel:
    """Observes `source(now)` (the true flange pose, or None when there is no arm)."""

    def __init__(self, params: TrackerParams, source: Callable[[float], Pose | None],
                 clock: Callable[[], float]) -> None:
        if params.model not in MODELS:
            raise ValueError(f"model must be one of {sorted(MODELS)}")
        if params.fault not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS}")
        self.params = params
        self.source = source
        self.clock = clock
        self.t0 = clock()
        self.rng = np.random.default_rng([params.seed, 7])
        self._t_tracker_base = inverse(matrix_of(params.pose))
        self._t_flange_marker = matrix_of(params.marker)
        self._sigma = params.sigma_mm()
        self._period = 1.0 / params.rate()
        self._last: Observation | None = None
        self._last_slot = -1

    def truth(self, now: float) -> np.ndarray | None:
        """T_tracker_marker without noise at `now` (None without a source pose)."""
        pose = self.source(now)
        if pose is None:
            return None
        return self._t_tracker_base @ matrix_of(pose) @ self._t_flange_marker

    def observe(self, now: float | None = None) -> Observation:
        """The newest measurement at `now`: between measurements the last one is returned again,
        with the frame number of when it was measured (as a tracker answers a poll)."""
        now = self.clock() if now is None else now
        t = now - self.t0
        slot = int(t / self._period)
        frame = int(t * FRAME_HZ)
        if self._last is not None and slot == self._last_slot:
            return self._last
        self._last_slot = slot
        obs = self._measure(now, frame)
        self._last = obs
        return obs

    def _measure(self, now: float, frame: int) -> Observation:
        p = self.params
        t = self.truth(now)
        if t is None or p.fault == "missing" or (p.dropout > 0 and self.rng.random() < p.dropout):
            return Observation(frame, now, False)
        n = self.rng.normal(0.0, self._sigma, 3) * (1.0, 1.0, p.depth_factor) \
            if self._sigma > 0 else np.zeros(3)
        pos = t[:3, 3] + n
        r = t[:3, :3]
        if p.angle_noise_deg > 0:
            w = np.radians(self.rng.normal(0.0, p.angle_noise_deg, 3))
            r = _rotvec(w) @ r
        m = tuple(tuple(float(v) for v in row) for row in r)
        q = quaternion_from_matrix(m)  # type: ignore[arg-type]
        rms = p.fit_rms_mm if p.fit_rms_mm is not None else self._sigma * math.sqrt(3.0)
        return Observation(frame, now, True, (float(pos[0]), float(pos[1]), float(pos[2])), q,
                           rms)


def _rotvec(w: np.ndarray) -> np.ndarray:
    theta = float(np.linalg.norm(w))
    if theta < 1e-15:
        return np.eye(3)
    k = w / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(theta) * kx + (1 - math.cos(theta)) * kx @ kx
