"""Every shipped register map: loads, and each field round-trips negative, zero and boundary values;
out-of-range values are a clear error, never a silent wrap."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from drivers.errors import ConfigError
from drivers.modbus import codec
from drivers.modbus.regmap import load_map, resolve_map
from drivers.robot import ArmState

MAPS = ["native", "ur", "xarm", "igus_rebel", "iai_robocylinder"]


def _range(f):
    """Physical min/max a field can hold."""
    if f.dtype == "float32":
        return -1e6, 1e6
    lo, hi = codec._INT_RANGES[f.dtype]
    return lo * f.scale, hi * f.scale


@pytest.mark.parametrize("name", MAPS)
def test_every_field_round_trips_and_refuses_out_of_range(name: str) -> None:
    m = load_map(resolve_map(name))
    assert m.fields, name
    for f in m.fields.values():
        lo, hi = _range(f)
        values = [0.0, hi, lo, f.scale * 3]
        if lo < 0:
            values.append(-f.scale * 1234 if f.dtype != "float32" else -1234.5)
        for v in values:
            words = f.encode(v)
            assert len(words) == f.count and all(0 <= w <= 0xFFFF for w in words)
            back = f.decode(words)
            tol = 1e-6 * max(1.0, abs(v)) if f.dtype == "float32" else abs(f.scale) / 2 + 1e-9
            assert math.isclose(back, v, abs_tol=tol), (name, f.name, v, back)
        if f.dtype != "float32":
            with pytest.raises(ValueError, match="outside"):
                f.encode(hi + abs(f.scale))
            with pytest.raises(ValueError, match="outside"):
                f.encode(lo - abs(f.scale))
        with pytest.raises(ValueError):
            f.encode(float("nan"))


def test_vendor_scalings_match_the_documents() -> None:
    ur = load_map(resolve_map("ur"))
    assert ur["actual_x"].address == 400 and ur["actual_x"].encode(-123.4) == [64302]
    assert math.isclose(ur["actual_a"].scale, math.degrees(0.001))          # 1 mrad
    assert ur["joint_1"].address == 270 and ur["joint_1_turns"].address == 320
    assert ur["joint_1_turns"].decode([65535]) == -1                        # negative angle
    assert ur["joint_1"].encode(math.degrees(6.283)) == [6283]
    with pytest.raises(ValueError):
        ur["joint_1"].encode(-1.0)                                          # unsigned 0..6283
    assert 128 <= ur["sequence"].address <= 255 and ur.orientation == "rotation_vector"
    xarm = load_map(resolve_map("xarm"))
    assert xarm["actual_x"].table == "input" and xarm["actual_x"].address == 64
    assert xarm["actual_c"].address == 69 and xarm["actual_c"].encode(-12.3) == [65536 - 123]
    igus = load_map(resolve_map("igus_rebel"))
    assert igus["actual_x"].encode(-1234.56) == [7616, 65534]               # low word first
    iai = load_map(resolve_map("iai_robocylinder"))
    assert iai["actual_x"].address == 0x9000
    assert iai["actual_x"].encode(-1.0) == [0xFFFF, 0xFF9C]                 # high word first
    assert iai.decode_state(0x1008) is ArmState.ARRIVED                     # SV | PEND
    assert iai.decode_state(0x1408) is ArmState.FAULT                       # ALMH wins
    assert iai.decode_state(0x1000) is ArmState.MOVING


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.yaml"
    p.write_text(text)
    return p


def test_bad_scale_unit_names_file_line_and_field(tmp_path: Path) -> None:
    p = _write(tmp_path, "name: t\naxes: x\nregisters:\n  actual_x: {address: 0, scale: 0.1 deg}\n")
    with pytest.raises(ConfigError, match=r"m.yaml:4: registers.actual_x.scale: unit 'deg'"):
        load_map(p)


def test_reserved_block_overlapping_a_field_is_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, "name: t\naxes: x\nregisters:\n  actual_x: {address: 10}\n"
                         "reserved:\n  - {address: 8, count: 4}\n")
    with pytest.raises(ConfigError, match="reserved.0. overlaps registers.actual_x"):
        load_map(p)


def test_status_bits_rule_needs_a_known_state(tmp_path: Path) -> None:
    p = _write(tmp_path, "name: t\naxes: x\nregisters:\n  actual_x: {address: 0}\n"
                         "  status: {address: 4, type: uint16}\n"
                         "status_bits:\n  - {mask: 8, state: parked}\n")
    with pytest.raises(ConfigError, match=r"m.yaml:7: status_bits\[0\].state: 'parked'"):
        load_map(p)


def test_commands_without_a_command_register_are_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, "name: t\naxes: x\nregisters:\n  actual_x: {address: 0}\ncommands: {stop: 2}\n")
    with pytest.raises(ConfigError, match="need a `command` register"):
        load_map(p)
