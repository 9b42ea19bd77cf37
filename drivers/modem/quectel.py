"""Quectel (RM500Q/RM502Q/RM520N, RG500Q, EM12/EG12, EC2x/EG25, EC200x): ``AT+QENG="servingcell"``
in its three layouts, plus ``AT+QNWINFO``, ``AT+QRSRP`` and ``AT+QCSQ``.

Layouts of ``+QENG:`` (fields after the RAT name; `-` = not available, trailing fields may be
missing), from the RG50xQ/RM5xxQ AT commands manual as real captures confirm them (corpus in
tests/data/at-field/, docs/modem.md):
  LTE single line  "servingcell",<state>,"LTE",is_tdd,MCC,MNC,cellID,PCID,EARFCN,band,UL_bw,DL_bw,
                   TAC,RSRP,RSRQ,RSSI,SINR,CQI,tx_power,srxlev
  NR5G-SA          "servingcell",<state>,"NR5G-SA",duplex,MCC,MNC,cellID,PCID,TAC,ARFCN,band,
                   NR_DL_bw,RSRP,RSRQ,SINR,scs,srxlev
  EN-DC multi-line "servingcell",<state> / "LTE",is_tdd,MCC,... (as above) /
                   "NR5G-NSA",MCC,MNC,PCID,RSRP,SINR,RSRQ,ARFCN,band,NR_DL_bw,scs  (SINR before RSRQ)
Firmware differences seen in real replies: the multi-line form with no NR line (LTE only); early
RM500Q firmware prints ``+QENG:"NR5G-NSA"`` without a space, stops after RSRQ and prints the NR
SINR in 0.1 dB steps (libqmi PR #2: 180 while QMI reported 18.5 dB); RG500Q R13 firmware puts a
space before the SA MCC; RM520N pads the NR cell id to 9 hex digits.

One odd field becomes None with a warning in the reading (see drivers.modem.parse); only a reply
without a servingcell line, or with an unknown state or RAT, raises ATParseError.
"""
from __future__ import annotations

from typing import Callable

from drivers.modem.base import ATModem
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.parse import (LTE_ARFCN_MAX, LTE_CELL_BITS, LTE_PCI_MAX, NR_ARFCN_MAX,
                                 NR_CELL_BITS, NR_PCI_MAX, RSRP_RANGE, RSRQ_RANGE, RSSI_RANGE,
                                 SINR_RANGE, TAC_BITS, ATParseError, Warnings, band_name, field,
                                 odd, opt_digits, opt_float, opt_hex, opt_int, payloads, rows_of,
                                 split_fields)

STATES = {"SEARCH": "searching", "LIMSRV": "limited", "NOCONN": "idle", "CONNECT": "connected"}
#: raw LTE SINR value -> dB, by encoding name
LTE_SINR: dict[str, Callable[[float], float]] = {
    "dB": lambda v: v,                 # already in dB
    "2v-20": lambda v: 2.0 * v - 20.0,  # RM5xx manual: 1/5 * SINR * 10 - 20
    "v/5-20": lambda v: v / 5.0 - 20.0,  # 1/5 dB steps, 0..250 <-> -20..30 dB
}
#: inverse of LTE_SINR (dB -> raw), used by the simulator to print what a real module prints
LTE_SINR_RAW: dict[str, Callable[[float], float]] = {
    "dB": lambda db: db,
    "2v-20": lambda db: (db + 20.0) / 2.0,
    "v/5-20": lambda db: (db + 20.0) * 5.0,
}
#: The LTE SINR encoding of ``+QENG`` per model-name prefix (first match wins), each with the
#: evidence it rests on. A model not listed here gets DEFAULT_LTE_SINR and the reading says so.
MODEL_LTE_SINR: tuple[tuple[str, str, str], ...] = (
    ("RM500Q", "2v-20", "libqmi PR #2: RM500Q printed LTE SINR 25 while QMI reported 30.0 dB"),
    ("RM520N", "2v-20", "RM520N AT manual formula 1/5*SINR*10-20 as quoted by PI-5G-measurements "
                        "(shared/reference/protocols.md 4.2)"),
    ("RM5", "2v-20", "RG50xQ & RM5xxQ series AT commands manual (same formula as RM520N)"),
    ("RG5", "2v-20", "RG50xQ & RM5xxQ series AT commands manual (same formula as RM520N)"),
    ("EC200", "dB", "luci-app-3ginfo-lite #43: EC200T reporter, SINR needs no conversion"),
    ("QDC5", "dB", "QDC507 real-device note: +QENG LTE SINR -9 printed next to +QCSQ 55 "
                   "(= -9 dB on the 1/5 dB scale)"),
    ("EG2", "v/5-20", "Quectel 1/5 dB SINR scale (0..250 <-> -20..30 dB) of the LTE Standard "
                      "modules (Quectel forum, +QCSQ on EG21-G); not confirmed on +QENG"),
    ("EC2", "v/5-20", "as EG2x (same platform and manual); not confirmed on +QENG"),
    ("BG9", "v/5-20", "BG96 AT commands manual 6.18 (+QCSQ SINR in 1/5 dB)"),
)
DEFAULT_LTE_SINR = "2v-20"
NO_ANTENNA = -32768   # QRSRP/QENG sentinel: antenna not available


def lte_sinr_choice(model: str) -> tuple[str, str | None]:
    """(encoding, evidence) for a model name; evidence None when the model is not in the table."""
    for prefix, enc, evidence in MODEL_LTE_SINR:
        if model.upper().startswith(prefix):
            return enc, evidence
    return DEFAULT_LTE_SINR, None


def lte_sinr_for_model(model: str) -> str:
    """The LTE SINR encoding of a module, from its model name (e.g. ``RM520N-GL``)."""
    return lte_sinr_choice(model)[0]


def _signal(t: list[str], i: int, what: str, rng: tuple[float, float],
            warn: Warnings) -> float | None:
    return opt_float(t, i, what, lo=rng[0], hi=rng[1], invalid=(NO_ANTENNA,), warn=warn)


def _lte_cell(t: list[str], lte_sinr: str, warn: Warnings) -> ServingCell:
    """Fields after "LTE": is_tdd,MCC,MNC,cellID,PCID,EARFCN,band,UL_bw,DL_bw,TAC,RSRP,RSRQ,
    RSSI,SINR,..."""
    if field(t, 0) not in (None, "FDD", "TDD"):
        raise ATParseError(f"LTE line: duplex {t[0]!r} is not FDD or TDD")
    raw_sinr = opt_float(t, 13, "LTE SINR", lo=-1000, hi=1000, warn=warn)
    sinr = None if raw_sinr is None else LTE_SINR[lte_sinr](raw_sinr)
    if sinr is not None and not SINR_RANGE[0] <= sinr <= SINR_RANGE[1]:
        odd(warn, "LTE SINR", f"{t[13]} decodes ({lte_sinr}) to {sinr:g} dB, outside "
                              f"{SINR_RANGE[0]:g}..{SINR_RANGE[1]:g}")
        sinr = None
    return ServingCell(
        rat="LTE", mcc=opt_digits(t, 1, "LTE MCC", warn=warn),
        mnc=opt_digits(t, 2, "LTE MNC", warn=warn),
        cell_id=opt_hex(t, 3, "LTE cellID", LTE_CELL_BITS, warn),
        pci=opt_int(t, 4, "LTE PCID", lo=0, hi=LTE_PCI_MAX, warn=warn),
        arfcn=opt_int(t, 5, "LTE EARFCN", lo=0, hi=LTE_ARFCN_MAX, warn=warn),
        band=band_name("LTE", opt_int(t, 6, "LTE band", lo=1, hi=255, warn=warn)),
        tac=opt_hex(t, 9, "LTE TAC", TAC_BITS, warn),
        rsrp_dbm=_signal(t, 10, "LTE RSRP", RSRP_RANGE, warn),
        rsrq_db=_signal(t, 11, "LTE RSRQ", RSRQ_RANGE, warn),
        sinr_db=sinr)


def _sa_cell(t: list[str], warn: Warnings) -> ServingCell:
    """Fields after "NR5G-SA": duplex,MCC,MNC,cellID,PCID,TAC,ARFCN,band,NR_DL_bw,RSRP,RSRQ,
    SINR,scs,srxlev."""
    return ServingCell(
        rat="NR5G", mcc=opt_digits(t, 1, "NR5G-SA MCC", warn=warn),
        mnc=opt_digits(t, 2, "NR5G-SA MNC", warn=warn),
        cell_id=opt_hex(t, 3, "NR5G-SA cellID", NR_CELL_BITS, warn),
        pci=opt_int(t, 4, "NR5G-SA PCID", lo=0, hi=NR_PCI_MAX, warn=warn),
        tac=opt_hex(t, 5, "NR5G-SA TAC", TAC_BITS, warn),
        arfcn=opt_int(t, 6, "NR5G-SA ARFCN", lo=0, hi=NR_ARFCN_MAX, warn=warn),
        band=band_name("NR5G", opt_int(t, 7, "NR5G-SA band", lo=1, hi=1024, warn=warn)),
        rsrp_dbm=_signal(t, 9, "NR5G-SA RSRP", RSRP_RANGE, warn),
        rsrq_db=_signal(t, 10, "NR5G-SA RSRQ", RSRQ_RANGE, warn),
        sinr_db=_signal(t, 11, "NR5G-SA SINR", SINR_RANGE, warn))


def _nsa_cell(t: list[str], warn: Warnings) -> ServingCell:
    """Fields after "NR5G-NSA": MCC,MNC,PCID,RSRP,SINR,RSRQ,ARFCN,band,NR_DL_bw,scs."""
    return ServingCell(
        rat="NR5G", mcc=opt_digits(t, 0, "NR5G-NSA MCC", warn=warn),
        mnc=opt_digits(t, 1, "NR5G-NSA MNC", warn=warn),
        pci=opt_int(t, 2, "NR5G-NSA PCID", lo=0, hi=NR_PCI_MAX, warn=warn),
        rsrp_dbm=_signal(t, 3, "NR5G-NSA RSRP", RSRP_RANGE, warn),
        sinr_db=_signal(t, 4, "NR5G-NSA SINR", SINR_RANGE, warn),
        rsrq_db=_signal(t, 5, "NR5G-NSA RSRQ", RSRQ_RANGE, warn),
        arfcn=opt_int(t, 6, "NR5G-NSA ARFCN", lo=0, hi=NR_ARFCN_MAX, warn=warn),
        band=band_name("NR5G", opt_int(t, 7, "NR5G-NSA band", lo=1, hi=1024, warn=warn)))


def parse_servingcell(lines: list[str], lte_sinr: str | None = None, *,
                      model: str = "") -> LinkState:
    """Parse the reply lines of ``AT+QENG="servingcell"`` (any of the three layouts).

    `lte_sinr` names the LTE SINR encoding; None picks it from `model` (MODEL_LTE_SINR), and a
    model without evidence is read with DEFAULT_LTE_SINR and a note saying so. Lines that are not
    ``+QENG:`` lines, and ``+QENG:`` lines of an unknown RAT, are ignored. Odd fields become None
    with a warning. Raises ATParseError when there is no servingcell line, the state or RAT is
    unknown, or a camped state comes without any cell line.
    """
    notes: list[str] = []
    if lte_sinr is None:
        lte_sinr, evidence = lte_sinr_choice(model)
        if evidence is None:
            notes.append(f"LTE SINR: model {model or '(unknown)'!r} has no evidence entry; "
                         f"read as {lte_sinr}")
    if lte_sinr not in LTE_SINR:
        raise ATParseError(f"unknown LTE SINR encoding {lte_sinr!r}")
    warn: Warnings = []
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
    cells: list[ServingCell] = []
    if rat == "LTE":
        overall = "LTE"
        cells.append(_lte_cell(head[3:], lte_sinr, warn))
    elif rat == "NR5G-SA":
        overall = "NR5G-SA"
        cells.append(_sa_cell(head[3:], warn))
    elif rat is not None and len(head) > 3:
        raise ATParseError(f"servingcell line with unknown RAT {rat!r}")
    else:
        # multi-line EN-DC form: the RAT lines follow
        for row in rows[heads[0] + 1:]:
            kind = field(row, 0)
            if kind == "LTE":
                cells.append(_lte_cell(row[1:], lte_sinr, warn))
            elif kind == "NR5G-NSA":
                cells.append(_nsa_cell(row[1:], warn))
        has_nr = any(c.rat == "NR5G" for c in cells)
        overall = "NR5G-NSA" if has_nr or rat == "NR5G-NSA" else ("LTE" if cells else "")
        if not cells and state in ("idle", "connected"):
            raise ATParseError("servingcell reports a camped state but no LTE or NR5G-NSA line")
    if not any(c.rat == "LTE" for c in cells):      # the assumption only matters with an LTE cell
        notes = [n for n in notes if not n.startswith("LTE SINR")]
    return LinkState(overall, state, tuple(cells), tuple(warn), tuple(notes))


def parse_qnwinfo_all(lines: list[str], warn: Warnings | None = None
                      ) -> list[dict[str, str | int | None]]:
    """Every ``+QNWINFO: <act>,<oper>,<band>,<channel>`` line (EN-DC prints one per RAT) ->
    [{act, operator, band, channel}]. ``No Service`` gives act "No Service" and the rest None."""
    out: list[dict[str, str | int | None]] = []
    for t in rows_of(lines, "+QNWINFO:"):
        act = field(t, 0)
        if act is None:
            raise ATParseError("+QNWINFO: without an access technology")
        out.append({"act": act, "operator": field(t, 1), "band": field(t, 2),
                    "channel": opt_int(t, 3, "QNWINFO channel", lo=0, hi=NR_ARFCN_MAX,
                                       warn=warn)})
    return out


def parse_qnwinfo(lines: list[str], warn: Warnings | None = None) -> dict[str, str | int | None]:
    """The first ``+QNWINFO:`` line -> {act, operator, band, channel} (see parse_qnwinfo_all)."""
    return parse_qnwinfo_all(lines, warn)[0]


def parse_qrsrp(lines: list[str], warn: Warnings | None = None) -> dict[str, list[float | None]]:
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
        out[mode] = [opt_float(t, i, f"QRSRP {mode} port {i}", lo=RSRP_RANGE[0],
                               hi=RSRP_RANGE[1], invalid=(NO_ANTENNA,), warn=warn)
                     for i in range(len(t) - 1)]
    return out


#: +QCSQ field layout by system mode (RM5xx manual; RM520N NR5G-SA capture: RSRP,SINR,RSRQ
#: only, SINR in dB as in +QENG; BG96 manual 6.18 for the LTE-class modes, SINR in 1/5 dB)
QCSQ_LAYOUTS: dict[str, tuple[str, ...]] = {
    "NOSERVICE": (), "GSM": ("rssi",), "WCDMA": ("rssi", "rscp", "ecio"),
    "LTE": ("rssi", "rsrp", "sinr", "rsrq"), "CAT-M1": ("rssi", "rsrp", "sinr", "rsrq"),
    "CAT-NB1": ("rssi", "rsrp", "sinr", "rsrq"), "EMTC": ("rssi", "rsrp", "sinr", "rsrq"),
    "NBIOT": ("rssi", "rsrp", "sinr", "rsrq"), "NR5G": ("rsrp", "sinr", "rsrq"),
}


def parse_qcsq(lines: list[str], warn: Warnings | None = None
               ) -> list[dict[str, float | str | None]]:
    """``+QCSQ: "<sysmode>",...`` lines (EN-DC prints one per RAT) -> one dict per line with
    ``sysmode`` and the quantities its layout has: ``rssi_dbm``, ``rsrp_dbm``, ``rsrq_db``,
    ``sinr_db`` (NR5G: dB as printed; LTE-class modes: 1/5 dB steps, v/5-20).

    Some firmware prints the LTE RSSI without its minus sign (QDC507 capture: 85 for -85 dBm):
    that field is odd (None and a warning). An unknown sysmode raises ATParseError."""
    out: list[dict[str, float | str | None]] = []
    for t in rows_of(lines, "+QCSQ:"):
        mode = field(t, 0)
        if mode is None or mode.upper() not in QCSQ_LAYOUTS:
            raise ATParseError(f"+QCSQ: unknown sysmode {t[0]!r}")
        row: dict[str, float | str | None] = {"sysmode": mode}
        for i, kind in enumerate(QCSQ_LAYOUTS[mode.upper()], start=1):
            what = f"QCSQ {mode} {kind.upper()}"
            if kind == "rssi":
                row["rssi_dbm"] = opt_float(t, i, what, lo=RSSI_RANGE[0], hi=RSSI_RANGE[1],
                                            warn=warn)
            elif kind == "rsrp":
                row["rsrp_dbm"] = opt_float(t, i, what, lo=RSRP_RANGE[0], hi=RSRP_RANGE[1],
                                            warn=warn)
            elif kind == "rsrq":
                row["rsrq_db"] = opt_float(t, i, what, lo=RSRQ_RANGE[0], hi=RSRQ_RANGE[1],
                                           warn=warn)
            elif kind == "sinr" and mode.upper() == "NR5G":
                row["sinr_db"] = opt_float(t, i, what, lo=SINR_RANGE[0], hi=SINR_RANGE[1],
                                           warn=warn)
            elif kind == "sinr":
                raw = opt_float(t, i, what, lo=0, hi=250, warn=warn)
                row["sinr_db"] = None if raw is None else round(raw / 5.0 - 20.0, 3)
            else:
                row[f"{kind}_raw"] = opt_float(t, i, what, warn=warn)
        out.append(row)
    return out


class QuectelModem(ATModem):
    """Quectel: one ``AT+QENG="servingcell"`` per reading.

    Option ``lte_sinr``: "dB", "2v-20" or "v/5-20" (default: from the model, see MODEL_LTE_SINR;
    a model without evidence is read with the default and the reading's notes say so).
    """

    vendor = "quectel"
    OPTIONS = ("lte_sinr", "model")

    def _model(self) -> str:
        return str(self.options.get("model") or self.identity.get("model", ""))

    def lte_sinr(self) -> str:
        enc = self.options.get("lte_sinr")
        return str(enc) if enc else lte_sinr_for_model(self._model())

    def read_link(self) -> LinkState:
        enc = self.options.get("lte_sinr")
        lines = self.ask('AT+QENG="servingcell"')
        return parse_servingcell(lines, str(enc) if enc else None, model=self._model())
