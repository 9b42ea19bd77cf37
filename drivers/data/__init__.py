"""Device data shipped with the drivers, installed as package data (importlib.resources).

In the repository the files stay in their top-level folders; packaging (setup.py) maps them here:

- ``drivers.data.maps``   <- ``hardware/maps/``    register maps (``map: ur``)
- ``drivers.data.traces`` <- ``fixtures/traces/``  real 5G drive-test traces (CC BY 4.0, see
  its README.md) the simulated modem follows (``trace: cicv5g_w2s_n8_v30_run01``)
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from drivers.errors import ConfigError


def data_dir(kind: str) -> Path:
    """Folder of the shipped `kind` ("maps" or "traces"), wherever the package is installed."""
    if kind not in ("maps", "traces"):
        raise KeyError(kind)
    return Path(str(files(f"drivers.data.{kind}")))


def trace_names() -> list[str]:
    """Names of the shipped 5G traces: their file names without `.txt`."""
    return sorted(p.stem for p in data_dir("traces").glob("*.txt"))


def find_trace(name: str) -> Path | None:
    """The shipped trace called `name`, or None when `name` is no shipped trace.

    `name` is a file name with or without `.txt` (``cicv5g_urban_n78_v0_run01``) or a short form
    that names exactly one shipped trace (``urban-n78``: '-' reads as '_', and the name is a part
    of exactly one file name). Raises ConfigError when a short form fits several traces.
    """
    stem = name.removesuffix(".txt")
    exact = data_dir("traces") / f"{stem}.txt"
    if exact.is_file():
        return exact
    short = stem.replace("-", "_").lower()
    hits = [n for n in trace_names() if short and short in n.lower()]
    if len(hits) > 1:
        raise ConfigError(f"trace {name!r} fits several shipped traces ({', '.join(hits)}); "
                          f"give more of the name")
    return data_dir("traces") / f"{hits[0]}.txt" if hits else None


def trace_path(name: str) -> Path:
    """A shipped trace by name (see `find_trace`), else `name` as a path to an existing file.

    Raises ConfigError listing the shipped traces when neither exists.
    """
    if "/" not in name:
        found = find_trace(name)
        if found is not None:
            return found
    path = Path(name)
    if not path.is_file():
        raise ConfigError(f"unknown trace {name!r} (shipped: {', '.join(trace_names())}; "
                          f"or give a path to a trace file)")
    return path
