"""Huawei 5G modules (Balong; MH5000 / MT5700 class): ``AT^HCSQ?`` and ``AT^MONSC``.

``^HCSQ: "LTE",<rssi>,<rsrp>,<sinr>,<rsrq>`` / ``^HCSQ: "NR",<rsrp>,<sinr>,<rsrq>`` are
index-encoded (255 = invalid): rsrp = -141 + v dBm, sinr = -20.2 + v/5 dB, rsrq = -20 + v/2 dB,
rssi = -121 + v dBm (ModemManager's Huawei plugin; community NR fixtures use the same scale).
``^MONSC:`` is in plain dBm / dB; its LTE and NR layouts differ:
  NR   ^MONSC: NR,<mcc>,<mnc>,<arfcn>,<scs>,<cellid hex>,<pci hex>,<tac hex>,<rsrp>,<rsrq>,<sinr>
  LTE  ^MONSC: LTE,<mcc>,<mnc>,<earfcn>,<cellid hex>,<pci>,<tac hex>,<rsrp>,<rsrq>,<rssi>
(the LTE layout has no SINR; its PCI is taken as decimal). Failure mode: ATParseError.
"""
from __future__ import annotations

from dataclasses import replace

from drivers.errors import DeviceFault
from drivers.modem.base import ATModem
from drivers.modem.generic import REG_STATE, parse_cgpaddr, read_registration
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.parse import (ATParseError, field, opt_digits, opt_float, opt_hex, opt_int,
                                 rows_of)

INVALID = 255
#: HCSQ index -> physical value, per quantity: (offset, step, max valid index)
HCSQ_SCALES = {"rssi": (-121.0, 1.0, 96), "rsrp": (-141.0, 1.0, 97),
               "sinr": (-20.2, 0.2, 251), "rsrq": (-20.0, 0.5, 34)}
#: HCSQ sysmode -> the quantities that follow, in order
HCSQ_LAYOUTS = {"LTE": ("rssi", "rsrp", "sinr", "rsrq"), "NR": ("rsrp", "sinr", "rsrq")}


def hcsq_decode(kind: str, index: int | None) -> float | None:
    """An HCSQ index -> dBm / dB (None for 255 or absent). ATParseError when out of range."""
    if index is None or index == INVALID:
        return None
    offset, step, top = HCSQ_SCALES[kind]
    if not 0 <= index <= top:
        raise ATParseError(f"^HCSQ {kind} index {index} is outside 0..{top} (255 = invalid)")
    return round(offset + step * index, 3)


def hcsq_encode(kind: str, value: float | None) -> int:
    """dBm / dB -> the HCSQ index a module would print (255 when None); clamps to the range."""
    if value is None:
        return INVALID
    offset, step, top = HCSQ_SCALES[kind]
    return max(0, min(top, round((value - offset) / step)))


def parse_hcsq(lines: list[str]) -> dict[str, float | str | None]:
    """``^HCSQ:`` -> {"sysmode", and rssi_dbm / rsrp_dbm / sinr_db / rsrq_db present in it}.

    ``^HCSQ: "NOSERVICE"`` gives only the sysmode. ATParseError when missing or out of range.
    """
    rows = rows_of(lines, "^HCSQ:")
    t = rows[0]
    mode = field(t, 0)
    if mode is None:
        raise ATParseError("^HCSQ: without a sysmode")
    out: dict[str, float | str | None] = {"sysmode": mode}
    units = {"rssi": "rssi_dbm", "rsrp": "rsrp_dbm", "sinr": "sinr_db", "rsrq": "rsrq_db"}
    for i, kind in enumerate(HCSQ_LAYOUTS.get(mode, ())):
        out[units[kind]] = hcsq_decode(kind, opt_int(t, i + 1, f"^HCSQ {kind}"))
    return out


def parse_monsc(lines: list[str]) -> ServingCell | None:
    """``^MONSC:`` -> the serving cell (None for ``^MONSC: NONE``). ATParseError otherwise."""
    rows = rows_of(lines, "^MONSC:")
    t = rows[0]
    rat = field(t, 0)
    if rat == "NR":
        return ServingCell(
            rat="NR5G", mcc=opt_digits(t, 1, "MCC"), mnc=opt_digits(t, 2, "MNC"),
            arfcn=opt_int(t, 3, "ARFCN", lo=0, hi=3279165),
            cell_id=opt_hex(t, 5, "NR cellid", 10),
            pci=opt_int(t, 6, "PCI", base=16, lo=0, hi=1007), tac=opt_hex(t, 7, "TAC", 6),
            rsrp_dbm=opt_float(t, 8, "RSRP", lo=-200, hi=0),
            rsrq_db=opt_float(t, 9, "RSRQ", lo=-100, hi=50),
            sinr_db=opt_float(t, 10, "SINR", lo=-50, hi=100))
    if rat == "LTE":
        return ServingCell(
            rat="LTE", mcc=opt_digits(t, 1, "MCC"), mnc=opt_digits(t, 2, "MNC"),
            arfcn=opt_int(t, 3, "EARFCN", lo=0, hi=262143),
            cell_id=opt_hex(t, 4, "LTE cellid", 10), pci=opt_int(t, 5, "PCI", lo=0, hi=503),
            tac=opt_hex(t, 6, "TAC", 6),
            rsrp_dbm=opt_float(t, 7, "RSRP", lo=-200, hi=0),
            rsrq_db=opt_float(t, 8, "RSRQ", lo=-100, hi=50))
    if rat in (None, "NONE", "NO SERVICE"):
        return None
    raise ATParseError(f"^MONSC: unknown RAT {rat!r}")


class HuaweiModem(ATModem):
    """Huawei: cell and signal from ``AT^MONSC``, the LTE SINR (absent there) from ``AT^HCSQ?``,
    the state from +C5GREG/+CEREG and +CGPADDR."""

    vendor = "huawei"

    def read_link(self) -> LinkState:
        cell = parse_monsc(self.ask("AT^MONSC"))
        reg = read_registration(self)
        if cell is None:
            state = REG_STATE.get(reg.stat, "searching") if reg else "searching"
            return LinkState("", state, ())
        if cell.rat == "LTE" and cell.sinr_db is None:
            hcsq = parse_hcsq(self.ask("AT^HCSQ?"))
            sinr = hcsq.get("sinr_db")
            if hcsq.get("sysmode") == "LTE" and isinstance(sinr, float):
                cell = replace(cell, sinr_db=sinr)
        rat = "NR5G-SA" if cell.rat == "NR5G" else "LTE"
        if reg is not None and reg.act == 13:
            rat = "NR5G-NSA"
        state = "idle"
        if reg is not None and not reg.registered:
            state = REG_STATE.get(reg.stat, "searching")
        else:
            try:
                if any(parse_cgpaddr(self.ask("AT+CGPADDR")).values()):
                    state = "connected"
            except DeviceFault:
                pass
        return LinkState(rat, state, (cell,))
