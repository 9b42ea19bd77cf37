"""Measurements taken by an external instrument (laser tracker, optical tracker) as CSV.

Columns (header row, any order, extra columns ignored): ``pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z`` in
mm, optionally ``cmd_a,cmd_b,cmd_c,a,b,c`` in degrees (all six or none). One row per measured
visit. Failure modes: ConfigError naming the file and line (missing column, a value that is not
a finite number, a bad cycle, no rows), so the CLI exits with code 2.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivers.errors import ConfigError

POSITION = ("cmd_x", "cmd_y", "cmd_z", "x", "y", "z")
ORIENTATION = ("cmd_a", "cmd_b", "cmd_c", "a", "b", "c")


@dataclass(frozen=True)
class InstrumentData:
    """Rows of a measurement file: labels, cycles, commanded and attained (n, 3 or 6)."""

    source: str
    poses: list[str]
    cycles: np.ndarray
    commanded: np.ndarray
    attained: np.ndarray

    @property
    def has_orientation(self) -> bool:
        return self.attained.shape[1] == 6


def read_instrument_csv(path: str | Path) -> InstrumentData:
    """Read and validate a measurement CSV (see the module docstring)."""
    p = Path(path)
    try:
        fh = open(p, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    with fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        missing = [c for c in ("pose", "cycle", *POSITION) if c not in header]
        if missing:
            raise ConfigError(f"{p}:1: missing column(s) {', '.join(missing)} (need pose, cycle, "
                              f"{', '.join(POSITION)}; optionally {', '.join(ORIENTATION)})")
        present = [c for c in ORIENTATION if c in header]
        if present and len(present) != len(ORIENTATION):
            absent = [c for c in ORIENTATION if c not in header]
            raise ConfigError(f"{p}:1: orientation needs all of {', '.join(ORIENTATION)}; "
                              f"missing {', '.join(absent)}")
        cols = POSITION[:3] + (ORIENTATION[:3] if present else ()) + POSITION[3:] + \
            (ORIENTATION[3:] if present else ())
        poses, cycles, values = [], [], []
        for row in reader:
            line = reader.line_num
            if not any((v or "").strip() for v in row.values()):
                continue                                  # blank line
            name = (row.get("pose") or "").strip()
            if not name:
                raise ConfigError(f"{p}:{line}: pose: empty")
            try:
                cycle = int((row.get("cycle") or "").strip())
            except ValueError:
                raise ConfigError(f"{p}:{line}: cycle: expected an integer, got "
                                  f"{row.get('cycle')!r}") from None
            vals = []
            for c in cols:
                raw = (row.get(c) or "").strip()
                try:
                    v = float(raw)
                except ValueError:
                    raise ConfigError(f"{p}:{line}: {c}: expected a number, got {raw!r}") from None
                if not math.isfinite(v):
                    raise ConfigError(f"{p}:{line}: {c}: not a finite number ({raw!r})")
                vals.append(v)
            poses.append(name)
            cycles.append(cycle)
            values.append(vals)
    if not values:
        raise ConfigError(f"{p}: no measurement rows")
    arr = np.array(values, dtype=float)
    k = 6 if present else 3
    return InstrumentData(str(p), poses, np.array(cycles), arr[:, :k], arr[:, k:])
