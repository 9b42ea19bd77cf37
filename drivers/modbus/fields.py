"""Register-map plumbing shared by the robot maps (`drivers.modbus.regmap`) and the modem maps
(`drivers.modem.modbus`): reading one field's placement from a map file, checking that fields do
not overlap, and planning block reads of contiguous registers.

Failure modes: ConfigError naming the map file, line and key for anything wrong in a map.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from drivers.config import Section
from drivers.errors import ConfigError
from drivers.modbus import codec

TABLES = ("holding", "input")


@dataclass(frozen=True, slots=True)
class Field:
    """One value in the register map. `scale`: engineering value = raw * scale."""

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
class FieldDefaults:
    """A map's `defaults:` section: what a field that does not say gets."""

    table: str = "holding"
    dtype: str = "float32"
    scale: float = 1.0
    word_order: str = "big"


def read_defaults(top: Section, default_type: str) -> FieldDefaults:
    """The `defaults:` section of a map (`table`, `type`, `scale`, `word_order`; all optional)."""
    d = top.section("defaults", None)
    out = FieldDefaults(table=d.get("table", str, "holding", choices=TABLES),
                        dtype=d.get("type", str, default_type, choices=codec.TYPES),
                        scale=d.get("scale", float, 1.0),
                        word_order=d.get("word_order", str, "big", choices=codec.WORD_ORDERS))
    d.done()
    return out


def read_field(regs: Section, s: Section, key: str, d: FieldDefaults, *, scale: float,
               writable: bool) -> Field:
    """The placement of field `key` (its section `s` of the `registers:` section `regs`):
    `address`, `table`, `type`, `word_order`; the caller reads `scale` and keys of its own.
    Checks that it lies within 0..65535 and that its scale is not 0."""
    f = Field(name=key, address=s.get("address", int),
              table=s.get("table", str, d.table, choices=TABLES),
              dtype=s.get("type", str, d.dtype, choices=codec.TYPES), scale=scale,
              word_order=s.get("word_order", str, d.word_order, choices=codec.WORD_ORDERS),
              writable=writable, line=s.line)
    if not 0 <= f.address or f.end > 65536:
        raise regs.error(key, f"address {f.address} (+{f.count} registers) is outside 0..65535")
    if f.scale == 0:
        raise regs.error(key, "scale must not be 0")
    return f


def check_overlaps(src: str, fields: Iterable[Field]) -> None:
    """ConfigError when two fields of one table share a register."""
    fields = list(fields)
    for table in TABLES:
        ordered = sorted((f for f in fields if f.table == table), key=lambda f: f.address)
        for prev, cur in zip(ordered, ordered[1:]):
            if cur.address < prev.end:
                raise ConfigError(
                    f"{src}:{cur.line}: registers.{cur.name}: {table} register {cur.address} "
                    f"overlaps {prev.name} ({prev.address}..{prev.end - 1})")


def spans(fields: list[Field]) -> list[list[Field]]:
    """Group fields of one table into runs of strictly contiguous registers (for block I/O)."""
    out: list[list[Field]] = []
    for f in sorted(fields, key=lambda f: f.address):
        if out and out[-1][-1].end == f.address:
            out[-1].append(f)
        else:
            out.append([f])
    return out


#: one block read: (table, first register, register count, label for errors, fields in it)
BlockRead = tuple[str, int, int, str, list[Field]]


def block_reads(fields: Iterable[Field]) -> list[BlockRead]:
    """The fewest requests that read `fields`: one per run of contiguous registers per table, so
    the values of one run come from one consistent reading of the device."""
    fields = list(fields)
    plan: list[BlockRead] = []
    for table in TABLES:
        for run in spans([f for f in fields if f.table == table]):
            start = run[0].address
            plan.append((table, start, run[-1].end - start, "/".join(f.name for f in run), run))
    return plan
