"""Register maps: which register holds which value, in which table, type, scale and word order.

A map is a YAML file (see `hardware/maps/`). Field names are the semantic names the robot driver
understands (`actual_x` ... `actual_c`, `target_x` ... `target_c`, `speed`, `command`, `sequence`,
`status`, `ack_seq`, `fault_code`, `heartbeat`); value tables translate codes to meanings.
Addresses are 0-based protocol addresses. Loading fails with ConfigError naming the file, line and
field for unknown keys, bad types, out-of-range or overlapping registers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drivers.config import Section, load_yaml_file
from drivers.errors import ConfigError
from drivers.modbus import codec
from drivers.robot import ArmState

TABLES = ("holding", "input")
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
}


@dataclass(frozen=True, slots=True)
class Field:
    """One value in the register space."""

    name: str
    address: int
    table: str = "holding"
    dtype: str = "float32"
    scale: float = 1.0
    word_order: str = "big"
    writable: bool = False
    line: int = 0

    @property
    def count(self) -> int:
        return codec.register_count(self.dtype)

    @property
    def end(self) -> int:
        """One past the last register."""
        return self.address + self.count

    def encode(self, value: float) -> list[int]:
        return codec.encode(value, self.dtype, self.scale, self.word_order)

    def decode(self, words: list[int]) -> float:
        return codec.decode(words, self.dtype, self.scale, self.word_order)


@dataclass(frozen=True)
class RegisterMap:
    """A validated register map."""

    name: str
    source: str
    fields: dict[str, Field]
    states: dict[int, ArmState] = field(default_factory=dict)
    commands: dict[str, int] = field(default_factory=dict)
    description: str = ""

    def has(self, name: str) -> bool:
        return name in self.fields

    def __getitem__(self, name: str) -> Field:
        return self.fields[name]

    def state_code(self, state: ArmState) -> int:
        """The code the map uses for `state` (KeyError if the map has none)."""
        for code, st in self.states.items():
            if st is state:
                return code
        raise KeyError(state.value)


def spans(fields: list[Field]) -> list[list[Field]]:
    """Group fields of one table into runs of strictly contiguous registers (for block I/O)."""
    out: list[list[Field]] = []
    for f in sorted(fields, key=lambda f: f.address):
        if out and out[-1][-1].end == f.address:
            out[-1].append(f)
        else:
            out.append([f])
    return out


def load_map(path: str | Path) -> RegisterMap:
    """Load and validate a register map file. Raises ConfigError on any problem."""
    src = str(path)
    top = Section(load_yaml_file(path), src)
    name = top.get("name", str)
    description = top.get("description", str, "")
    top.get("vendor_document", str, "")
    defaults = top.section("defaults", None)
    d_table = defaults.get("table", str, "holding", choices=TABLES)
    d_type = defaults.get("type", str, "float32", choices=codec.TYPES)
    d_scale = defaults.get("scale", float, 1.0)
    d_order = defaults.get("word_order", str, "big", choices=codec.WORD_ORDERS)
    defaults.done()

    regs = top.section("registers")
    fields: dict[str, Field] = {}
    for key in regs.keys():
        if key not in KNOWN_FIELDS:
            raise regs.error(key, f"unknown field (known: {', '.join(KNOWN_FIELDS)})")
        s = regs.section(key)
        address = s.get("address", int)
        f = Field(
            name=key,
            address=address,
            table=s.get("table", str, d_table, choices=TABLES),
            dtype=s.get("type", str, d_type, choices=codec.TYPES),
            scale=s.get("scale", float, d_scale),
            word_order=s.get("word_order", str, d_order, choices=codec.WORD_ORDERS),
            writable=s.get("writable", bool, key.startswith("target_") or key in
                           {"speed", "command", "sequence"}),
            line=s.line,
        )
        s.get("unit", str, "")
        s.get("note", str, "")
        s.done()
        if not 0 <= address or f.end > 65536:
            raise regs.error(key, f"address {address} (+{f.count} registers) is outside 0..65535")
        if f.scale == 0:
            raise regs.error(key, "scale must not be 0")
        if f.writable and f.table == "input":
            raise regs.error(key, "input registers are read-only; a writable field must be holding")
        fields[key] = f
    _check_overlaps(src, fields)
    for need in ("actual_x", "actual_y", "actual_z"):
        if need not in fields:
            raise ConfigError(f"{src}:{regs.line}: registers: {need} is required")

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
    if "status" in fields and not states:
        raise ConfigError(f"{src}:{top.line}: states: required when a status register is mapped")
    return RegisterMap(name=name, source=src, fields=fields, states=states,
                       commands=commands, description=description)


def _check_overlaps(src: str, fields: dict[str, Field]) -> None:
    for table in TABLES:
        ordered = sorted((f for f in fields.values() if f.table == table), key=lambda f: f.address)
        for prev, cur in zip(ordered, ordered[1:]):
            if cur.address < prev.end:
                raise ConfigError(
                    f"{src}:{cur.line}: registers.{cur.name}: {table} register {cur.address} "
                    f"overlaps {prev.name} ({prev.address}..{prev.end - 1})")


def resolve_map(name: str, base_dir: Path | None = None) -> Path:
    """Find a register map: a bare name (``native``, ``ur``) is a built-in map in
    `hardware/maps/`; anything else is a path, relative to `base_dir` (the lab file's folder).
    Raises ConfigError listing the built-in maps when a bare name is unknown."""
    if "/" not in name and not name.endswith((".yaml", ".yml")):
        from importlib.resources import files
        builtin = files("hardware") / "maps"
        candidate = builtin / f"{name}.yaml"
        if candidate.is_file():
            return Path(str(candidate))
        known = sorted(p.name.removesuffix(".yaml") for p in builtin.iterdir()
                       if p.name.endswith(".yaml"))
        raise ConfigError(f"unknown register map {name!r} (built-in maps: {', '.join(known)}; "
                          f"or give a path to a .yaml file)")
    path = Path(name)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path
