"""YAML loading with line numbers, and a small validator that names the file, line and key.

Used by the drivers (register maps) and by the bench (labs, scenarios, profiles). Every problem is a
`ConfigError` whose message starts with ``<file>:<line>: <dotted.key>:``; unknown keys and wrong types
are errors, never silently ignored. Numbers must be finite (NaN and infinity are refused: no
physical setting of this bench is infinite), and a YAML file may be at most `MAX_YAML_BYTES`
long and nested at most `MAX_YAML_DEPTH` levels deep (a bigger or deeper file is refused before
it can use the machine's memory or stack).
"""
from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any, Callable, Iterable, TypeVar

import yaml

from drivers.errors import ConfigError
from drivers.units import UnitError, parse_quantity

T = TypeVar("T")
#: a mapping key in a YAML section: a name, or an integer (register maps key states by code)
Key = str | int

_REQUIRED: Any = object()

#: the largest configuration file read (labs, maps, scenarios, profiles are a few kB)
MAX_YAML_BYTES = 4 * 1024 * 1024
#: the deepest nesting of mappings and lists (real files use fewer than 10 levels)
MAX_YAML_DEPTH = 64


class LineDict(dict):
    """A dict that remembers the line of each key (1-based) and of itself."""

    line: int = 0
    key_lines: dict

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.key_lines = {}


class LineList(list):
    """A list that remembers the line of each item (1-based) and of itself."""

    line: int = 0
    item_lines: list


class _Loader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        # PyYAML composes recursively: a deep file would end in RecursionError, so count levels
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise ConfigError(f"line {mark.line + 1}: nested deeper than {MAX_YAML_DEPTH} "
                                  f"levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) or key is None:
            raise ConfigError(f"line {key_node.start_mark.line + 1}: keys must be plain scalars")
        if key in out:
            raise ConfigError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(n, deep=True) for n in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [n.start_mark.line + 1 for n in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text; syntax errors become ConfigError ``<source>:<line>: <problem>``."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    except ConfigError as exc:
        raise ConfigError(f"{source}:{str(exc).removeprefix('line ')}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        context = ""
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            context = f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise ConfigError(f"{source}:{line}: YAML syntax error: {exc.problem or exc}{context}"
                          ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: YAML error: {exc}") from None


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a ConfigError naming it."""
    p = Path(path)
    try:
        if p.is_dir():
            raise ConfigError(f"{p}: is a folder, not a file")
        with p.open("rb") as f:
            data = f.read(MAX_YAML_BYTES + 1)
        if len(data) > MAX_YAML_BYTES:
            raise ConfigError(f"{p}: larger than {MAX_YAML_BYTES // (1024 * 1024)} MiB; not a "
                              f"configuration file")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None
    return load_yaml_text(text, str(p))


class Section:
    """A validated view of one YAML mapping.

    Take each expected key with a typed getter, then call `done()`: any key not taken is reported as
    unknown, with the list of keys that are accepted.
    """

    def __init__(self, data: Any, source: str, path: str = "", line: int | None = None) -> None:
        self.source = source
        self.path = path
        if data is None:            # an empty document or a key with no value
            data = LineDict()
            data.line = line or 1
        if not isinstance(data, dict):
            where = getattr(data, "line", line or 0)
            raise ConfigError(f"{source}:{where}: {path or 'document'}: expected a mapping, "
                              f"got {_describe(data)}")
        self.data = data
        self.line = getattr(data, "line", line or 0)
        self._taken: set = set()

    # -- helpers -------------------------------------------------------------------------------
    def fresh(self) -> "Section":
        """The same mapping with nothing taken yet, for a second reader of one section (e.g. a
        simulator section read for its arm parameters and again for its faults)."""
        return Section(self.data, self.source, self.path, self.line)

    def key_path(self, key: Key) -> str:
        return f"{self.path}.{key}" if self.path else str(key)

    def line_of(self, key: Key) -> int:
        lines = getattr(self.data, "key_lines", {})
        return lines.get(key, self.line)

    def error(self, key: Key, message: str) -> ConfigError:
        """A ConfigError pointing at `key` of this section."""
        return ConfigError(f"{self.source}:{self.line_of(key)}: {self.key_path(key)}: {message}")

    def has(self, key: Key) -> bool:
        return key in self.data

    def keys(self) -> list:
        return list(self.data.keys())

    # -- getters -------------------------------------------------------------------------------
    def raw(self, key: Key, default: Any = _REQUIRED) -> Any:
        """The value as parsed, marked as taken; missing and no default -> ConfigError."""
        self._taken.add(key)
        if key not in self.data:
            if default is _REQUIRED:
                others = [str(k) for k in self.data if k not in self._taken]
                close = difflib.get_close_matches(str(key), others, n=1)
                hint = f" (found {close[0]!r}: a typo?)" if close else ""
                line = self.line_of(close[0]) if close else self.line
                raise ConfigError(f"{self.source}:{line}: {self.key_path(key)}: "
                                  f"required key is missing{hint}")
            return default
        return self.data[key]

    def get(self, key: Key, kind: type | tuple, default: Any = _REQUIRED,
            *, choices: Iterable | None = None, min: float | None = None,
            max: float | None = None, nonzero: bool = False) -> Any:
        """A value of python type `kind` (int accepted where float is asked).

        Floats must be finite; numbers must lie in [`min`, `max`] and, with `nonzero`, not be 0.
        """
        value = self.raw(key, default)
        if key not in self.data:
            return value
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(key, f"expected {_kind_name(kinds)}, got {value!r}")
        if not isinstance(value, kinds):
            raise self.error(key, f"expected {_kind_name(kinds)}, got {_describe(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(key, f"expected a finite number, got {value!r}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if min is not None and value < min:
                raise self.error(key, f"must be >= {min}, got {value!r}")
            if max is not None and value > max:
                raise self.error(key, f"must be <= {max}, got {value!r}")
            if nonzero and value == 0:
                raise self.error(key, "must not be 0")
        if choices is not None:
            allowed = list(choices)
            if value not in allowed:
                raise self.error(key, f"{value!r} is not one of: {', '.join(map(str, allowed))}")
        return value

    def quantity(self, key: str, unit: str, default: Any = _REQUIRED, *,
                 min: float | None = None, max: float | None = None) -> Any:
        """A number with an optional unit string, converted to `unit`, with optional bounds."""
        value = self.raw(key, default)
        if key not in self.data:
            return value
        try:
            out = parse_quantity(value, unit)
        except UnitError as exc:
            raise self.error(key, str(exc)) from None
        if min is not None and out < min:
            raise self.error(key, f"must be >= {min} {unit}, got {value!r}")
        if max is not None and out > max:
            raise self.error(key, f"must be <= {max} {unit}, got {value!r}")
        return out

    def section(self, key: str, default: Any = _REQUIRED) -> "Section":
        """A nested mapping as a Section (an empty one if missing and default is None)."""
        value = self.raw(key, default)
        return Section(value, self.source, self.key_path(key), self.line_of(key))

    def sequence(self, key: str, default: Any = _REQUIRED) -> list:
        value = self.raw(key, default)
        if key in self.data and not isinstance(value, list):
            raise self.error(key, f"expected a list, got {_describe(value)}")
        return value

    def convert(self, key: str, fn: Callable[[Any], T], default: Any = _REQUIRED) -> T:
        """Apply `fn` to the value; ValueError/TypeError/KeyError become a ConfigError on `key`."""
        value = self.raw(key, default)
        if key not in self.data:
            return value
        try:
            return fn(value)
        except ConfigError as exc:
            if str(exc).startswith(self.source):   # already names this file: keep it
                raise
            raise self.error(key, str(exc)) from None
        except (ValueError, TypeError, KeyError) as exc:
            raise self.error(key, str(exc).strip("'\"")) from None

    def done(self) -> None:
        """Raise ConfigError for the first key that no getter took."""
        for key in self.data:
            if key not in self._taken:
                accepted = ", ".join(sorted(map(str, self._taken))) or "(none)"
                raise self.error(key, f"unknown key (accepted here: {accepted})")


def _kind_name(kinds: tuple) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             dict: "a mapping", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
