"""Modems behind Modbus TCP: 5G CPE routers that publish their link state in registers for PLCs.

Same mechanism as the robot driver: a YAML register map (`hardware/maps/modem-*.yaml`) names which
register holds which value, in which table, type, scale and word order (`drivers.modbus.regmap`
`Field` and the codec), read through `drivers.modbus.transport.ModbusLink` with its timeouts and
typed errors. Value tables translate RAT and state codes; a field's `invalid` raw value (e.g.
-32768) means "not available". Units: dBm / dB after scaling, like every LinkState.
Failure modes: ConfigError for a bad map (file, line, key), DeviceTimeout / DeviceFault /
DeviceError / ProtocolError from the link, ProtocolError for a code missing from a value table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from drivers.config import Section, load_yaml_file
from drivers.errors import ConfigError, DeviceError, ProtocolError
from drivers.modbus import codec
from drivers.modbus.fields import Field, block_reads, check_overlaps, read_defaults, read_field
from drivers.modbus.transport import ModbusSettings, ModbusLink
from drivers.modem.base import Modem
from drivers.modem.link import RATS, STATES, LinkState, ServingCell

#: semantic fields a modem map may define
KNOWN_FIELDS = {
    "rat": "overall RAT code (see rats:)", "state": "link state code (see states:)",
    "mcc": "mobile country code", "mnc": "mobile network code",
    "cell_id": "serving cell id (low 32 bits)", "cell_id_high": "cell id bits above 32 (NR: 4)",
    "pci": "physical cell id", "tac": "tracking area code", "arfcn": "(E/NR-)ARFCN",
    "band": "band number", "rsrp_dbm": "RSRP, dBm", "rsrq_db": "RSRQ, dB", "sinr_db": "SINR, dB",
    "rssi_dbm": "RSSI, dBm (read, not part of LinkState)",
}


@dataclass(frozen=True)
class ModemField:
    """A register map field plus its 'not available' raw value."""

    field: Field
    invalid: int | None = None


@dataclass(frozen=True)
class ModemMap:
    """A validated modem register map."""

    name: str
    source: str
    fields: dict[str, ModemField]
    rats: dict[int, str] = field(default_factory=dict)
    states: dict[int, str] = field(default_factory=dict)
    cell_rat: str = "NR5G"
    description: str = ""

    def has(self, name: str) -> bool:
        return name in self.fields


def _codes(sec: Section, key: str, allowed: tuple[str, ...]) -> dict[int, str]:
    table = sec.section(key, None)
    out: dict[int, str] = {}
    for code in table.keys():
        if not isinstance(code, int) or isinstance(code, bool):
            raise table.error(code, "codes must be integers")
        out[code] = table.get(code, str, choices=allowed)
    table.done()
    return out


def load_modem_map(path: str | Path) -> ModemMap:
    """Load and validate a modem register map. Raises ConfigError naming file, line and key."""
    src = str(path)
    top = Section(load_yaml_file(path), src)
    name = top.get("name", str)
    description = top.get("description", str, "")
    top.get("vendor_document", str, "")
    top.get("device", str, "")
    d = read_defaults(top, "int16")
    regs = top.section("registers")
    fields: dict[str, ModemField] = {}
    for key in regs.keys():
        if key not in KNOWN_FIELDS:
            raise regs.error(key, f"unknown field (known: {', '.join(KNOWN_FIELDS)})")
        s = regs.section(key)
        f = read_field(regs, s, key, d, scale=s.get("scale", float, d.scale), writable=False)
        invalid = s.get("invalid", int, None)
        s.get("unit", str, "")
        s.get("note", str, "")
        s.done()
        fields[key] = ModemField(f, invalid)
    check_overlaps(src, (m.field for m in fields.values()))
    rats = _codes(top, "rats", RATS)
    states = _codes(top, "states", STATES)
    cell_rat = top.get("cell_rat", str, "NR5G", choices=("LTE", "NR5G"))
    top.done()
    if "rat" in fields and not rats:
        raise ConfigError(f"{src}:{top.line}: rats: required when a rat register is mapped")
    if "state" in fields and not states:
        raise ConfigError(f"{src}:{top.line}: states: required when a state register is mapped")
    if not fields:
        raise ConfigError(f"{src}:{regs.line}: registers: at least one field is needed")
    return ModemMap(name, src, fields, rats, states, cell_rat, description)


def resolve_modem_map(name: str, base_dir: Path | None = None) -> Path:
    """A bare name (``modem-native``) is a built-in map in `hardware/maps/`, else a path."""
    from drivers.modbus.regmap import resolve_map
    return resolve_map(name, base_dir)


class ModbusModem(Modem):
    """A CPE router's link state read from its Modbus registers through a `ModemMap`."""

    def __init__(self, modem_map: ModemMap, settings: ModbusSettings) -> None:
        self.map = modem_map
        self.settings = settings
        self.name = f"modbus:{modem_map.name}@{settings.endpoint}"
        self._link: ModbusLink | None = None
        self._plan = block_reads(m.field for m in modem_map.fields.values())

    def connect(self) -> None:
        link = ModbusLink(self.settings)
        link.connect()
        self._link = link

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def read_values(self) -> dict[str, float | None]:
        """Every mapped field, scaled; None where the register holds the field's invalid value.

        Contiguous registers are read in one request per run, so one reading is consistent."""
        if self._link is None:
            raise DeviceError(f"{self.name}: not connected")
        out: dict[str, float | None] = {}
        for table, start, count, label, run in self._plan:
            words = self._link.read(table, start, count, label)
            for f in run:
                chunk = words[f.address - start:f.end - start]
                try:
                    raw = codec.decode(chunk, f.dtype, 1.0, f.word_order)
                except ValueError as exc:
                    raise ProtocolError(f"{self.name}: {f.name}: {exc}") from None
                inv = self.map.fields[f.name].invalid
                out[f.name] = None if inv is not None and raw == inv else raw * f.scale
        return out

    def read_link(self) -> LinkState:
        v = self.read_values()

        def code(name: str, table: dict[int, str], default: str) -> str:
            if v.get(name) is None:
                return default
            c = int(v[name])  # type: ignore[arg-type]
            if c not in table:
                raise ProtocolError(f"{self.name}: {name} register holds unknown code {c}")
            return table[c]

        rat = code("rat", self.map.rats, "")
        state = code("state", self.map.states, "connected" if rat else "searching")
        if not rat and state in ("searching", "limited"):
            return LinkState("", state, ())
        cid = None
        if v.get("cell_id") is not None:
            cid_val = int(v["cell_id"]) | (int(v.get("cell_id_high") or 0) << 32)  # type: ignore
            cid = f"{cid_val:X}"

        def num(name: str) -> int | None:
            return None if v.get(name) is None else int(v[name])  # type: ignore[arg-type]

        def text(name: str, width: int) -> str | None:
            n = num(name)
            return None if n is None else f"{n:0{width}d}"

        cell_rat = "LTE" if rat == "LTE" else self.map.cell_rat if rat else self.map.cell_rat
        band = num("band")
        cell = ServingCell(
            rat=cell_rat, mcc=text("mcc", 3), mnc=text("mnc", 2), cell_id=cid, pci=num("pci"),
            tac=None if num("tac") is None else f"{num('tac'):X}", arfcn=num("arfcn"),
            band=None if band is None else (f"n{band}" if cell_rat == "NR5G" else f"B{band}"),
            rsrp_dbm=_rounded(v.get("rsrp_dbm")), rsrq_db=_rounded(v.get("rsrq_db")),
            sinr_db=_rounded(v.get("sinr_db")))
        return LinkState(rat, state, (cell,))


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 3)
