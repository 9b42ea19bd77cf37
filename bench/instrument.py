"""Measurements taken by an external instrument (laser tracker, optical tracker), read strictly.

CSV columns (header row, any order, extra columns ignored): ``pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z``
in mm, optionally ``cmd_a,cmd_b,cmd_c,a,b,c`` in degrees (all six or none; fixed X-Y-Z angles,
see docs/report-format.md for other conventions). One row per measured visit.

Every format is parsed into `Row`s (line number, pose, cycle, commanded and attained values) and
checked by `build_instrument_data`, so a new file format only needs its own row parser; the
checks below then hold for it too.

Failure modes, each a ConfigError ``FILE:LINE: what`` (the CLI exits 2): a file that cannot be
read, binary content (a NUL byte or invalid UTF-8), a missing or duplicated column, a row with
more fields than the header, a value that is not a finite number, a cycle that is not a positive
integer, the same (pose, cycle) measured twice, one pose commanded at two places, no rows.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from drivers.errors import ConfigError

POSITION = ("cmd_x", "cmd_y", "cmd_z", "x", "y", "z")
ORIENTATION = ("cmd_a", "cmd_b", "cmd_c", "a", "b", "c")
#: two commands of one pose closer than this (mm, deg) are the same command
SAME_COMMAND = 1e-6


@dataclass(frozen=True)
class Row:
    """One measured visit as read from a file: 1-based line, commanded and attained (3 or 6)."""

    line: int
    pose: str
    cycle: int
    commanded: tuple[float, ...]
    attained: tuple[float, ...]


@dataclass(frozen=True)
class InstrumentData:
    """Rows of a measurement file: labels, cycles, commanded and attained (n, 3 or 6), and the
    line of each row in `source` (for messages)."""

    source: str
    poses: list[str]
    cycles: np.ndarray
    commanded: np.ndarray
    attained: np.ndarray
    lines: np.ndarray

    @property
    def has_orientation(self) -> bool:
        return self.attained.shape[1] == 6

    def cycles_of(self) -> dict[str, tuple[int, int]]:
        """{pose: (number of cycles, line of its first row)}, in order of first appearance."""
        out: dict[str, tuple[int, int]] = {}
        for name, line in zip(self.poses, self.lines.tolist()):
            n, first = out.get(name, (0, line))
            out[name] = (n + 1, first)
        return out


def _text(p: Path) -> str:
    """The file as text; binary content is refused with the line it starts on."""
    if p.is_dir():
        raise ConfigError(f"{p}: is a folder, not a measurement file")
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise ConfigError(f"{p}:{line}: binary data (NUL byte at byte {nul}); expected a CSV "
                          f"text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{p}:{line}: not UTF-8 text (byte {exc.start}); expected a CSV text "
                          f"file") from None


def _number(p: Path, line: int, col: str, raw: str) -> float:
    try:
        v = float(raw)
    except ValueError:
        raise ConfigError(f"{p}:{line}: {col}: expected a number, got {raw!r}") from None
    if not math.isfinite(v):
        raise ConfigError(f"{p}:{line}: {col}: not a finite number ({raw!r})")
    return v


def csv_rows(path: str | Path) -> tuple[Iterator[Row], bool]:
    """(rows, has orientation) of a measurement CSV; the header is checked before returning."""
    p = Path(path)
    reader = csv.reader(io.StringIO(_text(p), newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        header = []                                  # empty file: "missing columns" below
    except csv.Error as exc:
        raise ConfigError(f"{p}:1: {exc}") from None
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        if h and h in seen:
            raise ConfigError(f"{p}:1: duplicated column {h!r} (columns {seen[h] + 1} and "
                              f"{i + 1})")
        seen[h] = i
    missing = [c for c in ("pose", "cycle", *POSITION) if c not in seen]
    if missing:
        raise ConfigError(f"{p}:1: missing column(s) {', '.join(missing)} (need pose, cycle, "
                          f"{', '.join(POSITION)}; optionally {', '.join(ORIENTATION)})")
    present = [c for c in ORIENTATION if c in seen]
    if present and len(present) != len(ORIENTATION):
        absent = [c for c in ORIENTATION if c not in seen]
        raise ConfigError(f"{p}:1: orientation needs all of {', '.join(ORIENTATION)}; "
                          f"missing {', '.join(absent)}")
    k = 6 if present else 3
    cmd_cols = (POSITION[:3] + ORIENTATION[:3])[:k]
    att_cols = (POSITION[3:] + ORIENTATION[3:])[:k]

    def rows() -> Iterator[Row]:
        try:
            for row in reader:
                line = reader.line_num
                if not any(v.strip() for v in row):
                    continue                                  # blank line
                if len(row) > len(header):
                    raise ConfigError(f"{p}:{line}: {len(row)} fields, the header has "
                                      f"{len(header)}")
                cell = {h: (row[i].strip() if i < len(row) else "") for h, i in seen.items()}
                name = cell["pose"]
                if not name:
                    raise ConfigError(f"{p}:{line}: pose: empty")
                try:
                    cycle = int(cell["cycle"])
                except ValueError:
                    raise ConfigError(f"{p}:{line}: cycle: expected an integer, got "
                                      f"{cell['cycle']!r}") from None
                if cycle < 1:
                    raise ConfigError(f"{p}:{line}: cycle: must be at least 1, got {cycle}")
                yield Row(line, name, cycle,
                          tuple(_number(p, line, c, cell[c]) for c in cmd_cols),
                          tuple(_number(p, line, c, cell[c]) for c in att_cols))
        except csv.Error as exc:
            raise ConfigError(f"{p}:{reader.line_num}: {exc}") from None

    return rows(), bool(present)


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    for i, (x, y) in enumerate(zip(a, b)):
        d = x - y
        if i >= 3:                                   # angles: 180 and -180 deg are one angle
            d = (d + 180.0) % 360.0 - 180.0
        if abs(d) > SAME_COMMAND:
            return False
    return True


def build_instrument_data(source: str, rows: Iterable[Row], orientation: bool) -> InstrumentData:
    """Check rows of any format and stack them. Raises ConfigError ``source:line: ...`` for the
    same (pose, cycle) twice, a pose commanded at two places, or no rows."""
    first_visit: dict[tuple[str, int], int] = {}
    command: dict[str, Row] = {}
    poses, cycles, lines, values = [], [], [], []
    for r in rows:
        key = (r.pose, r.cycle)
        if key in first_visit:
            raise ConfigError(f"{source}:{r.line}: pose {r.pose} cycle {r.cycle} measured twice "
                              f"(first on line {first_visit[key]})")
        first_visit[key] = r.line
        ref = command.setdefault(r.pose, r)
        if not _same(ref.commanded, r.commanded):
            def fmt(v: tuple[float, ...]) -> str:
                return "(" + ", ".join(f"{x:g}" for x in v) + ")"
            raise ConfigError(f"{source}:{r.line}: pose {r.pose} commanded at {fmt(r.commanded)} "
                              f"here but at {fmt(ref.commanded)} on line {ref.line} (one pose, "
                              f"one command: give the other place its own pose name)")
        poses.append(r.pose)
        cycles.append(r.cycle)
        lines.append(r.line)
        values.append(r.commanded + r.attained)
    if not values:
        raise ConfigError(f"{source}: no measurement rows")
    arr = np.array(values, dtype=float)
    k = 6 if orientation else 3
    return InstrumentData(source, poses, np.array(cycles), arr[:, :k], arr[:, k:],
                          np.array(lines))


def read_instrument_csv(path: str | Path) -> InstrumentData:
    """Read and validate a measurement CSV (see the module docstring)."""
    rows, orientation = csv_rows(path)
    return build_instrument_data(str(path), rows, orientation)
