"""The `measure` fixture: named measurements with limits, judged like the bench's own verdicts.

``measure("AP", 0.31, "mm", max=1.0, marginal=0.8)`` records a `bench.limits.Measurement` for the
running test and returns it. Every measurement appears
- in the JUnit XML as properties: ``AP`` = the value, ``AP.unit``, ``AP.limit`` (e.g.
  ``<= 1 mm (marginal above 0.8)``) and ``AP.outcome`` (pass, marginal, fail);
- in `results.json` of the run, under the test, with value, unit, limit, marginal and outcome.
A measurement whose outcome is *fail* fails the test when the test body returns (so every
measurement of the test is still recorded first); *marginal* passes and is counted in the
terminal summary. NaN or None always fails a limit.
"""
from __future__ import annotations

import math

import pytest

from bench.limits import Limit, Measurement, Outcome

MEASUREMENTS = pytest.StashKey[list]()


class Measure:
    """Callable recorder bound to one test item."""

    def __init__(self, item: pytest.Item) -> None:
        self.item = item
        self.items: list[Measurement] = item.stash.setdefault(MEASUREMENTS, [])

    def __call__(self, name: str, value: float | None, unit: str = "", *,
                 max: float | None = None, marginal: float | None = None,  # noqa: A002
                 limit: Limit | None = None, subject: str = "") -> Measurement:
        """Record `value` (in `unit`) under `name`, judged against `limit` or `max`/`marginal`.

        Raises ValueError for an empty or duplicate name (with the same subject), or a marginal
        above max.
        """
        if not name or not name.strip():
            raise ValueError("measure: a measurement needs a name")
        if limit is not None and (max is not None or marginal is not None):
            raise ValueError(f"measure({name!r}): give limit= or max=/marginal=, not both")
        if limit is None and max is not None:
            if marginal is not None and marginal > max:
                raise ValueError(f"measure({name!r}): marginal {marginal:g} exceeds max {max:g}")
            limit = Limit(name=name, max=float(max), unit=unit,
                          marginal=None if marginal is None else float(marginal))
        elif limit is None and marginal is not None:
            raise ValueError(f"measure({name!r}): marginal needs a max")
        if any(m.name == name and m.subject == subject for m in self.items):
            raise ValueError(f"measure({name!r}): recorded twice in one test")
        v = None if value is None else float(value)
        m = Measurement(name=name, value=v, unit=unit or (limit.unit if limit else ""),
                        limit=limit, subject=subject)
        self.items.append(m)
        key = f"{subject}.{name}" if subject else name
        props = self.item.user_properties
        props.append((key, "nan" if v is None or not math.isfinite(v) else repr(v)))
        if m.unit:
            props.append((f"{key}.unit", m.unit))
        if limit is not None:
            props.append((f"{key}.limit", limit.describe()))
        props.append((f"{key}.outcome", m.outcome.value))
        return m


def failed_measurements(item: pytest.Item) -> list[Measurement]:
    """The measurements of `item` whose outcome is fail."""
    return [m for m in item.stash.get(MEASUREMENTS, []) if m.outcome is Outcome.FAIL]


def describe(m: Measurement) -> str:
    """``P1.AP = 1.3 mm, limit <= 1 mm: FAIL``."""
    label = f"{m.subject}.{m.name}" if m.subject else m.name
    value = "nan" if m.value is None or not math.isfinite(m.value) else f"{m.value:.6g}"
    limit = f", limit {m.limit.describe()}" if m.limit else ""
    return f"{label} = {value} {m.unit}{limit}: {m.outcome.value.upper()}".replace("  ", " ")
