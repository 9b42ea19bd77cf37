"""Property tests: no input makes the configuration parsers and the register codec raise anything
but their typed error (ConfigError, UnitError, ValueError for the codec)."""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.lab import load_lab
from bench.scenario import load_scenario
from drivers.config import load_yaml_text
from drivers.errors import ConfigError
from drivers.modbus import codec
from drivers.modbus.regmap import load_map
from drivers.units import UnitError, parse_quantity

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True),
                    st.text(max_size=12),
                    st.sampled_from(["1 mm", "0.5 s", "-3 deg", "20 ms", "x", "1e400 mm",
                                     "nan mm", "holding", "float32", "idle", "native"]))
keys = st.sampled_from(["name", "registers", "actual_x", "actual_y", "actual_z", "address",
                        "type", "scale", "table", "states", "commands", "poses", "cube",
                        "center", "side", "cycles", "speed", "tolerances", "AP", "RP", "max",
                        "robot", "driver", "map", "simulate", "simulator", "workspace", "box",
                        "min", "faults", "kind", "x", "y", "z", "bogus", 0, 1])
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=6)), max_leaves=25)


@SETTINGS
@given(st.text(max_size=200))
def test_yaml_loader_only_raises_config_error(text: str) -> None:
    try:
        load_yaml_text(text, "x.yaml")
    except ConfigError:
        pass


@SETTINGS
@given(scalars, st.sampled_from(["mm", "s", "deg", "mm/s", "mm/s^2"]))
def test_parse_quantity_only_raises_unit_error(value: object, unit: str) -> None:
    try:
        out = parse_quantity(value, unit)
    except UnitError:
        return
    assert isinstance(out, float) and not math.isnan(out)


@SETTINGS
@given(st.lists(st.integers(-5, 70000), max_size=3), st.sampled_from(sorted(codec.TYPES)),
       st.sampled_from(codec.WORD_ORDERS))
def test_decode_only_raises_value_error(words: list[int], dtype: str, order: str) -> None:
    try:
        codec.decode(words, dtype, 0.1, order)
    except ValueError:
        pass


@SETTINGS
@given(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(sorted(codec.TYPES)),
       st.sampled_from([0.01, 0.1, 1.0]))
def test_encode_is_exact_or_refuses(value: float, dtype: str, scale: float) -> None:
    try:
        words = codec.encode(value, dtype, scale)
    except ValueError:
        return
    back = codec.decode(words, dtype, scale)
    tol = scale / 2 + 1e-9 if dtype != "float32" else abs(value) * 1e-6 + 1e-30
    assert abs(back - value) <= tol + abs(value) * 1e-12


def _load_allowing_config_error(kind: str, doc: object) -> None:
    """Write `doc` as YAML and load it as a map, scenario or lab: it loads or raises ConfigError
    (anything else propagates and fails the test)."""
    loader = {"map": load_map, "scenario": load_scenario, "lab": load_lab}[kind]
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "doc.yaml"
        p.write_text(yaml.safe_dump(doc))
        try:
            loader(str(p))
        except ConfigError:
            pass


@SETTINGS
@given(documents, st.sampled_from(["map", "scenario", "lab"]))
def test_loaders_only_raise_config_error(doc: object, kind: str) -> None:
    _load_allowing_config_error(kind, doc)


REPO = Path(__file__).resolve().parent.parent
REAL = {"map": REPO / "hardware/maps/native.yaml", "scenario": REPO / "bench/scenarios/iso9283.yaml",
        "lab": REPO / "hardware/sim.yaml"}


def _paths(doc: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


def _mutate(doc: object, path: tuple, value: object, delete: bool) -> object:
    if not path:
        return value
    doc = dict(doc) if isinstance(doc, dict) else list(doc)  # type: ignore[arg-type]
    head, rest = path[0], path[1:]
    if delete and not rest:
        del doc[head]
    else:
        doc[head] = _mutate(doc[head], rest, value, delete)
    return doc


@SETTINGS
@given(st.sampled_from(sorted(REAL)), st.data())
def test_mutated_real_files_load_or_raise_config_error(kind: str, data: st.DataObject) -> None:
    doc = yaml.safe_load(REAL[kind].read_text())
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    mutated = _mutate(doc, path, data.draw(documents), data.draw(st.booleans()))
    _load_allowing_config_error(kind, mutated)
