"""Point files as `hil-bench analyze` input: SpatialAnalyzer "export ASCII points" and other
laser-tracker point exports (`bench.point_files` reads them), for measurements and for
registrations.

A point file has names and measured positions only (SpatialAnalyzer exports the working frame's
x y z, optionally with Collection/Group/Target names: shared/reference/instruments.md 3), so:
* the pose of a point is its name (``Collection::Group::Target``, or its last part ``Target``
  when only that is a pose of the scenario); the cycle is the point's occurrence of that name in
  file order (the first ``P1`` is cycle 1, the next cycle 2, ...);
* the commanded position is the scenario's pose of that name (`--scenario`); repeatability-only
  data (`--reference first|mean`) needs none. Positions only: no orientation figures.
* as a registration (`--register POINTS`): the points are a registration pattern measured in the
  instrument's frame, each name a pose of the scenario; the rigid fit of their positions (the
  mean per name) onto the scenario's commanded positions is the registration.
Units: mm, or what `unit` (or a ``// units: m`` comment) says. Failure modes: ConfigError naming
the file and line (a point whose name is no pose of the scenario, no commanded poses at all) or
the option; RegistrationError for too few or collinear points.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from bench.instrument import InstrumentData, Row, build_instrument_data
from bench.point_files import PointSet, read_points
from bench.registration import Registration, register_points
from bench.scenario import Scenario
from drivers.errors import ConfigError

FORMATS = ("auto", "csv", "points")


def detect_format(path: str | Path) -> str:
    """``csv`` when the first line that is not blank or a comment names the measurement CSV's
    ``pose`` and ``cycle`` columns, else ``points``. Unreadable and binary files (a NUL byte,
    not UTF-8) are left to the strict CSV reader, which names the line where they go wrong."""
    try:
        data = Path(path).read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return "csv"
    if b"\x00" in data:
        return "csv"
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("//", "#")):
            continue
        cols = {c.strip().lower() for c in line.split(",")}
        return "csv" if {"pose", "cycle"} <= cols else "points"
    return "csv"


def _pose_name(name: str, sc: Scenario | None) -> str:
    if sc is None or name in sc.poses:
        return name
    last = name.rsplit("::", 1)[-1]
    return last if last in sc.poses else name


def _rows(pts: PointSet, sc: Scenario | None) -> Iterator[Row]:
    counts: dict[str, int] = {}
    for i, (name, xyz) in enumerate(zip(pts.names, pts.xyz)):
        line = pts.lines[i] if i < len(pts.lines) else i + 1
        pose = _pose_name(name, sc)
        if sc is not None and pose not in sc.poses:
            raise ConfigError(f"{pts.source}:{line}: point {name!r} is not a pose of scenario "
                              f"{sc.name} (poses: {', '.join(sc.poses)})")
        counts[pose] = counts.get(pose, 0) + 1
        cmd = tuple(float(v) for v in sc.poses[pose].position) if sc is not None \
            else (0.0, 0.0, 0.0)
        yield Row(line, pose, counts[pose], cmd, tuple(float(v) for v in xyz))


def read_point_measurements(path: str | Path, sc: Scenario | None, *, unit: str | None = None,
                            decimal: str = ".", need_commanded: bool = True) -> InstrumentData:
    """A point file as measured visits (positions only). `need_commanded`: False for
    repeatability-only data (`--reference`), whose commanded poses are replaced anyway."""
    if sc is None and need_commanded:
        raise ConfigError(f"{path}: a point file has no commanded poses: give --scenario (point "
                          "names are its pose names) or --reference first|mean")
    pts = read_points(path, unit=unit, decimal=decimal)
    return build_instrument_data(str(path), _rows(pts, sc), False)


def registration_from_points(path: str | Path, sc: Scenario | None, *, unit: str | None = None,
                             decimal: str = ".") -> Registration:
    """The registration made from a registration pattern's point file (see the module
    docstring): instrument-frame points onto the scenario's commanded positions."""
    if sc is None:
        raise ConfigError(f"--register {path}: a point file registers against the commanded "
                          "poses of a scenario: give --scenario")
    pts = read_points(path, unit=unit, decimal=decimal)
    by_pose: dict[str, list[np.ndarray]] = {}
    for i, (name, xyz) in enumerate(zip(pts.names, pts.xyz)):
        pose = _pose_name(name, sc)
        if pose not in sc.poses:
            line = pts.lines[i] if i < len(pts.lines) else i + 1
            raise ConfigError(f"{pts.source}:{line}: point {name!r} is not a pose of scenario "
                              f"{sc.name} (poses: {', '.join(sc.poses)})")
        by_pose.setdefault(pose, []).append(xyz)
    measured = np.array([np.mean(v, axis=0) for v in by_pose.values()])
    commanded = np.array([sc.poses[p].position for p in by_pose])
    return register_points(measured, commanded)
