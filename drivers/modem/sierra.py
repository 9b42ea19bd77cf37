"""Sierra Wireless (EM7455/EM7565 LTE, EM919x 5G): ``AT!GSTATUS?``, a key/value block parsed by
label.

The block is free-form text: several ``Label: value`` pairs per line, separated by tabs or runs of
spaces, e.g. ``System mode:   NR5G\tPS state:  Attached`` and ``NR5G RSRP (dBm): -111``. Labels are
looked up by name, never by position, so extra or reordered lines do not matter. Real blocks
(corpus: luci-app-3ginfo-lite #37 DW5811e/EM7455, openwrt/packages #10565 EM7455, modemfeed #30
EM9191 ENDC) differ by firmware: EM7455 labels the RSRP of both antennas ``RSRP (dBm)``, EM919x
prints ``PCC RxM RSRP``; values may carry a decimal twin (``TAC: D5AC (54700)``); `---` = none.
Failure mode: ATParseError when there is no recognisable ``System mode``; an odd value is None
with a warning.
"""
from __future__ import annotations

import re

from drivers.modem.base import ATModem
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.parse import (LTE_ARFCN_MAX, LTE_CELL_BITS, NOT_AVAILABLE, NR_ARFCN_MAX,
                                 NR_CELL_BITS, NR_PCI_MAX, RSRP_RANGE, RSRQ_RANGE, SINR_RANGE,
                                 TAC_BITS, ATParseError, Warnings, hex_text, odd, opt_int,
                                 to_float)

_PAIR = re.compile(r"([A-Za-z][A-Za-z0-9 ()/._+-]*?):[ \t]*([^\t]*?)(?=\t|  +[A-Za-z]|$)")
#: System mode text -> overall RAT
MODES = {"LTE": "LTE", "NR5G": "NR5G-SA", "NR5G SA": "NR5G-SA", "ENDC": "NR5G-NSA",
         "EN-DC": "NR5G-NSA", "NR5G NSA": "NR5G-NSA"}
NO_SERVICE = ("NONE", "NO SERVICE", "NOSERVICE", "LIMITED SERVICE")


def parse_pairs(lines: list[str]) -> dict[str, str]:
    """All ``label: value`` pairs of the block (labels case-folded, first occurrence wins)."""
    out: dict[str, str] = {}
    for line in lines:
        text = line.strip()
        if text.startswith("!GSTATUS:"):
            text = text[len("!GSTATUS:"):]
        for m in _PAIR.finditer(text):
            key = " ".join(m.group(1).split()).casefold()
            out.setdefault(key, m.group(2).strip())
    return out


def _raw(pairs: dict[str, str], *labels: str) -> tuple[str, str] | None:
    """(label, first word of the value) of the first label present with a value."""
    for label in labels:
        raw = pairs.get(label.casefold())
        if raw is not None and raw.split() and raw.split()[0] not in NOT_AVAILABLE:
            return label, raw.split()[0]
    return None


def _num(pairs: dict[str, str], labels: tuple[str, ...], rng: tuple[float, float],
         warn: Warnings) -> float | None:
    found = _raw(pairs, *labels)
    if found is None:
        return None
    return to_float(found[1], f"!GSTATUS {found[0]}", lo=rng[0], hi=rng[1], warn=warn)


def _int(pairs: dict[str, str], label: str, hi: int, warn: Warnings) -> int | None:
    found = _raw(pairs, label)
    if found is None:
        return None
    return opt_int([found[1]], 0, f"!GSTATUS {label}", lo=0, hi=hi, warn=warn)


def _hex(pairs: dict[str, str], labels: tuple[str, ...], bits: int,
         warn: Warnings) -> str | None:
    found = _raw(pairs, *labels)
    return None if found is None else hex_text(found[1], f"!GSTATUS {found[0]}", bits, warn)


def _band(pairs: dict[str, str], label: str, rat: str, warn: Warnings) -> str | None:
    found = _raw(pairs, label)
    if found is None:
        return None
    digits = found[1].lstrip("BbNn")
    if not digits.isdigit() or not digits.isascii():
        odd(warn, f"!GSTATUS {label}", f"{found[1]!r} is not a band")
        return None
    return f"n{int(digits)}" if rat == "NR5G" else f"B{int(digits)}"


def _plmn(pairs: dict[str, str], warn: Warnings) -> tuple[str | None, str | None]:
    """``NR5G MCC-MNC: 310-260`` -> ("310", "260")."""
    found = _raw(pairs, "NR5G MCC-MNC")
    if found is None:
        return None, None
    parts = found[1].split("-")
    if len(parts) != 2 or not all(x.isdigit() and x.isascii() and len(x) <= 3 for x in parts):
        odd(warn, "!GSTATUS NR5G MCC-MNC", f"{found[1]!r} is not MCC-MNC")
        return None, None
    return parts[0], parts[1]


def parse_gstatus(lines: list[str]) -> LinkState:
    """``AT!GSTATUS?`` reply -> LinkState (LTE and/or NR5G cells, whichever the mode has).

    Fields filled from the labels the EM74xx/EM75xx/EM919x blocks print: LTE band, ``LTE Rx
    chan`` (EARFCN), Cell ID, TAC, PCC RxM RSRP (or the first ``RSRP (dBm)``), RSRQ, SINR; NR5G
    band, ``NR5G Rx chan`` (NR-ARFCN), NR5G Cell ID, NR5G TAC, NR5G MCC-MNC, NR5G PCI, RSRP, RSRQ,
    SINR; state from ``RRC state`` (else ``PS state``). ATParseError only without a known
    ``System mode``; an odd value becomes None with a warning.
    """
    warn: Warnings = []
    pairs = parse_pairs(lines)
    mode_raw = pairs.get("system mode")
    if mode_raw is None:
        raise ATParseError("!GSTATUS: no 'System mode' label in the reply")
    mode = " ".join(mode_raw.split()).upper()
    if mode in NO_SERVICE:
        return LinkState("", "searching" if mode != "LIMITED SERVICE" else "limited", ())
    if mode not in MODES:
        raise ATParseError(f"!GSTATUS: unknown System mode {mode_raw!r}")
    rat = MODES[mode]
    cells: list[ServingCell] = []
    if rat in ("LTE", "NR5G-NSA"):
        cells.append(ServingCell(
            rat="LTE", band=_band(pairs, "LTE band", "LTE", warn),
            arfcn=_int(pairs, "LTE Rx chan", LTE_ARFCN_MAX, warn),
            cell_id=_hex(pairs, ("Cell ID", "LTE Cell ID"), LTE_CELL_BITS, warn),
            tac=_hex(pairs, ("TAC", "LTE TAC"), TAC_BITS, warn),
            rsrp_dbm=_num(pairs, ("PCC RxM RSRP", "RSRP (dBm)", "PCC RxD RSRP"), RSRP_RANGE,
                          warn),
            rsrq_db=_num(pairs, ("RSRQ (dB)",), RSRQ_RANGE, warn),
            sinr_db=_num(pairs, ("SINR (dB)",), SINR_RANGE, warn)))
    if rat in ("NR5G-SA", "NR5G-NSA"):
        mcc, mnc = _plmn(pairs, warn)
        cells.append(ServingCell(
            rat="NR5G", mcc=mcc, mnc=mnc, band=_band(pairs, "NR5G band", "NR5G", warn),
            arfcn=_int(pairs, "NR5G Rx chan", NR_ARFCN_MAX, warn),
            pci=_int(pairs, "NR5G PCI", NR_PCI_MAX, warn),
            cell_id=_hex(pairs, ("NR5G Cell ID",), NR_CELL_BITS, warn),
            tac=_hex(pairs, ("NR5G TAC",), TAC_BITS, warn),
            rsrp_dbm=_num(pairs, ("NR5G RSRP (dBm)",), RSRP_RANGE, warn),
            rsrq_db=_num(pairs, ("NR5G RSRQ (dB)",), RSRQ_RANGE, warn),
            sinr_db=_num(pairs, ("NR5G SINR (dB)",), SINR_RANGE, warn)))
    # RRC state says connected/idle when the firmware prints it; otherwise an attached PS domain
    # is the nearest thing to "connected" the block offers
    ps = ((_raw(pairs, "PS state") or ("", ""))[1]).casefold()
    rrc = " ".join((pairs.get("rrc state") or "").split()).casefold()
    if rrc:
        state = "connected" if rrc in ("rrc connected", "connected") else "idle"
    else:
        state = "connected" if ps.startswith("attached") else "limited"
    return LinkState(rat, state, tuple(cells), tuple(warn))


class SierraModem(ATModem):
    """Sierra Wireless: one ``AT!GSTATUS?`` per reading."""

    vendor = "sierra"

    def read_link(self) -> LinkState:
        return parse_gstatus(self.ask("AT!GSTATUS?"))
