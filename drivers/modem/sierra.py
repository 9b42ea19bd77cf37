"""Sierra Wireless (EM9190 and kin): ``AT!GSTATUS?``, a key/value block parsed by label.

The block is free-form text: several ``Label: value`` pairs per line, separated by tabs or runs of
spaces, e.g. ``System mode:   NR5G\tPS state:  Attached`` and ``NR5G RSRP (dBm): -111``. Labels are
looked up by name, never by position, so extra or reordered lines do not matter.
Failure mode: ATParseError when there is no recognisable ``System mode`` or a value is not a number.
"""
from __future__ import annotations

import re

from drivers.modem.base import ATModem
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.parse import ATParseError, hex_text, to_float

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


def _num(pairs: dict[str, str], labels: tuple[str, ...], lo: float, hi: float) -> float | None:
    for label in labels:
        raw = pairs.get(label.casefold())
        if raw is None or raw in ("", "-", "---"):
            continue
        token = raw.split()[0]
        return to_float(token, f"!GSTATUS {label}", lo=lo, hi=hi)
    return None


def _text(pairs: dict[str, str], *labels: str) -> str | None:
    for label in labels:
        raw = pairs.get(label.casefold())
        if raw not in (None, "", "-", "---"):
            return raw.split()[0]
    return None


def _band(raw: str | None, rat: str) -> str | None:
    if raw is None:
        return None
    digits = raw.lstrip("BbNn").split()[0] if raw.lstrip("BbNn") else ""
    if not digits.isdigit() or not digits.isascii():
        raise ATParseError(f"!GSTATUS band {raw!r} is not a band number")
    return f"n{int(digits)}" if rat == "NR5G" else f"B{int(digits)}"


def parse_gstatus(lines: list[str]) -> LinkState:
    """``AT!GSTATUS?`` reply -> LinkState (LTE and/or NR5G cells, whichever are reported)."""
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
        cid = _text(pairs, "Cell ID", "LTE Cell ID")
        tac = _text(pairs, "TAC", "LTE TAC")
        cells.append(ServingCell(
            rat="LTE", band=_band(_text(pairs, "LTE band"), "LTE"),
            cell_id=hex_text(cid, "!GSTATUS Cell ID", 10) if cid else None,
            tac=hex_text(tac, "!GSTATUS TAC", 6) if tac else None,
            rsrp_dbm=_num(pairs, ("PCC RxM RSRP", "RSRP (dBm)", "PCC RxD RSRP"), -200, 0),
            rsrq_db=_num(pairs, ("RSRQ (dB)",), -100, 50),
            sinr_db=_num(pairs, ("SINR (dB)",), -50, 100)))
    if rat in ("NR5G-SA", "NR5G-NSA"):
        pci = _num(pairs, ("NR5G PCI",), 0, 1007)
        cid = _text(pairs, "NR5G Cell ID")
        cells.append(ServingCell(
            rat="NR5G", band=_band(_text(pairs, "NR5G band"), "NR5G"),
            pci=None if pci is None else int(pci),
            cell_id=hex_text(cid, "!GSTATUS NR5G Cell ID", 10) if cid else None,
            rsrp_dbm=_num(pairs, ("NR5G RSRP (dBm)",), -200, 0),
            rsrq_db=_num(pairs, ("NR5G RSRQ (dB)",), -100, 50),
            sinr_db=_num(pairs, ("NR5G SINR (dB)",), -50, 100)))
    # RRC state says connected/idle when the firmware prints it; otherwise an attached PS domain
    # is the nearest thing to "connected" the block offers
    ps = (_text(pairs, "PS state") or "").casefold()
    rrc = " ".join((pairs.get("rrc state") or "").split()).casefold()
    if rrc:
        state = "connected" if rrc in ("rrc connected", "connected") else "idle"
    else:
        state = "connected" if ps.startswith("attached") else "limited"
    return LinkState(rat, state, tuple(cells))


class SierraModem(ATModem):
    """Sierra Wireless: one ``AT!GSTATUS?`` per reading."""

    vendor = "sierra"

    def read_link(self) -> LinkState:
        return parse_gstatus(self.ask("AT!GSTATUS?"))
