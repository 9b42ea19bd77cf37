"""Quectel RM500Q / RM502Q / RM520N: ``AT+QENG="servingcell"`` in its three layouts, plus
``AT+QNWINFO``, ``AT+QRSRP`` and ``AT+QCSQ``.

Layouts of ``+QENG:`` (fields after the RAT name; `-` = not available, trailing fields may be
missing):
  LTE single line  "servingcell",<state>,"LTE",is_tdd,MCC,MNC,cellID,PCID,EARFCN,band,UL_bw,DL_bw,
                   TAC,RSRP,RSRQ,RSSI,SINR,CQI,tx_power,srxlev
  NR5G-SA          "servingcell",<state>,"NR5G-SA",duplex,MCC,MNC,cellID,PCID,TAC,ARFCN,band,
                   NR_DL_bw,RSRP,RSRQ,SINR,scs,srxlev
  EN-DC multi-line "servingcell",<state> / "LTE",is_tdd,MCC,... (as above) /
                   "NR5G-NSA",MCC,MNC,PCID,RSRP,SINR,RSRQ,ARFCN,band,NR_DL_bw,scs  (SINR before RSRQ)
Some firmware prints the multi-line form with no NR line at all (LTE only).

LTE SINR is an encoded value whose conversion depends on the module generation: `LTE_SINR`
names the conversions, `MODEL_LTE_SINR` picks one per model (overridable in the lab file).
NR SINR is reported in dB. Failure mode: ATParseError for anything that does not fit.
"""
from __future__ import annotations

from typing import Callable

from drivers.modem.base import ATModem
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.parse import (ATParseError, band_name, field, opt_digits, opt_float, opt_hex,
                                 opt_int, payloads, rows_of, split_fields)

STATES = {"SEARCH": "searching", "LIMSRV": "limited", "NOCONN": "idle", "CONNECT": "connected"}
#: raw LTE SINR value -> dB, by encoding name
LTE_SINR: dict[str, Callable[[float], float]] = {
    "dB": lambda v: v,                 # already in dB
    "2v-20": lambda v: 2.0 * v - 20.0,  # RM520N manual: 1/5 * SINR * 10 - 20
    "v/5-20": lambda v: v / 5.0 - 20.0,  # older LTE modules (BG96/EG2x +QCSQ)
}
#: inverse of LTE_SINR (dB -> raw), used by the simulator to print what a real module prints
LTE_SINR_RAW: dict[str, Callable[[float], float]] = {
    "dB": lambda db: db,
    "2v-20": lambda db: (db + 20.0) / 2.0,
    "v/5-20": lambda db: (db + 20.0) * 5.0,
}
#: model-name prefix -> LTE SINR encoding (first match wins; default "2v-20")
MODEL_LTE_SINR: tuple[tuple[str, str], ...] = (
    ("RM5", "2v-20"), ("RG5", "2v-20"), ("EM1", "2v-20"),
    ("EG2", "v/5-20"), ("EC2", "v/5-20"), ("BG9", "v/5-20"),
)
NO_ANTENNA = -32768   # QRSRP/QENG sentinel: antenna not available


def lte_sinr_for_model(model: str) -> str:
    """The LTE SINR encoding of a module, from its model name (e.g. ``RM520N-GL``)."""
    for prefix, enc in MODEL_LTE_SINR:
        if model.upper().startswith(prefix):
            return enc
    return "2v-20"


def _lte_cell(t: list[str], lte_sinr: str) -> ServingCell:
    """Fields after "LTE": is_tdd,MCC,MNC,cellID,PCID,EARFCN,band,UL_bw,DL_bw,TAC,RSRP,RSRQ,
    RSSI,SINR,..."""
    if field(t, 0) not in (None, "FDD", "TDD"):
        raise ATParseError(f"LTE line: duplex {t[0]!r} is not FDD or TDD")
    raw_sinr = opt_float(t, 13, "LTE SINR", lo=-1000, hi=1000)
    return ServingCell(
        rat="LTE", mcc=opt_digits(t, 1, "MCC"), mnc=opt_digits(t, 2, "MNC"),
        cell_id=opt_hex(t, 3, "LTE cellID", 8), pci=opt_int(t, 4, "PCID", lo=0, hi=503),
        arfcn=opt_int(t, 5, "EARFCN", lo=0, hi=262143),
        band=band_name("LTE", opt_int(t, 6, "band", lo=1, hi=255)),
        tac=opt_hex(t, 9, "TAC", 6),
        rsrp_dbm=opt_float(t, 10, "RSRP", lo=-200, hi=0, invalid=(NO_ANTENNA,)),
        rsrq_db=opt_float(t, 11, "RSRQ", lo=-100, hi=50),
        sinr_db=None if raw_sinr is None else LTE_SINR[lte_sinr](raw_sinr))


def _sa_cell(t: list[str]) -> ServingCell:
    """Fields after "NR5G-SA": duplex,MCC,MNC,cellID,PCID,TAC,ARFCN,band,NR_DL_bw,RSRP,RSRQ,
    SINR,scs,srxlev."""
    return ServingCell(
        rat="NR5G", mcc=opt_digits(t, 1, "MCC"), mnc=opt_digits(t, 2, "MNC"),
        cell_id=opt_hex(t, 3, "NR cellID", 10), pci=opt_int(t, 4, "PCID", lo=0, hi=1007),
        tac=opt_hex(t, 5, "TAC", 6), arfcn=opt_int(t, 6, "ARFCN", lo=0, hi=3279165),
        band=band_name("NR5G", opt_int(t, 7, "band", lo=1, hi=1024)),
        rsrp_dbm=opt_float(t, 9, "RSRP", lo=-200, hi=0, invalid=(NO_ANTENNA,)),
        rsrq_db=opt_float(t, 10, "RSRQ", lo=-100, hi=50),
        sinr_db=opt_float(t, 11, "SINR", lo=-50, hi=100))


def _nsa_cell(t: list[str]) -> ServingCell:
    """Fields after "NR5G-NSA": MCC,MNC,PCID,RSRP,SINR,RSRQ,ARFCN,band,NR_DL_bw,scs."""
    return ServingCell(
        rat="NR5G", mcc=opt_digits(t, 0, "MCC"), mnc=opt_digits(t, 1, "MNC"),
        pci=opt_int(t, 2, "PCID", lo=0, hi=1007),
        rsrp_dbm=opt_float(t, 3, "RSRP", lo=-200, hi=0, invalid=(NO_ANTENNA,)),
        sinr_db=opt_float(t, 4, "SINR", lo=-50, hi=100),
        rsrq_db=opt_float(t, 5, "RSRQ", lo=-100, hi=50),
        arfcn=opt_int(t, 6, "ARFCN", lo=0, hi=3279165),
        band=band_name("NR5G", opt_int(t, 7, "band", lo=1, hi=1024)))


def parse_servingcell(lines: list[str], lte_sinr: str = "2v-20") -> LinkState:
    """Parse the reply lines of ``AT+QENG="servingcell"`` (any of the three layouts).

    Lines that are not ``+QENG:`` lines, and ``+QENG:`` lines of an unknown RAT, are ignored.
    Raises ATParseError when there is no servingcell line or a known line does not fit.
    """
    if lte_sinr not in LTE_SINR:
        raise ATParseError(f"unknown LTE SINR encoding {lte_sinr!r}")
    rows = [split_fields(p) for p in payloads(lines, "+QENG:")]
    heads = [i for i, r in enumerate(rows) if r and r[0] == "servingcell"]
    if not heads:
        raise ATParseError("no +QENG: \"servingcell\" line in the reply")
    head = rows[heads[0]]
    raw_state = field(head, 1)
    if raw_state not in STATES:
        raise ATParseError(f"servingcell state {raw_state!r} is not one of {', '.join(STATES)}")
    state = STATES[raw_state]
    rat = field(head, 2)
    if rat == "LTE":
        return LinkState("LTE", state, (_lte_cell(head[3:], lte_sinr),))
    if rat == "NR5G-SA":
        return LinkState("NR5G-SA", state, (_sa_cell(head[3:]),))
    if rat is not None and len(head) > 3:
        raise ATParseError(f"servingcell line with unknown RAT {rat!r}")
    # multi-line EN-DC form: the RAT lines follow
    cells: list[ServingCell] = []
    for row in rows[heads[0] + 1:]:
        kind = field(row, 0)
        if kind == "LTE":
            cells.append(_lte_cell(row[1:], lte_sinr))
        elif kind == "NR5G-NSA":
            cells.append(_nsa_cell(row[1:]))
    has_nr = any(c.rat == "NR5G" for c in cells)
    overall = "NR5G-NSA" if has_nr or rat == "NR5G-NSA" else ("LTE" if cells else "")
    if not cells and state in ("idle", "connected"):
        raise ATParseError("servingcell reports a camped state but no LTE or NR5G-NSA line")
    return LinkState(overall, state, tuple(cells))


def parse_qnwinfo(lines: list[str]) -> dict[str, str | int | None]:
    """``+QNWINFO: <act>,<oper>,<band>,<channel>`` -> {act, operator, band, channel}.

    ``No Service`` gives act "No Service" and the rest None. ATParseError when missing or bad.
    """
    rows = rows_of(lines, "+QNWINFO:")
    t = rows[0]
    act = field(t, 0)
    if act is None:
        raise ATParseError("+QNWINFO: without an access technology")
    return {"act": act, "operator": field(t, 1), "band": field(t, 2),
            "channel": opt_int(t, 3, "QNWINFO channel", lo=0, hi=3279165)}


def parse_qrsrp(lines: list[str]) -> dict[str, list[float | None]]:
    """``+QRSRP: <PRX>,<DRX>,<RX2>,<RX3>,<sysmode>`` (one line per RAT in EN-DC) ->
    {sysmode: [dBm per antenna port]}; -32768 (no antenna) becomes None."""
    rows = rows_of(lines, "+QRSRP:")
    out: dict[str, list[float | None]] = {}
    for t in rows:
        if len(t) < 2:
            raise ATParseError(f"+QRSRP: needs values and a sysmode, got {t!r}")
        mode = field(t, len(t) - 1)
        if mode is None or not mode.replace("-", "").isalnum():
            raise ATParseError(f"+QRSRP: bad sysmode {t[-1]!r}")
        out[mode] = [opt_float(t, i, "QRSRP", lo=-32768, hi=0, invalid=(NO_ANTENNA,))
                     for i in range(len(t) - 1)]
    return out


def parse_qcsq(lines: list[str]) -> dict[str, float | str | None]:
    """``+QCSQ: "<sysmode>",<rssi>,<rsrp>,<sinr>,<rsrq>`` (RM5xx) -> dict of dBm / dB values.

    The SINR here is printed as on the module; NOSERVICE gives only the sysmode."""
    rows = rows_of(lines, "+QCSQ:")
    t = rows[0]
    mode = field(t, 0)
    if mode is None:
        raise ATParseError("+QCSQ: without a sysmode")
    return {"sysmode": mode, "rssi_dbm": opt_float(t, 1, "QCSQ rssi", lo=-200, hi=0),
            "rsrp_dbm": opt_float(t, 2, "QCSQ rsrp", lo=-200, hi=0),
            "sinr": opt_float(t, 3, "QCSQ sinr", lo=-1000, hi=1000),
            "rsrq_db": opt_float(t, 4, "QCSQ rsrq", lo=-100, hi=50)}


class QuectelModem(ATModem):
    """Quectel RM5xx: one ``AT+QENG="servingcell"`` per reading.

    Option ``lte_sinr``: "dB", "2v-20" or "v/5-20" (default: from the model, see MODEL_LTE_SINR).
    """

    vendor = "quectel"
    OPTIONS = ("lte_sinr", "model")

    def lte_sinr(self) -> str:
        enc = self.options.get("lte_sinr")
        if enc:
            return str(enc)
        model = self.options.get("model") or self.identity.get("model", "")
        return lte_sinr_for_model(str(model))

    def read_link(self) -> LinkState:
        return parse_servingcell(self.ask('AT+QENG="servingcell"'), self.lte_sinr())
