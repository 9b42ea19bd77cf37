"""Quantities with units in configuration files: ``"0.5 s"``, ``"20 ms"``, ``"1.0 mm"``, ``"250 mm/s"``.

A bare number is taken in the field's base unit. Base units: mm, deg, s, mm/s, deg/s, mm/s^2, Hz, bit/s, B (bytes).
Failure mode: `UnitError` (a ValueError) with a message that says what was expected.
"""
from __future__ import annotations

import math
import re

# factor to the base unit of each dimension
_UNITS: dict[str, dict[str, float]] = {
    "mm": {"mm": 1.0, "m": 1000.0, "cm": 10.0, "um": 1e-3, "µm": 1e-3},
    "deg": {"deg": 1.0, "°": 1.0, "rad": 180.0 / math.pi, "mrad": 0.18 / math.pi},
    "s": {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "min": 60.0, "h": 3600.0},
    "mm/s": {"mm/s": 1.0, "m/s": 1000.0},
    "deg/s": {"deg/s": 1.0, "rad/s": 180.0 / math.pi},
    "mm/s^2": {"mm/s^2": 1.0, "mm/s2": 1.0, "m/s^2": 1000.0, "m/s2": 1000.0},
    "deg/s^2": {"deg/s^2": 1.0, "deg/s2": 1.0, "rad/s^2": 180.0 / math.pi},
    "Hz": {"Hz": 1.0, "kHz": 1000.0},
    "dB": {"dB": 1.0},
    "dBm": {"dBm": 1.0},
    "%": {"%": 1.0},
    "ppm": {"ppm": 1.0},
    "mm/m": {"mm/m": 1.0, "um/m": 1e-3, "µm/m": 1e-3},
    "bit/s": {"bit/s": 1.0, "kbit/s": 1e3, "Mbit/s": 1e6, "Gbit/s": 1e9,
              "B/s": 8.0, "kB/s": 8e3, "MB/s": 8e6},
    "B": {"B": 1.0, "kB": 1e3, "KiB": 1024.0, "MB": 1e6, "MiB": 1048576.0},
}

_NUM = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\s\d].*?)?\s*$")


class UnitError(ValueError):
    """A value is not a number in an accepted unit."""


def parse_quantity(value: object, base: str) -> float:
    """Return `value` converted to `base` units (a key of the table above).

    Accepts int/float (already in base units) or a string ``"<number> <unit>"``.
    Raises UnitError for booleans, non-numbers, unknown or mismatched units, NaN and infinity.
    """
    if base not in _UNITS:
        raise KeyError(base)
    if isinstance(value, bool):
        raise UnitError(f"expected a number in {base}, got {value!r}")
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str):
        m = _NUM.match(value)
        if not m:
            raise UnitError(f"expected a number in {base} (like '1.5 {base}'), got {value!r}")
        number, unit = float(m.group(1)), (m.group(2) or base)
        factors = _UNITS[base]
        if unit not in factors:
            accepted = ", ".join(factors)
            raise UnitError(f"unit {unit!r} is not a {base} unit (accepted: {accepted})")
        out = number * factors[unit]
    else:
        raise UnitError(f"expected a number in {base}, got {type(value).__name__} {value!r}")
    if math.isnan(out):
        raise UnitError(f"expected a number in {base}, got NaN")
    if math.isinf(out):     # also "1e400 mm", which float() reads as infinity
        raise UnitError(f"expected a finite number in {base}, got {value!r}")
    return out
