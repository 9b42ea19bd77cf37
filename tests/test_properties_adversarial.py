"""Property test: valid-looking files with ONE adversarial value (NaN, infinity, huge, negative,
zero, empty, a wrong type, nesting hundreds of levels deep) put anywhere in them, through every
loader (scenarios, labs with their simulator and fault sections, register maps, modem maps,
network profiles, traces, instrument CSVs, sessions).

Each loader must either refuse with its typed error (ConfigError: one line, exit 2) or return an
object in which every number is finite. Nothing else: no other exception, no NaN let through.
The shipped files are the starting points, so every mutation sits in an otherwise valid file.
"""
from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.impair import load_profile
from bench.impair.traces import load_trace
from bench.instrument import read_instrument_csv
from bench.lab import load_lab
from bench.scenario import load_scenario
from bench.session.info import export_jsonl, session_info
from bench.session.reader import SessionReader
from bench.session.schema import T_COMMAND, T_META, T_POSE
from bench.session.writer import SessionWriter
from drivers.config import Section
from drivers.errors import ConfigError
from drivers.modbus.regmap import load_map
from drivers.modem.modbus import load_modem_map

REPO = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def _deep(n: int) -> Any:
    out: Any = 1
    for _ in range(n):
        out = [out]
    return out


ADVERSARIAL = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 1e-320, 0, -1, -0.0,
                     10**30, -10**30, 2**63, "", "nan", "inf", ".nan", "1e400 mm", "-1e400 s",
                     "nan mm", "inf ms", "0 mm", "-5 mm/s", "1e9 mm", None, True, [], {},
                     {"x": math.nan}, [math.inf, 1, 2]]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-10**40, max_value=10**40),
    st.builds(_deep, st.integers(min_value=50, max_value=400)),
)


def _files(*globs: str) -> list[Path]:
    return sorted(p for g in globs for p in REPO.glob(g) if p.name != "__init__.py")


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every node's path; numbers and number-like strings ("5 ms") are listed three times, so
    most mutations hit a value a loader must range-check."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    elif (isinstance(doc, (int, float)) and not isinstance(doc, bool)) or \
            (isinstance(doc, str) and doc[:1].isdigit()):
        out += [prefix, prefix]
    return out


def _replace(doc: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _replace(doc[head], rest, value)}
    return [*doc[:head], _replace(doc[head], rest, value), *doc[head + 1:]]


def _mutate(doc: Any, data: st.DataObject) -> Any:
    """Replace one node (a leaf, a list item or a whole subtree) of `doc` by an adversarial
    value."""
    path = data.draw(st.sampled_from(_paths(doc)[1:] or [()]))
    return _replace(doc, path, data.draw(ADVERSARIAL))


def _write(text: str | bytes, name: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix="hil-bench-prop-"))
    p = d / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _assert_finite(obj: Any, where: str = "", seen: set | None = None) -> None:
    """Every float (and numpy array) reachable from `obj` is finite."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, (str, bytes, bool, int, type(None), Section)):
        return
    seen.add(id(obj))
    if isinstance(obj, float):
        assert math.isfinite(obj), f"{where}: {obj!r} let through"
    elif isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":
            assert np.isfinite(obj).all(), f"{where}: non-finite array let through"
    elif isinstance(obj, np.floating):
        assert np.isfinite(obj), f"{where}: {obj!r} let through"
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            _assert_finite(getattr(obj, f.name), f"{where}.{f.name}", seen)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _assert_finite(v, f"{where}[{k!r}]", seen)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _assert_finite(v, f"{where}[{i}]", seen)


def _loads_finite_or_refuses(load: Any, path: Path) -> None:
    try:
        out = load(str(path))
    except ConfigError as exc:
        assert "\n" not in str(exc).strip(), "a ConfigError must be one line"
        return
    _assert_finite(out, path.name)


@SETTINGS
@given(st.sampled_from(_files("bench/scenarios/*.yaml")), st.data())
def test_scenarios(src: Path, data: st.DataObject) -> None:
    doc = _mutate(yaml.safe_load(src.read_text()), data)
    _loads_finite_or_refuses(load_scenario, _write(_dump(doc), "sc.yaml"))


def _lab_all(path: str) -> Any:
    """A lab as the bench uses it: its simulator's arm parameters and faults are parsed with it."""
    return load_lab(path)


@SETTINGS
@given(st.sampled_from(_files("hardware/*.yaml")), st.data())
def test_labs(src: Path, data: st.DataObject) -> None:
    doc = _mutate(yaml.safe_load(src.read_text()), data)
    _loads_finite_or_refuses(_lab_all, _write(_dump(doc), "lab.yaml"))


@SETTINGS
@given(st.sampled_from([p for p in _files("hardware/maps/*.yaml")
                        if not p.name.startswith("modem-")]), st.data())
def test_register_maps(src: Path, data: st.DataObject) -> None:
    doc = _mutate(yaml.safe_load(src.read_text()), data)
    _loads_finite_or_refuses(load_map, _write(_dump(doc), "m.yaml"))


@SETTINGS
@given(st.sampled_from(_files("hardware/maps/modem-*.yaml")), st.data())
def test_modem_maps(src: Path, data: st.DataObject) -> None:
    doc = _mutate(yaml.safe_load(src.read_text()), data)
    _loads_finite_or_refuses(load_modem_map, _write(_dump(doc), "m.yaml"))


@SETTINGS
@given(st.sampled_from([p for p in _files("fixtures/networks/*.yaml")
                        if "trace" not in p.read_text()]), st.data())
def test_network_profiles(src: Path, data: st.DataObject) -> None:
    doc = _mutate(yaml.safe_load(src.read_text()), data)
    _loads_finite_or_refuses(load_profile, _write(_dump(doc), "net.yaml"))


CELLS = st.one_of(st.sampled_from(["nan", "inf", "-inf", "1e400", "-1", "", "1e308", "0",
                                   "-0", "NaN", "+inf", "1_0", "0x10", " "]),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr))


@SETTINGS
@given(st.lists(st.tuples(CELLS, CELLS), min_size=1, max_size=6), st.integers(0, 5))
def test_traces(rows: list[tuple[str, str]], at: int) -> None:
    good = [(str(10 * i), str(5 + i)) for i in range(6)]
    body = good[:at] + rows + good[at:]
    text = "t_ms,delay_ms\n" + "".join(f"{a},{b}\n" for a, b in body)
    _loads_finite_or_refuses(load_trace, _write(text, "t.csv"))


@SETTINGS
@given(st.lists(CELLS, min_size=1, max_size=3), st.integers(0, 7), st.integers(0, 9))
def test_instrument_csv(cells: list[str], col: int, row: int) -> None:
    header = "pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z"
    rows = [[f"P{1 + i % 2}", str(1 + i // 2), "400", "0", "300", "400.1", "0.02", "299.9"]
            for i in range(10)]
    for j, c in enumerate(cells):
        rows[(row + j) % 10][2 + (col + j) % 6] = c
    text = header + "\n" + "".join(",".join(r) + "\n" for r in rows)
    _loads_finite_or_refuses(read_instrument_csv, _write(text, "m.csv"))


PAYLOADS = st.one_of(
    st.sampled_from([b"{}", b"[]", b"null", b"1", b'""', b"{", b'{"x_mm": NaN}',
                     b'{"x_mm": 1e400}', b'{"seq": -1, "label": 5}', b"\xff\xfe",
                     b'{"target": {"x_mm": "nan"}}', b"[" * 300 + b"]" * 300,
                     b'{"a":' * 200 + b"1" + b"}" * 200]),
    st.binary(min_size=1, max_size=40))


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from([T_META, T_COMMAND, T_POSE]), PAYLOADS),
                min_size=1, max_size=5))
def test_sessions(messages: list[tuple[str, bytes]]) -> None:
    """Messages with adversarial payloads in a file the hil-bench writer wrote: every reader
    (info, export, replay's header) reports damage or refuses, and never raises otherwise."""
    path = _write(b"", "s.mcap")
    w = SessionWriter(path, background_flush=False)
    w.write_json(T_META, 0, b'{"format":"hil-bench/session/1","mode":"virtual"}')
    for i, (topic, payload) in enumerate(messages):
        w.write_json(topic, i + 1, payload)
    w.close()
    info = session_info(path)
    assert info["truncated"] is False
    with open(path.with_suffix(".jsonl"), "w") as out:
        n = export_jsonl(path, out)
    with SessionReader(path) as r:
        decoded = list(r.messages())
        assert len(decoded) == n and all(isinstance(m.data, dict) for m in decoded)
        assert r.damaged_count == 1 + len(messages) - n
    from bench.session.replay import session_header
    try:
        session_header(path)
    except ConfigError:
        pass
