"""Delay distributions and correlated jitter that keeps its marginal distribution.

A `JitterModel` draws one one-way delay per message: ``base + jitter * shape(u)``, where `shape` is
the inverse CDF of a standardised distribution and `u` a uniform number. Units: seconds.

Shapes (registry `SHAPES`, names used in profile files):
  constant       0 (no jitter)
  uniform        2u - 1: delay uniform in [base - jitter, base + jitter) (netem's default meaning)
  normal         standard normal: jitter is the standard deviation
  pareto         Pareto with shape alpha = 3 standardised to mean 0, sd 1: jitter is the standard
                 deviation, base the mean; a heavy right tail (the rare 200-500 ms 5G spikes)
  pareto-normal  standardised sum of a normal part (25 % of the variance) and the Pareto part
                 (75 %), from a quantile table like netem's paretonormal table

Correlation: netem mixes each new uniform with the previous one, which shrinks the jitter and
changes the distribution. Here `u` comes from a stationary AR(1) process on a latent standard
normal, z[n] = rho z[n-1] + sqrt(1 - rho^2) e[n], mapped through the normal CDF: every sample is
exactly Normal(0, 1) so `u` is exactly uniform and the marginal of the delay is the one asked for,
whatever rho is. Delays are clipped at 0 (a message never arrives before it was sent).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

_SQRT2 = math.sqrt(2.0)
_erfc_any = np.frompyfunc(math.erfc, 1, 1)


def _erfc(x: np.ndarray) -> np.ndarray:
    """Element-wise erfc in float64 (numpy has none; math.erfc keeps the upper tail exact)."""
    return np.asarray(_erfc_any(x), dtype=float)

# u and q = 1 - u are both passed so that the upper tail keeps its precision (q ~ 1e-9)
Shape = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

PARETO_ALPHA = 3.0
_P_MEAN = PARETO_ALPHA / (PARETO_ALPHA - 1.0)
_P_SD = math.sqrt(PARETO_ALPHA / ((PARETO_ALPHA - 1.0) ** 2 * (PARETO_ALPHA - 2.0)))


def _constant(z: np.ndarray, u: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.zeros_like(z)


def _uniform(z: np.ndarray, u: np.ndarray, q: np.ndarray) -> np.ndarray:
    return 2.0 * u - 1.0


def _normal(z: np.ndarray, u: np.ndarray, q: np.ndarray) -> np.ndarray:
    return z


def pareto_std(q: np.ndarray) -> np.ndarray:
    """Standardised Pareto(alpha=3) quantile at upper-tail probability q (mean 0, sd 1)."""
    x = np.power(np.maximum(q, 1e-300), -1.0 / PARETO_ALPHA)
    return (x - _P_MEAN) / _P_SD


def _pareto(z: np.ndarray, u: np.ndarray, q: np.ndarray) -> np.ndarray:
    return pareto_std(q)


def _pareto_normal_table() -> tuple[np.ndarray, np.ndarray]:
    """Quantile table of the standardised normal + Pareto sum (fixed seed: always the same)."""
    rng = np.random.default_rng(20010907)
    n = 1 << 20
    x = 0.5 * rng.standard_normal(n) + math.sqrt(0.75) * pareto_std(rng.random(n))
    x.sort()
    # dense grid in the body, log-spaced towards the upper tail where spikes live
    q_tail = np.logspace(-1, math.log10(4.0 / n), 400)
    probs = np.unique(np.concatenate([np.linspace(0.0, 0.9, 3601), 1.0 - q_tail]))
    idx = np.clip((probs * (n - 1)).round().astype(int), 0, n - 1)
    vals = x[idx]
    vals = (vals - x.mean()) / x.std()
    return probs, vals


_PN_TABLE: tuple[np.ndarray, np.ndarray] | None = None


def _pareto_normal(z: np.ndarray, u: np.ndarray, q: np.ndarray) -> np.ndarray:
    global _PN_TABLE
    if _PN_TABLE is None:
        _PN_TABLE = _pareto_normal_table()
    probs, vals = _PN_TABLE
    return np.interp(u, probs, vals)


#: distribution names accepted in profile files -> standardised inverse CDF
SHAPES: dict[str, Shape] = {
    "constant": _constant,
    "uniform": _uniform,
    "normal": _normal,
    "pareto": _pareto,
    "pareto-normal": _pareto_normal,
}


@dataclass(frozen=True)
class JitterSpec:
    """One-way delay: base and jitter in seconds, a shape name, AR(1) correlation in [0, 1)."""

    base_s: float = 0.0
    jitter_s: float = 0.0
    distribution: str = "uniform"
    correlation: float = 0.0

    def __post_init__(self) -> None:
        if self.distribution not in SHAPES:
            raise ValueError(f"unknown distribution {self.distribution!r} "
                             f"(known: {', '.join(SHAPES)})")
        if not 0.0 <= self.correlation < 1.0:
            raise ValueError("correlation must be in [0, 1)")
        if self.base_s < 0 or self.jitter_s < 0:
            raise ValueError("base and jitter must be >= 0")

    @property
    def constant(self) -> bool:
        return self.jitter_s == 0.0 or self.distribution == "constant"


class JitterModel:
    """Draws one-way delays (seconds) from a `JitterSpec`, seeded, in batches for speed."""

    BATCH = 2048

    def __init__(self, spec: JitterSpec, rng: np.random.Generator) -> None:
        self.spec = spec
        self.rng = rng
        self._shape = SHAPES[spec.distribution]
        self._z = float(rng.standard_normal())   # stationary start of the latent process
        self._buf: list[float] = []
        self._i = 0

    def latent(self, n: int) -> np.ndarray:
        """The next `n` values of the latent AR(1) standard normal process."""
        e = self.rng.standard_normal(n)
        rho = self.spec.correlation
        if rho == 0.0:
            return e
        s = math.sqrt(1.0 - rho * rho)
        z = np.empty(n)
        prev = self._z
        for i in range(n):            # sequential by nature; n is a small batch
            prev = rho * prev + s * e[i]
            z[i] = prev
        self._z = prev
        return z

    def sample(self, n: int) -> np.ndarray:
        """`n` delays in seconds (clipped at 0)."""
        spec = self.spec
        if spec.constant:
            return np.full(n, spec.base_s)
        z = self.latent(n)
        q = 0.5 * _erfc(z / _SQRT2)        # P(Z > z), exact in the upper tail
        u = 0.5 * _erfc(-z / _SQRT2)
        d = spec.base_s + spec.jitter_s * self._shape(z, u, q)
        return np.maximum(d, 0.0)

    def next(self) -> float:
        """One delay in seconds."""
        if self.spec.constant:
            return self.spec.base_s
        if self._i >= len(self._buf):
            self._buf = self.sample(self.BATCH).tolist()
            self._i = 0
        v = self._buf[self._i]
        self._i += 1
        return v
