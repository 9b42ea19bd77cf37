"""Message loss models: none, Bernoulli, Gilbert-Elliott. Probabilities are fractions in [0, 1].

Gilbert-Elliott follows netem's ``loss gemodel p r 1-h 1-k``: `p` = P(good -> bad), `r` =
P(bad -> good), `bad_loss` = 1-h = loss probability in the bad state, `good_loss` = 1-k = loss
probability in the good state. Per message: the loss is drawn in the current state, then the
state moves. Stationary P(bad) = p / (p + r); loss rate = P(good) good_loss + P(bad) bad_loss;
with bad_loss = 1 and good_loss = 0 the mean burst length is 1 / r messages.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


class LossModel:
    """No loss."""

    def lost(self) -> bool:
        """Whether the next message is lost."""
        return False

    def rate(self) -> float:
        """The long-run loss probability: what a TCP retransmission, sent an RTO (200 ms or
        more) after the loss, sees once the traffic in between has moved the state on."""
        return 0.0


class Bernoulli(LossModel):
    """Each message lost independently with probability `p`."""

    def __init__(self, p: float, rng: np.random.Generator) -> None:
        self.p = p
        self.rng = rng
        self._buf: list[float] = []
        self._i = 0

    def _u(self) -> float:
        if self._i >= len(self._buf):
            self._buf = self.rng.random(4096).tolist()
            self._i = 0
        v = self._buf[self._i]
        self._i += 1
        return v

    def lost(self) -> bool:
        return self.p > 0 and self._u() < self.p

    def rate(self) -> float:
        return self.p


class GilbertElliott(Bernoulli):
    """Two-state Markov loss (good/bad), see the module docstring for the parameters."""

    def __init__(self, p: float, r: float, bad_loss: float, good_loss: float,
                 rng: np.random.Generator) -> None:
        super().__init__(0.0, rng)
        self.p_gb, self.r_bg = p, r
        self.bad_loss, self.good_loss = bad_loss, good_loss
        # start in the stationary distribution so short runs are not biased towards "good"
        self.bad = bool(p + r > 0 and self._u() < p / (p + r))

    def lost(self) -> bool:
        loss = self._u() < (self.bad_loss if self.bad else self.good_loss)
        if self.bad:
            self.bad = not (self._u() < self.r_bg)
        else:
            self.bad = self._u() < self.p_gb
        return loss

    def rate(self) -> float:
        return self.theory()[0]

    def theory(self) -> tuple[float, float]:
        """(expected loss rate, expected burst length in messages for bad_loss=1, good_loss=0)."""
        pi_b = self.p_gb / (self.p_gb + self.r_bg) if self.p_gb + self.r_bg > 0 else 0.0
        rate = (1 - pi_b) * self.good_loss + pi_b * self.bad_loss
        return rate, (1.0 / self.r_bg if self.r_bg > 0 else float("inf"))


@dataclass(frozen=True)
class LossSpec:
    """A loss model by name with its parameters (fractions)."""

    model: str = "none"
    p: float = 0.0
    r: float = 1.0
    bad_loss: float = 1.0
    good_loss: float = 0.0

    def __post_init__(self) -> None:
        if self.model not in LOSS_MODELS:
            raise ValueError(f"unknown loss model {self.model!r} (known: {', '.join(LOSS_MODELS)})")
        for name in ("p", "r", "bad_loss", "good_loss"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {v}")

    def build(self, rng: np.random.Generator) -> LossModel:
        return LOSS_MODELS[self.model](self, rng)


#: loss model names accepted in profile files
LOSS_MODELS: dict[str, Callable[[LossSpec, np.random.Generator], LossModel]] = {
    "none": lambda s, rng: LossModel(),
    "bernoulli": lambda s, rng: Bernoulli(s.p, rng),
    "gilbert-elliott": lambda s, rng: GilbertElliott(s.p, s.r, s.bad_loss, s.good_loss, rng),
}
