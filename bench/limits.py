"""Measurements with limits that judge themselves: pass, marginal or fail.

A limit is an upper bound (``max``) with an optional marginal band starting at ``marginal``:
value <= marginal -> pass; marginal < value <= max -> marginal; value > max -> fail.
NaN or a missing value is always a fail, never a pass.
"""
from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

from bench.metrics import catalogue
from drivers.config import Section


class Outcome(enum.Enum):
    PASS = "pass"
    MARGINAL = "marginal"
    FAIL = "fail"

    @staticmethod
    def worst(outcomes: list["Outcome"]) -> "Outcome":
        order = [Outcome.PASS, Outcome.MARGINAL, Outcome.FAIL]
        return max(outcomes, key=order.index, default=Outcome.PASS)


@dataclass(frozen=True)
class Limit:
    """Upper limit `max` with an optional marginal threshold, in `unit`."""

    name: str
    max: float
    unit: str
    marginal: float | None = None

    def judge(self, value: float | None) -> Outcome:
        if value is None or not math.isfinite(value):
            return Outcome.FAIL
        if value > self.max:
            return Outcome.FAIL
        if self.marginal is not None and value > self.marginal:
            return Outcome.MARGINAL
        return Outcome.PASS

    def describe(self) -> str:
        text = f"<= {self.max:g} {self.unit}"
        if self.marginal is not None:
            text += f" (marginal above {self.marginal:g})"
        return text


@dataclass(frozen=True)
class Measurement:
    """A named value with its limit and outcome."""

    name: str
    value: float | None
    unit: str
    limit: Limit | None
    subject: str = ""   # e.g. the pose name

    @property
    def outcome(self) -> Outcome:
        return self.limit.judge(self.value) if self.limit else Outcome.PASS

    def as_dict(self) -> dict:
        """JSON-ready; ``clause`` is the ISO 9283 clause from the measurement catalogue ("" when
        the figure is not an ISO one, None for a name the catalogue does not know)."""
        v = self.value
        entry = catalogue.get(self.name)
        return {
            "name": self.name,
            "subject": self.subject,
            "value": v if v is not None and math.isfinite(v) else None,
            "unit": self.unit,
            "limit": self.limit.max if self.limit else None,
            "marginal": self.limit.marginal if self.limit else None,
            "outcome": self.outcome.value,
            "clause": entry.clause if entry else None,
        }


def _bound(s: Section, key: str, unit: str, default: object) -> Any:
    """A limit value >= 0 in `unit`; a unitless count (unit "") is a bare number."""
    if unit:
        return s.quantity(key, unit, min=0.0) if default is ... else \
            s.quantity(key, unit, default, min=0.0)
    v = s.get(key, float) if default is ... else s.get(key, float, default)
    if v is not None and (not math.isfinite(v) or v < 0):
        raise s.error(key, f"must be a finite number >= 0, got {v!r}")
    return v


def limit_from_section(s: Section, name: str, unit: str) -> Limit:
    """Parse ``{max: 1.0 mm, marginal: 0.8 mm}`` (bare numbers are in `unit`)."""
    mx = _bound(s, "max", unit, ...)
    marginal = _bound(s, "marginal", unit, None)
    s.done()
    if marginal is not None and marginal > mx:
        raise s.error("marginal", f"must not exceed max ({mx:g} {unit})")
    return Limit(name=name, max=mx, unit=unit, marginal=marginal)
