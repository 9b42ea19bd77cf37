"""Point files exported by laser-tracker and metrology software (SpatialAnalyzer "export ASCII
points", FARO/Leica tools, spreadsheets): one named point per line.

What is accepted (SpatialAnalyzer User Manual, "Export ASCII": name column Collection/Group/Target
or none, then x y z; space or comma separated; optional `//` header lines):
* comment lines starting with ``//`` or ``#``; a ``// ... units: mm|m|cm|in`` comment sets the
  file's unit unless one is given;
* separators ``;``, ``,``, tab or spaces, decided once from the first data line, never per line;
* an optional header row (the first line that is not all numbers): X, Y and Z columns found by
  name, case-insensitive (``x``, ``X [mm]``, ``x_mm``, ``Pos X``), the name column by
  ``name|point|target|id|label``, otherwise the first text column;
* without a header: the last three fields are x, y, z and the fields before them, joined with
  ``::``, are the point's name (``Collection Group Target x y z`` -> ``Collection::Group::Target``);
* decimal commas only when asked for (``decimal=","``, then ``,`` cannot separate fields).
Units: the result is always mm. Failure modes: ConfigError naming the file and line (no points,
a field that is not a number, a missing column, an ambiguous separator).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivers.errors import ConfigError

UNITS_MM = {"mm": 1.0, "m": 1000.0, "cm": 10.0, "um": 1e-3, "µm": 1e-3, "in": 25.4,
            "inch": 25.4, "ft": 304.8}
_NAME_HEADERS = re.compile(r"^(name|point|point ?name|target|id|label|pt)$", re.IGNORECASE)
_UNIT_COMMENT = re.compile(r"units?\s*[:=]?\s*\(?\s*(mm|m|cm|um|µm|in|inch|ft)\b", re.IGNORECASE)


@dataclass(frozen=True)
class PointSet:
    """Named points in mm, in file order."""

    source: str
    names: list[str]
    xyz: np.ndarray            # (n, 3) mm
    unit: str
    lines: tuple[int, ...] = ()    # the file line of each point (for messages)

    def by_name(self) -> dict[str, np.ndarray]:
        """name -> (3,) mm; ConfigError when a name repeats."""
        out: dict[str, np.ndarray] = {}
        for n, p in zip(self.names, self.xyz):
            if n in out:
                raise ConfigError(f"{self.source}: point {n!r} appears twice")
            out[n] = p
        return out


def _axis_of(header: str) -> str | None:
    h = re.sub(r"[\s_\-\[\]()]+", " ", header.strip().lower()).strip()
    for axis in "xyz":
        if h in (axis, f"{axis} mm", f"{axis} m", f"pos {axis}", f"{axis} coordinate",
                 f"{axis} position"):
            return axis
    return None


def _split(line: str, sep: str | None) -> list[str]:
    return [f.strip() for f in (line.split(sep) if sep else line.split())]


def read_points(path: str | Path, unit: str | None = None, decimal: str = ".") -> PointSet:
    """Read a point file (see the module docstring); `unit` overrides the file's unit."""
    p = Path(path)
    if decimal not in (".", ","):
        raise ConfigError(f"{p}: decimal mark must be '.' or ','")
    if unit is not None and unit not in UNITS_MM:
        raise ConfigError(f"{p}: unit must be one of {', '.join(UNITS_MM)}")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None
    file_unit = None
    rows: list[tuple[int, str]] = []
    for i, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("//", "#")):
            m = _UNIT_COMMENT.search(line)
            if m and file_unit is None:
                file_unit = m.group(1).lower()
            continue
        rows.append((i, line))
    if not rows:
        raise ConfigError(f"{p}: no points")
    first = rows[0][1]
    if ";" in first:
        sep: str | None = ";"
    elif "\t" in first:
        sep = "\t"
    elif "," in first and decimal == ".":
        sep = ","
    else:
        sep = None
    used = unit or file_unit or "mm"
    scale = UNITS_MM[used]

    def num(s: str, line: int, what: str) -> float:
        try:
            v = float(s.replace(",", ".") if decimal == "," else s)
        except ValueError:
            raise ConfigError(f"{p}:{line}: {what}: expected a number, got {s!r}") from None
        if not math.isfinite(v):
            raise ConfigError(f"{p}:{line}: {what}: not a finite number ({s!r})")
        return v

    header = _split(first, sep)
    cols: dict[str, int] = {}
    for j, h in enumerate(header):
        axis = _axis_of(h)
        if axis and axis not in cols:
            cols[axis] = j
    has_header = bool(cols)
    name_col = None
    if has_header:
        missing = [a for a in "xyz" if a not in cols]
        if missing:
            raise ConfigError(f"{p}:{rows[0][0]}: header has no {', '.join(missing).upper()} "
                              f"column (found {header})")
        name_col = next((j for j, h in enumerate(header) if _NAME_HEADERS.match(h.strip())),
                        None)
        if name_col is None:
            name_col = next((j for j, h in enumerate(header) if j not in cols.values()), None)
        rows = rows[1:]
    names, pts, at = [], [], []
    for k, (line_no, line) in enumerate(rows):
        fields = _split(line, sep)
        if has_header:
            if len(fields) < len(header):
                raise ConfigError(f"{p}:{line_no}: {len(fields)} fields, the header has "
                                  f"{len(header)}")
            xyz = [num(fields[cols[a]], line_no, a) for a in "xyz"]
            name = fields[name_col] if name_col is not None else str(k + 1)
        else:
            if len(fields) < 3:
                raise ConfigError(f"{p}:{line_no}: expected [name ...] x y z, got {line!r}")
            xyz = [num(f, line_no, a) for f, a in zip(fields[-3:], "xyz")]
            name = "::".join(fields[:-3]) or str(k + 1)
        names.append(name)
        pts.append([v * scale for v in xyz])
        at.append(line_no)
    if not pts:
        raise ConfigError(f"{p}: no points after the header")
    return PointSet(str(p), names, np.array(pts, dtype=float), used, tuple(at))
