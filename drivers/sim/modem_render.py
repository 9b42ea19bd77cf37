"""How each vendor prints a LinkState: the simulator's side of the parsers in `drivers/modem/`.

Each renderer maps a command (upper-cased, without ``AT``) to reply lines, or None when the
vendor does not know the command. Values are printed the way modules print them: integers where
modules print integers, `-` for not available, LTE SINR raw-encoded for Quectel, index-encoded
for Huawei ``^HCSQ``. RSSI is not in a LinkState: where a reply needs it, it is RSRP + 25 dB
(a plausible wideband figure, not a measured one).
"""
from __future__ import annotations

from typing import Callable

from drivers.modem.huawei import hcsq_encode
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.quectel import LTE_SINR_RAW

Renderer = Callable[[str, LinkState], "list[str] | None"]
QUECTEL_STATES = {"searching": "SEARCH", "limited": "LIMSRV", "idle": "NOCONN",
                  "connected": "CONNECT"}
COPS_ACT = {"LTE": 7, "NR5G-SA": 11, "NR5G-NSA": 13}


def _v(x: object, digits: int = 0) -> str:
    """A value as a module prints it; None -> '-'."""
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}" if digits else str(int(round(x)))
    return str(x)


def _band_no(cell: ServingCell) -> str:
    return cell.band[1:] if cell.band else "-"


def _rssi(cell: ServingCell) -> float | None:
    return None if cell.rsrp_dbm is None else min(-25.0, cell.rsrp_dbm + 25.0)


def _cells(link: LinkState) -> tuple[ServingCell | None, ServingCell | None]:
    lte = next((c for c in link.cells if c.rat == "LTE"), None)
    nr = next((c for c in link.cells if c.rat == "NR5G"), None)
    return lte, nr


# -- Quectel --------------------------------------------------------------------------------------
def _q_lte_fields(c: ServingCell, lte_sinr: str) -> list[str]:
    sinr = None if c.sinr_db is None else LTE_SINR_RAW[lte_sinr](c.sinr_db)
    return ['"FDD"', _v(c.mcc), _v(c.mnc), _v(c.cell_id), _v(c.pci), _v(c.arfcn), _band_no(c),
            "5", "5", _v(c.tac), _v(c.rsrp_dbm), _v(c.rsrq_db), _v(_rssi(c)), _v(sinr), "15",
            "-", "40"]


def quectel(lte_sinr: str = "2v-20", lte_multiline: bool = False) -> Renderer:
    """A Quectel RM5xx renderer (`lte_multiline`: print LTE in the EN-DC form, like RM520N)."""

    def render(cmd: str, link: LinkState) -> list[str] | None:
        lte, nr = _cells(link)
        state = QUECTEL_STATES[link.state]
        if cmd == '+QENG="SERVINGCELL"':
            head = f'+QENG: "servingcell","{state}"'
            if link.rat == "LTE" and lte is not None and not lte_multiline:
                return [f'{head},"LTE",' + ",".join(_q_lte_fields(lte, lte_sinr))]
            if link.rat == "NR5G-SA" and nr is not None:
                return [f'{head},"NR5G-SA","TDD",' + ",".join([
                    _v(nr.mcc), _v(nr.mnc), _v(nr.cell_id), _v(nr.pci), _v(nr.tac),
                    _v(nr.arfcn), _band_no(nr), "12", _v(nr.rsrp_dbm), _v(nr.rsrq_db),
                    _v(nr.sinr_db), "1", "-"])]
            lines = [head]
            if lte is not None:
                lines.append('+QENG: "LTE",' + ",".join(_q_lte_fields(lte, lte_sinr)))
            if nr is not None and link.rat == "NR5G-NSA":
                lines.append('+QENG: "NR5G-NSA",' + ",".join([
                    _v(nr.mcc), _v(nr.mnc), _v(nr.pci), _v(nr.rsrp_dbm), _v(nr.sinr_db),
                    _v(nr.rsrq_db), _v(nr.arfcn), _band_no(nr), "12", "1"]))
            return lines
        if cmd == "+QNWINFO":
            c = nr or lte
            if not link.rat or c is None:
                return ["+QNWINFO: No Service"]
            act = "FDD LTE" if link.rat == "LTE" else link.rat
            band = f"NR5G BAND {_band_no(c)}" if c.rat == "NR5G" else f"LTE BAND {_band_no(c)}"
            return [f'+QNWINFO: "{act}","{c.mcc or ""}{c.mnc or ""}","{band}",{_v(c.arfcn)}']
        if cmd == "+QRSRP":
            out = []
            for c, mode in ((lte, "LTE"), (nr, "NR5G")):
                if c is not None and c.rsrp_dbm is not None:
                    r = int(round(c.rsrp_dbm))
                    out.append(f"+QRSRP: {r},{r - 3},-32768,-32768,{mode}")
            return out or ["+QRSRP: -32768,-32768,-32768,-32768,NOSERVICE"]
        if cmd == "+QCSQ":
            c = nr or lte
            if not link.rat or c is None:
                return ['+QCSQ: "NOSERVICE"']
            return [f'+QCSQ: "{link.rat if link.rat != "NR5G-NSA" else "NR5G-NSA"}",'
                    f"{_v(_rssi(c))},{_v(c.rsrp_dbm)},{_v(c.sinr_db)},{_v(c.rsrq_db)}"]
        return None

    return render


# -- Huawei ---------------------------------------------------------------------------------------
def huawei(cmd: str, link: LinkState) -> list[str] | None:
    lte, nr = _cells(link)
    if cmd == "^MONSC":
        if link.rat == "NR5G-SA" and nr is not None:
            pci = "-" if nr.pci is None else f"{nr.pci:X}"
            return [f"^MONSC: NR,{_v(nr.mcc)},{_v(nr.mnc)},{_v(nr.arfcn)},1,{_v(nr.cell_id)},"
                    f"{pci},{_v(nr.tac)},{_v(nr.rsrp_dbm)},{_v(nr.rsrq_db)},{_v(nr.sinr_db, 1)}"]
        if lte is not None:
            return [f"^MONSC: LTE,{_v(lte.mcc)},{_v(lte.mnc)},{_v(lte.arfcn)},{_v(lte.cell_id)},"
                    f"{_v(lte.pci)},{_v(lte.tac)},{_v(lte.rsrp_dbm)},{_v(lte.rsrq_db)},"
                    f"{_v(_rssi(lte))}"]
        return ["^MONSC: NONE"]
    if cmd == "^HCSQ?":
        if link.rat == "NR5G-SA" and nr is not None:
            return [f'^HCSQ: "NR",{hcsq_encode("rsrp", nr.rsrp_dbm)},'
                    f'{hcsq_encode("sinr", nr.sinr_db)},{hcsq_encode("rsrq", nr.rsrq_db)}']
        if lte is not None:
            return [f'^HCSQ: "LTE",{hcsq_encode("rssi", _rssi(lte))},'
                    f'{hcsq_encode("rsrp", lte.rsrp_dbm)},{hcsq_encode("sinr", lte.sinr_db)},'
                    f'{hcsq_encode("rsrq", lte.rsrq_db)}']
        return ['^HCSQ: "NOSERVICE"']
    return None


# -- Sierra ---------------------------------------------------------------------------------------
def sierra(cmd: str, link: LinkState) -> list[str] | None:
    if cmd != "!GSTATUS?":
        return None
    lte, nr = _cells(link)
    mode = {"LTE": "LTE", "NR5G-SA": "NR5G", "NR5G-NSA": "ENDC"}.get(link.rat, "NONE")
    ps = "Attached" if link.state in ("idle", "connected") else "Not attached"
    rrc = "RRC Connected" if link.state == "connected" else "RRC Idle"
    lines = ["!GSTATUS: ", "Current Time:  1234\t\tTemperature: 38",
             "Reset Counter: 1\t\tMode:        ONLINE",
             f"System mode:   {mode}\t\tPS state:    {ps}",
             f"RRC state:     {rrc}"]
    if lte is not None and link.rat in ("LTE", "NR5G-NSA"):
        lines += [f"LTE band:      {lte.band or '-'}\t\tLTE bw:      20 MHz",
                  f"Cell ID:       {lte.cell_id or '-'}\t\tTAC:         {lte.tac or '-'}",
                  f"PCC RxM RSRP:  {_v(lte.rsrp_dbm)}\t\tPCC RxD RSRP: {_v(lte.rsrp_dbm)}",
                  f"RSRQ (dB):     {_v(lte.rsrq_db, 1)}\t\tSINR (dB):   {_v(lte.sinr_db, 1)}"]
    if nr is not None and link.rat in ("NR5G-SA", "NR5G-NSA"):
        lines += [f"NR5G band:     {nr.band or '-'}\t\tNR5G bw:     100 MHz",
                  f"NR5G PCI:      {_v(nr.pci)}\t\tNR5G Cell ID: {nr.cell_id or '-'}",
                  f"NR5G RSRP (dBm): {_v(nr.rsrp_dbm)}\tNR5G RSRQ (dB): {_v(nr.rsrq_db)}",
                  f"NR5G SINR (dB): {_v(nr.sinr_db, 1)}"]
    return lines


# -- 3GPP (every vendor) --------------------------------------------------------------------------
def generic(cmd: str, link: LinkState) -> list[str] | None:
    lte, nr = _cells(link)
    registered = link.state in ("idle", "connected")
    stat = 1 if registered else (3 if link.state == "limited" else 2)
    if cmd == "+CSQ":
        c = lte or nr
        rssi = _rssi(c) if c is not None else None
        n = 99 if rssi is None else max(0, min(31, int(round((rssi + 113) / 2))))
        return [f"+CSQ: {n},99"]
    if cmd == "+COPS?":
        if not registered or link.rat not in COPS_ACT:
            return ["+COPS: 0"]
        return [f'+COPS: 0,0,"HIL-SIM",{COPS_ACT[link.rat]}']
    for command, rats, act in (("+CEREG?", ("LTE", "NR5G-NSA"), 7), ("+C5GREG?", ("NR5G-SA",), 11)):
        if cmd == command:
            name = command[:-1]
            c = lte if act == 7 else nr
            if registered and link.rat in rats and c is not None:
                return [f'{name}: 2,{stat},"{c.tac or ""}","{c.cell_id or ""}",{act}']
            return [f"{name}: 2,{stat if not registered else 0}"]
    if cmd in ("+CGPADDR", "+CGPADDR=1"):
        return ['+CGPADDR: 1,"10.45.0.5"'] if link.state == "connected" else ["+CGPADDR: 1"]
    return None
