"""Huawei / TD Tech Balong 5G modules (MH5000, MT5700M-CN class): ``AT^MONSC``, ``AT^HCSQ?``,
``AT^HFREQINFO?``, with the 3GPP registration and address replies.

Every format fact below is from the Balong AT source Huawei published (Impalabs/resources,
ELS-AN00_02_HM_opensource/drivers/hisi/modem/tafnew/common/at/: ``^MONSC`` format strings,
``AT_Format4GHcsqResult`` / ``AT_Format5GHcsqResult`` and the ``AT_ConvertCerssi*`` tables) and
is checked on real MT5700M-CN replies (LianXia233/luci-app-mt5700, corpus in tests/data/at-field):

``^MONSC:`` (plain dBm / dB, identities in hex):
  NR   ^MONSC: NR,<mcc>,<mnc>,<arfcn %u>,<scs>,<cellid hex>,<pci %X>,<tac %X>,<rsrp>,<rsrq>,
                  <sinr %d>
  LTE  ^MONSC: LTE,<mcc>,<mnc>,<earfcn %u>,<cellid %X>,<pci %X>,<tac %X>,<rsrp>,<rsrq>,<rssi>
  (LTE has no SINR; its PCI is hex too, so ``DF`` is PCI 223.)
``^HCSQ:`` index-encoded, 255 = invalid, one line per RAT (EN-DC: the MN line, a blank line, the
SN line). LTE (query form) uses the +CESQ tables, NR its own:
  "LTE",<rssi>,<rsrp>,<sinr>,<rsrq>  rssi -121+v, rsrp -141+v (0..97), sinr -20.2+v/5 (0..251),
                                     rsrq -20+v/2 (0..34, 0.5 dB steps)
  "NR",<rsrp>,<sinr>,<rsrq>          rsrp -141+v (0..97), sinr -20.2+v/5 (0..251),
                                     rsrq -40+v (0..34, 1 dB steps: AT_ConvertCerssiRsrq,
                                     "1: -39 dB <= RSRQ < -38 dB ... 34: -6 dB <= RSRQ")
Each value is the lower edge of its index step (what the tables say the index means).
``^HFREQINFO:`` <abort>,<sysmode 6 LTE / 7 NR>,<band>,<dl_fcn>,... (the band of the serving cell).
One odd field becomes None with a warning; a reply without the prefix raises ATParseError.
"""
from __future__ import annotations

from dataclasses import replace

from drivers.errors import DeviceFault
from drivers.modem.base import ATModem
from drivers.modem.generic import REG_STATE, parse_cgpaddr, read_registration
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.parse import (LTE_ARFCN_MAX, LTE_CELL_BITS, LTE_PCI_MAX, NR_ARFCN_MAX,
                                 NR_CELL_BITS, NR_PCI_MAX, RSRP_RANGE, RSRQ_RANGE, SINR_RANGE,
                                 TAC_BITS, ATParseError, Warnings, band_name, field, odd,
                                 opt_digits, opt_float, opt_hex, opt_int, payloads,
                                 split_fields)

INVALID = 255
#: (sysmode, quantity) -> (offset, step, max valid index); value = offset + step * index
HCSQ_SCALES: dict[tuple[str, str], tuple[float, float, int]] = {
    ("LTE", "rssi"): (-121.0, 1.0, 96), ("LTE", "rsrp"): (-141.0, 1.0, 97),
    ("LTE", "sinr"): (-20.2, 0.2, 251), ("LTE", "rsrq"): (-20.0, 0.5, 34),
    ("NR", "rsrp"): (-141.0, 1.0, 97), ("NR", "sinr"): (-20.2, 0.2, 251),
    ("NR", "rsrq"): (-40.0, 1.0, 34),
}
#: HCSQ sysmode -> the quantities that follow, in order (AT_Format4G/5GHcsqResult)
HCSQ_LAYOUTS = {"LTE": ("rssi", "rsrp", "sinr", "rsrq"), "NR": ("rsrp", "sinr", "rsrq")}
_UNITS = {"rssi": "rssi_dbm", "rsrp": "rsrp_dbm", "sinr": "sinr_db", "rsrq": "rsrq_db"}
HFREQ_SYSMODES = {6: "LTE", 7: "NR5G"}


def hcsq_decode(kind: str, index: int | None, sysmode: str = "LTE",
                warn: Warnings | None = None) -> float | None:
    """An HCSQ index -> dBm / dB (None for 255 or absent); odd field when past its table."""
    if index is None or index == INVALID:
        return None
    offset, step, top = HCSQ_SCALES[(sysmode, kind)]
    if not 0 <= index <= top:
        odd(warn, f"^HCSQ {sysmode} {kind.upper()}",
            f"index {index} is outside 0..{top} (255 = invalid)")
        return None
    return round(offset + step * index, 3)


def hcsq_encode(kind: str, value: float | None, sysmode: str = "LTE") -> int:
    """dBm / dB -> the HCSQ index a Balong module prints (255 when None); clamps to the table."""
    if value is None:
        return INVALID
    offset, step, top = HCSQ_SCALES[(sysmode, kind)]
    return max(0, min(top, int((value - offset) / step + 1e-9)))


def parse_hcsq_rows(lines: list[str], warn: Warnings | None = None
                    ) -> list[dict[str, float | str | None]]:
    """Every ``^HCSQ:`` line -> {"sysmode", and rssi_dbm / rsrp_dbm / sinr_db / rsrq_db present
    in its layout}. ``^HCSQ: "NOSERVICE"`` gives only the sysmode; other unknown sysmodes (GSM,
    WCDMA) too. ATParseError when the reply has no ^HCSQ line or a line has no sysmode."""
    rows = [split_fields(p) for p in payloads(lines, "^HCSQ:")]
    if not rows:
        raise ATParseError("no ^HCSQ: line in the reply")
    out: list[dict[str, float | str | None]] = []
    for t in rows:
        mode = field(t, 0)
        if mode is None:
            raise ATParseError("^HCSQ: without a sysmode")
        row: dict[str, float | str | None] = {"sysmode": mode}
        for i, kind in enumerate(HCSQ_LAYOUTS.get(mode, ()), start=1):
            index = opt_int(t, i, f"^HCSQ {mode} {kind.upper()}", warn=warn)
            row[_UNITS[kind]] = hcsq_decode(kind, index, mode, warn)
        out.append(row)
    return out


def parse_hcsq(lines: list[str], warn: Warnings | None = None) -> dict[str, float | str | None]:
    """The first ``^HCSQ:`` line (the master node's in EN-DC); see parse_hcsq_rows."""
    return parse_hcsq_rows(lines, warn)[0]


def parse_monsc(lines: list[str], warn: Warnings | None = None) -> ServingCell | None:
    """``^MONSC:`` -> the serving cell (None for ``^MONSC: NONE`` or a 2G/3G cell).

    ATParseError when there is no ^MONSC line or its RAT is unknown; odd fields -> None."""
    rows = [split_fields(p) for p in payloads(lines, "^MONSC:")]
    if not rows:
        raise ATParseError("no ^MONSC: line in the reply")
    t = rows[0]
    rat = field(t, 0)
    if rat == "NR":
        return ServingCell(
            rat="NR5G", mcc=opt_digits(t, 1, "^MONSC NR MCC", warn=warn),
            mnc=opt_digits(t, 2, "^MONSC NR MNC", warn=warn),
            arfcn=opt_int(t, 3, "^MONSC NR ARFCN", lo=0, hi=NR_ARFCN_MAX, warn=warn),
            cell_id=opt_hex(t, 5, "^MONSC NR cell id", NR_CELL_BITS, warn),
            pci=opt_int(t, 6, "^MONSC NR PCI", base=16, lo=0, hi=NR_PCI_MAX, warn=warn),
            tac=opt_hex(t, 7, "^MONSC NR TAC", TAC_BITS, warn),
            rsrp_dbm=opt_float(t, 8, "^MONSC NR RSRP", lo=RSRP_RANGE[0], hi=RSRP_RANGE[1],
                               warn=warn),
            rsrq_db=opt_float(t, 9, "^MONSC NR RSRQ", lo=RSRQ_RANGE[0], hi=RSRQ_RANGE[1],
                              warn=warn),
            sinr_db=opt_float(t, 10, "^MONSC NR SINR", lo=SINR_RANGE[0], hi=SINR_RANGE[1],
                              warn=warn))
    if rat == "LTE":
        # the firmware prints the LTE PCI with %X like cell id and TAC (MONSC LTE format string)
        return ServingCell(
            rat="LTE", mcc=opt_digits(t, 1, "^MONSC LTE MCC", warn=warn),
            mnc=opt_digits(t, 2, "^MONSC LTE MNC", warn=warn),
            arfcn=opt_int(t, 3, "^MONSC LTE EARFCN", lo=0, hi=LTE_ARFCN_MAX, warn=warn),
            cell_id=opt_hex(t, 4, "^MONSC LTE cell id", LTE_CELL_BITS, warn),
            pci=opt_int(t, 5, "^MONSC LTE PCI", base=16, lo=0, hi=LTE_PCI_MAX, warn=warn),
            tac=opt_hex(t, 6, "^MONSC LTE TAC", TAC_BITS, warn),
            rsrp_dbm=opt_float(t, 7, "^MONSC LTE RSRP", lo=RSRP_RANGE[0], hi=RSRP_RANGE[1],
                               warn=warn),
            rsrq_db=opt_float(t, 8, "^MONSC LTE RSRQ", lo=RSRQ_RANGE[0], hi=RSRQ_RANGE[1],
                              warn=warn))
    if rat in (None, "NONE", "NO SERVICE", "GSM", "WCDMA", "TD-SCDMA", "CDMA"):
        return None
    raise ATParseError(f"^MONSC: unknown RAT {rat!r}")


def parse_hfreqinfo(lines: list[str], warn: Warnings | None = None) -> str | None:
    """``^HFREQINFO: <abort>,<sysmode>,<band>,...`` -> the serving band (``n41``, ``B3``) or None
    when the sysmode is neither LTE (6) nor NR (7). ATParseError without the line."""
    rows = [split_fields(p) for p in payloads(lines, "^HFREQINFO:")]
    if not rows:
        raise ATParseError("no ^HFREQINFO: line in the reply")
    t = rows[0]
    mode = opt_int(t, 1, "^HFREQINFO sysmode", warn=warn)
    rat = HFREQ_SYSMODES.get(mode) if mode is not None else None
    if rat is None:
        return None
    return band_name(rat, opt_int(t, 2, "^HFREQINFO band", lo=1, hi=1024, warn=warn))


class HuaweiModem(ATModem):
    """Balong: cell and signal from ``AT^MONSC``, the band from ``AT^HFREQINFO?``, the LTE SINR
    (absent from MONSC) and in EN-DC the NR leg's RSRP/SINR/RSRQ from ``AT^HCSQ?``, the state
    from +C5GREG/+CEREG and +CGPADDR.

    Only MONSC is required; a failing or odd secondary reply leaves its field None and adds a
    warning to the reading."""

    vendor = "huawei"

    def _optional(self, command: str, warn: list[str]) -> list[str] | None:
        try:
            return self.ask(command)
        except DeviceFault as exc:
            warn.append(f"{command}: {exc}")
            return None

    def read_link(self) -> LinkState:
        warn: list[str] = []
        cell = parse_monsc(self.ask("AT^MONSC"), warn)
        reg = read_registration(self, warn)
        if cell is None:
            state = REG_STATE.get(reg.stat, "searching") if reg else "searching"
            return LinkState("", state, (), tuple(warn))
        nr_leg: ServingCell | None = None
        freq = self._optional("AT^HFREQINFO?", warn)
        if freq is not None:
            try:
                band = parse_hfreqinfo(freq, warn)
            except ATParseError as exc:
                warn.append(f"AT^HFREQINFO?: {exc}")
                band = None
            if band is not None and band[0] == ("n" if cell.rat == "NR5G" else "B"):
                cell = replace(cell, band=band)
        if cell.rat == "LTE" and cell.sinr_db is None:
            lines = self._optional("AT^HCSQ?", warn)
            try:
                rows = parse_hcsq_rows(lines, warn) if lines is not None else []
            except ATParseError as exc:
                warn.append(f"AT^HCSQ?: {exc}")
                rows = []
            sinr = next((r.get("sinr_db") for r in rows if r.get("sysmode") == "LTE"), None)
            if isinstance(sinr, float):
                cell = replace(cell, sinr_db=sinr)
            # EN-DC: the firmware prints the secondary node's NR line after the LTE one
            # (AT_FormatHcsqQryResult, mrdcFlag); ^MONSC only has the LTE anchor
            nr_row = next((r for r in rows if r.get("sysmode") == "NR"), None)
            if nr_row is not None:
                def num(key: str) -> float | None:
                    v = nr_row.get(key)
                    return v if isinstance(v, float) else None
                nr_leg = ServingCell(rat="NR5G", rsrp_dbm=num("rsrp_dbm"),
                                     sinr_db=num("sinr_db"), rsrq_db=num("rsrq_db"))
        rat = "NR5G-SA" if cell.rat == "NR5G" else "LTE"
        if (reg is not None and reg.act == 13) or nr_leg is not None:
            rat = "NR5G-NSA"
        state = "idle"
        if reg is not None and not reg.registered:
            state = REG_STATE.get(reg.stat, "searching")
        else:
            try:
                if any(parse_cgpaddr(self.ask("AT+CGPADDR")).values()):
                    state = "connected"
            except (DeviceFault, ATParseError) as exc:
                warn.append(f"AT+CGPADDR: {exc}")
        cells = (cell,) if nr_leg is None else (cell, nr_leg)
        return LinkState(rat, state, cells, tuple(warn))
