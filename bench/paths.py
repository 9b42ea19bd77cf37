"""Finding built-in data by name: labs (`sim`), scenarios (`iso9283`), networks (`5g-urban`).

A bare name (no slash, no .yaml) is a built-in; anything else is a file path. Raises ConfigError
listing the built-ins when a name is unknown, or naming the file when a path does not exist.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from drivers.errors import ConfigError


def _builtin_dir(kind: str) -> Path:
    if kind == "lab":
        return Path(str(files("hardware")))
    if kind == "scenario":
        return Path(str(files("bench") / "scenarios"))
    if kind == "network":
        return Path(str(files("fixtures") / "networks"))
    raise KeyError(kind)


def builtin_names(kind: str) -> list[str]:
    """Names of the built-in files of `kind` ("lab" or "scenario")."""
    return sorted(p.stem for p in _builtin_dir(kind).glob("*.yaml"))


def resolve(name: str, kind: str) -> Path:
    """Path of a built-in `kind` called `name`, or `name` itself as a path."""
    if "/" not in name and not name.endswith((".yaml", ".yml")):
        candidate = _builtin_dir(kind) / f"{name}.yaml"
        if candidate.is_file():
            return candidate
        raise ConfigError(f"unknown {kind} {name!r} (built-in: {', '.join(builtin_names(kind))}; "
                          f"or give a path to a .yaml file)")
    path = Path(name)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a file")
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    return path
