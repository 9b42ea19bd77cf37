"""Register maps: which register holds which value, in which table, type, scale and word order.

A map is a YAML file (see `hardware/maps/`). Field names are the semantic names the robot driver
understands (`actual_x` ... `actual_c`, `target_x` ... `target_c`, `speed`, `command`, `sequence`,
`status`, `ack_seq`, `fault_code`, `heartbeat`, `joint_1` ... `joint_6` with optional revolution
counters `joint_1_turns` ...); value tables translate codes to meanings. Addresses are 0-based
protocol addresses. A field's `scale` is the physical value of one count, either a number in the
field's base unit (mm, deg, mm/s) or a quantity with its unit (``0.1 mm``, ``1 mrad``).

Map-level options: `orientation` (``fixed_xyz`` = a, b, c as the bench's `Pose`, or
``rotation_vector`` = rx, ry, rz of an axis-angle vector as Universal Robots report it),
`status_bits` (state from bits of a status word, first matching rule wins), `arrival` (how arrival
is detected when the map has no `ack_seq`), `reserved` (further register blocks the device has, so
simulators answer reads of them like the real controller).
Loading fails with ConfigError naming the file, line and field for unknown keys, bad types,
out-of-range or overlapping registers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drivers.config import Section, load_yaml_file
from drivers.errors import ConfigError
from drivers.modbus.fields import (TABLES, Field, check_overlaps, read_defaults,  # noqa: F401
                                   read_field, spans)
from drivers.robot import ArmState
from drivers.units import UnitError, parse_quantity

POSE_AXES = ("x", "y", "z", "a", "b", "c")
#: fields a map may define, with what they mean
KNOWN_FIELDS = {
    **{f"actual_{a}": "actual tool pose" for a in POSE_AXES},
    **{f"target_{a}": "commanded target pose" for a in POSE_AXES},
    "speed": "commanded speed, mm/s",
    "command": "command code register (see commands:)",
    "sequence": "command sequence number; writing it triggers the command",
    "status": "motion state code (see states:)",
    "ack_seq": "sequence number of the last accepted command",
    "fault_code": "controller fault code, 0 = none",
    "heartbeat": "counter the controller increments (liveness)",
    "positioning_band": "in-position band written with each move (the map's arrival.band), mm",
    **{f"joint_{i}": "joint angle, deg (within one turn when a turns counter is mapped)"
       for i in range(1, 7)},
    **{f"joint_{i}_turns": "joint revolution counter (signed turns)" for i in range(1, 7)},
}
ORIENTATIONS = ("fixed_xyz", "rotation_vector")


def base_unit(name: str) -> str | None:
    """The base unit of a field's physical value (None for plain counts and codes)."""
    if name.startswith(("actual_", "target_")):
        return "mm" if name[-1] in "xyz" else "deg"
    if name == "positioning_band":
        return "mm"
    if name.startswith("joint_"):
        return None if name.endswith("_turns") else "deg"
    return "mm/s" if name == "speed" else None


@dataclass(frozen=True, slots=True)
class StatusRule:
    """`state` applies when all bits of `mask` are set in the status word (mask 0 = always)."""

    mask: int
    state: ArmState


@dataclass(frozen=True, slots=True)
class Arrival:
    """Arrival detection for maps without `ack_seq`: after a move, the arm has arrived when the
    status (if mapped) says so, the pose is within `band_mm` of the target and moved less than
    `still_mm` over `reads` consecutive status reads."""

    band_mm: float = 5.0
    still_mm: float = 0.02
    reads: int = 3


@dataclass(frozen=True, slots=True)
class Block:
    """A further register block the device has (served by simulators, not used by the driver)."""

    table: str
    address: int
    count: int
    writable: bool


@dataclass(frozen=True)
class RegisterMap:
    """A validated register map."""

    name: str
    source: str
    fields: dict[str, Field]
    states: dict[int, ArmState] = field(default_factory=dict)
    commands: dict[str, int] = field(default_factory=dict)
    description: str = ""
    orientation: str = "fixed_xyz"
    status_bits: tuple[StatusRule, ...] = ()
    arrival: Arrival = field(default_factory=Arrival)
    reserved: tuple[Block, ...] = ()

    def has(self, name: str) -> bool:
        return name in self.fields

    def __getitem__(self, name: str) -> Field:
        return self.fields[name]

    def state_code(self, state: ArmState) -> int:
        """The code the map uses for `state` (KeyError if the map has none). For `status_bits`
        maps: the mask of the first rule for `state`."""
        for code, st in self.states.items():
            if st is state:
                return code
        for rule in self.status_bits:
            if rule.state is state:
                return rule.mask
        if self.status_bits:
            return 0
        raise KeyError(state.value)

    def decode_state(self, code: int) -> ArmState | None:
        """The state a status word means, or None for an unknown code."""
        if self.status_bits:
            for rule in self.status_bits:
                if code & rule.mask == rule.mask:
                    return rule.state
            return None
        return self.states.get(code)

    @property
    def has_status_codes(self) -> bool:
        return bool(self.states or self.status_bits)


def trigger_field(regmap: RegisterMap, by_target: bool = False) -> Field:
    """The register whose write executes a command: `sequence`, else `command`, else (and for
    moves of maps whose controller moves as soon as the target is written: `by_target`) the first
    target register. Raises ConfigError for a map with none of them."""
    names = ("sequence",) + (() if by_target else ("command",)) + tuple(
        f"target_{a}" for a in POSE_AXES)
    for name in names:
        if regmap.has(name):
            return regmap[name]
    raise ConfigError(f"{regmap.source}: map {regmap.name!r} has no command or target register")


def load_map(path: str | Path) -> RegisterMap:
    """Load and validate a register map file. Raises ConfigError on any problem."""
    src = str(path)
    top = Section(load_yaml_file(path), src)
    name = top.get("name", str)
    description = top.get("description", str, "")
    top.get("vendor_document", str, "")
    d = read_defaults(top, "float32")
    axes = top.get("axes", str, "xyz", choices=("xyz", "x"))
    regs = top.section("registers")
    fields: dict[str, Field] = {}
    for key in regs.keys():
        if key not in KNOWN_FIELDS:
            raise regs.error(key, f"unknown field (known: {', '.join(KNOWN_FIELDS)})")
        s = regs.section(key)
        f = read_field(regs, s, key, d, scale=_scale(s, key, d.scale),
                       writable=s.get("writable", bool, key.startswith("target_") or key in
                                      {"speed", "command", "sequence", "positioning_band"}))
        s.get("unit", str, "")
        s.get("note", str, "")
        s.done()
        if f.writable and f.table == "input":
            raise regs.error(key, "input registers are read-only; a writable field must be holding")
        fields[key] = f
    check_overlaps(src, fields.values())
    # a single-axis actuator (`axes: x`) maps only x; an arm needs x, y and z
    for need in (f"actual_{a}" for a in axes):
        if need not in fields:
            raise ConfigError(f"{src}:{regs.line}: registers: {need} is required")

    orientation = top.get("orientation", str, "fixed_xyz", choices=ORIENTATIONS)
    status_bits = _status_bits(top)
    arrival = _arrival(top.section("arrival", None))
    reserved = _reserved(top)
    for i, b in enumerate(reserved):
        for f in fields.values():
            if f.table == b.table and f.address < b.address + b.count and b.address < f.end:
                raise ConfigError(f"{src}:{f.line}: reserved[{i}] overlaps registers.{f.name}")
    for i in range(1, 7):
        if f"joint_{i}_turns" in fields and f"joint_{i}" not in fields:
            raise regs.error(f"joint_{i}_turns", f"needs joint_{i}")

    states = {}
    st = top.section("states", None)
    for key in st.keys():
        if not isinstance(key, int) or isinstance(key, bool):
            raise st.error(key, "state codes must be integers")
        states[key] = ArmState(st.get(key, str, choices=[s.value for s in ArmState]))
    cmds = top.section("commands", None)
    commands = {}
    for key in cmds.keys():
        if key not in ("move", "stop", "reset"):
            raise cmds.error(key, "unknown command (known: move, stop, reset)")
        commands[key] = cmds.get(key, int)
    top.done()
    if states and status_bits:
        raise ConfigError(f"{src}:{top.line}: states and status_bits: give one, not both")
    if "status" in fields and not (states or status_bits):
        raise ConfigError(f"{src}:{top.line}: states: required when a status register is mapped "
                          f"(or status_bits)")
    if commands and "command" not in fields:
        raise ConfigError(f"{src}:{cmds.line}: commands: need a `command` register")
    return RegisterMap(name=name, source=src, fields=fields, states=states,
                       commands=commands, description=description, orientation=orientation,
                       status_bits=status_bits, arrival=arrival, reserved=reserved)


def _scale(s: Section, key: str, default: float) -> float:
    unit = base_unit(key)
    if unit is None:
        return s.get("scale", float, default)
    value = s.raw("scale", default)
    try:
        return parse_quantity(value, unit)
    except UnitError as exc:
        raise s.error("scale", str(exc)) from None


def _status_bits(top: Section) -> tuple[StatusRule, ...]:
    rules = []
    items = top.sequence("status_bits", [])
    lines = getattr(items, "item_lines", [top.line] * len(items))
    for i, item in enumerate(items):
        s = Section(item, top.source, f"status_bits[{i}]", lines[i])
        mask = s.get("mask", int)
        if not 0 <= mask <= 0xFFFF:
            raise s.error("mask", "must be 0..0xFFFF")
        state = ArmState(s.get("state", str, choices=[st.value for st in ArmState]))
        s.get("note", str, "")
        s.done()
        rules.append(StatusRule(mask, state))
    return tuple(rules)


def _arrival(s: Section) -> Arrival:
    d = Arrival()
    out = Arrival(band_mm=s.quantity("band", "mm", d.band_mm, min=0.0),
                  still_mm=s.quantity("still", "mm", d.still_mm, min=0.0),
                  reads=s.get("reads", int, d.reads))
    if not 1 <= out.reads <= 100:
        raise s.error("reads", "must be 1..100")
    s.done()
    return out


def _reserved(top: Section) -> tuple[Block, ...]:
    blocks = []
    items = top.sequence("reserved", [])
    lines = getattr(items, "item_lines", [top.line] * len(items))
    for i, item in enumerate(items):
        s = Section(item, top.source, f"reserved[{i}]", lines[i])
        b = Block(table=s.get("table", str, "holding", choices=TABLES),
                  address=s.get("address", int), count=s.get("count", int, 1),
                  writable=s.get("writable", bool, False))
        s.get("note", str, "")
        s.done()
        if not (0 <= b.address and 1 <= b.count and b.address + b.count <= 65536):
            raise s.error("address", "block must lie within 0..65535")
        blocks.append(b)
    return tuple(blocks)


def resolve_map(name: str, base_dir: Path | None = None) -> Path:
    """Find a register map: a bare name (``native``, ``ur``) is a built-in map in
    `hardware/maps/` (installed as `drivers.data.maps`); anything else is a path, relative to
    `base_dir` (the lab file's folder). Raises ConfigError listing the built-in maps when a bare
    name is unknown."""
    if "/" not in name and not name.endswith((".yaml", ".yml")):
        from drivers.data import data_dir
        builtin = data_dir("maps")
        candidate = builtin / f"{name}.yaml"
        if candidate.is_file():
            return candidate
        known = sorted(p.name.removesuffix(".yaml") for p in builtin.iterdir()
                       if p.name.endswith(".yaml"))
        raise ConfigError(f"unknown register map {name!r} (built-in maps: {', '.join(known)}; "
                          f"or give a path to a .yaml file)")
    path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path
