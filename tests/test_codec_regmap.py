"""Register codec and register-map validation."""
from __future__ import annotations

from pathlib import Path

import pytest

from drivers.errors import ConfigError
from drivers.modbus import codec
from drivers.modbus.regmap import load_map, resolve_map


@pytest.mark.parametrize("dtype,scale,value", [
    ("int16", 0.1, -3276.8), ("int16", 0.1, 3276.7), ("int16", 1, 0), ("uint16", 1, 65535),
    ("int32", 0.01, -21474836.48), ("uint32", 1, 4294967295), ("float32", 1, -123.5),
])
@pytest.mark.parametrize("order", ["big", "little"])
def test_round_trip_at_boundaries(dtype: str, scale: float, value: float, order: str) -> None:
    words = codec.encode(value, dtype, scale, order)
    assert len(words) == codec.register_count(dtype)
    assert codec.decode(words, dtype, scale, order) == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize("dtype,scale,value", [
    ("int16", 0.1, 3276.8), ("uint16", 1, -1), ("int32", 1, 2**31), ("uint16", 1, 65536),
])
def test_out_of_range_is_an_error_not_a_wrap(dtype: str, scale: float, value: float) -> None:
    with pytest.raises(ValueError, match="range"):
        codec.encode(value, dtype, scale)


def test_word_order() -> None:
    assert codec.encode(1, "int32", 1, "big") == [0, 1]
    assert codec.encode(1, "int32", 1, "little") == [1, 0]
    assert codec.decode([0xFFFF, 0xFFFE], "int32") == -2


def test_native_map_loads() -> None:
    m = load_map(resolve_map("native"))
    assert m["actual_x"].address == 0 and m["actual_x"].count == 2
    assert m["sequence"].address == 115 and m.commands["move"] == 1


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "map.yaml"
    p.write_text(text)
    return p


BASE = "name: t\nregisters:\n  actual_x: {address: 0}\n  actual_y: {address: 2}\n"


@pytest.mark.parametrize("extra,message", [
    ("  actual_z: {address: 3}\n", r"map.yaml:5: registers.actual_z: holding register 3 overlaps"),
    ("  actual_z: {address: 65535}\n", r"map.yaml:5: registers.actual_z: address 65535"),
    ("  actual_z: {adress: 4}\n", r"map.yaml:5: registers.actual_z.address: required key is missing \(found 'adress'"),
    ("  actual_z: {address: 4, type: int64}\n", r"registers.actual_z.type: 'int64' is not one of"),
    ("  bogus: {address: 40}\n", r"map.yaml:5: registers.bogus: unknown field"),
    ("  actual_z: {address: four}\n", r"registers.actual_z.address: expected an integer"),
])
def test_bad_maps_name_file_line_and_field(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_map(_write(tmp_path, BASE + extra))


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"map.yaml:4: YAML syntax error: .*at line 3"):
        load_map(_write(tmp_path, "name: t\nregisters:\n  actual_x: {address: 0\n"))


def test_unknown_builtin_map_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="built-in maps: .*native"):
        resolve_map("no-such-map")
