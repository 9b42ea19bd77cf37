"""Bounds of the numbers a user gives on the command line or in a scenario, checked at the edge.

`MAX_CYCLES` caps a scenario's cycles (ISO 9283 asks for 30; 10000 cycles of five poses is days of
motion on a real arm, and a larger number is a typo that would never end). Seeds are integers in
[0, `MAX_SEED`] (numpy's generators refuse negative seeds). Failure mode: `ConfigError` (exit 2)
naming the option.
"""
from __future__ import annotations

import math

from drivers.errors import ConfigError

MAX_CYCLES = 10_000
MAX_SEED = 2**63 - 1


def check_cycles(value: int | None, option: str = "--cycles", least: int = 1) -> int | None:
    """`value` (None passes) within [least, MAX_CYCLES]."""
    if value is not None and not least <= value <= MAX_CYCLES:
        raise ConfigError(f"{option}: must be between {least} and {MAX_CYCLES}, got {value}")
    return value


def check_seed(value: int | None, option: str = "--seed") -> int | None:
    """`value` (None passes) within [0, MAX_SEED]."""
    if value is not None and not 0 <= value <= MAX_SEED:
        raise ConfigError(f"{option}: must be between 0 and 2**63-1, got {value}")
    return value


def check_number(value: float | None, option: str, *, low: float | None = None,
                 high: float | None = None, low_open: bool = False) -> float | None:
    """A finite float (None passes) with optional bounds: [low, high], or (low, high] if
    `low_open`."""
    if value is None:
        return None
    if not math.isfinite(value):
        raise ConfigError(f"{option}: must be a finite number, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{option}: must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and value > high:
        raise ConfigError(f"{option}: must be <= {high:g}, got {value:g}")
    return value
