"""Finding built-in data by name: labs (`sim`), scenarios (`iso9283`), networks (`5g-urban`),
sessions (`iso-cube`).

A bare name (no slash, no file suffix) is a built-in; anything else is a file path. Built-ins are
package data (importlib.resources), so names work from any directory and in an installed wheel
(see bench/data/__init__.py for where each kind lives in the repository). Raises ConfigError
listing the built-ins when a name is unknown, or naming the file when a path does not exist.
Traces are device data: `drivers.data.trace_path`.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from drivers.errors import ConfigError

#: kind -> (package holding the built-ins, file suffix)
KINDS = {
    "lab": ("bench.data.labs", ".yaml"),
    "scenario": ("bench.scenarios", ".yaml"),
    "network": ("bench.data.networks", ".yaml"),
    "session": ("bench.data.sessions", ".mcap"),
}


def builtin_dir(kind: str) -> Path:
    """Folder of the built-in files of `kind` (a key of KINDS)."""
    return Path(str(files(KINDS[kind][0])))


def builtin_names(kind: str) -> list[str]:
    """Names of the built-in files of `kind` ("lab", "scenario", "network" or "session")."""
    return sorted(p.stem for p in builtin_dir(kind).glob(f"*{KINDS[kind][1]}"))


def resolve(name: str, kind: str) -> Path:
    """Path of a built-in `kind` called `name`, or `name` itself as a path."""
    suffix = KINDS[kind][1]
    if "/" not in name and not name.endswith((suffix, ".yaml", ".yml")):
        candidate = builtin_dir(kind) / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
        if Path(name).is_file():        # a file of the working directory named without suffix
            return Path(name)
        raise ConfigError(f"unknown {kind} {name!r} (built-in: {', '.join(builtin_names(kind))}; "
                          f"or give a path to a {suffix} file)")
    path = Path(name)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a file")
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    return path
