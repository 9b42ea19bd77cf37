"""How each vendor prints a LinkState: the simulator's side of the parsers in `drivers/modem/`.

Each renderer maps a command (upper-cased, without ``AT``) to reply lines, or None when the
vendor does not know the command. Replies look like the real ones of the field corpus
(tests/data/at-field/, tested there: render then parse agrees, and the rendered line has the
shape of the real one), quirks included:

- Quectel: LTE SINR raw-encoded per model (MODEL_LTE_SINR), the NR cell id zero-padded to 9 hex
  digits (RM520N-GL capture), +QCSQ laid out by system mode. ``early=True`` prints what early
  RM500Q NSA firmware printed (libqmi PR #2): ``+QENG:"NR5G-NSA"`` without a space, the NR line
  cut after RSRQ, NR SINR in 0.1 dB steps; and +QCSQ RSSI without its minus sign (QDC507).
- Huawei/Balong: ^MONSC identities in hex (the LTE PCI too), NR SINR as an integer (%d), ^HCSQ
  on the firmware's tables (NR RSRQ in 1 dB steps; EN-DC prints the LTE line, a blank line and
  the NR line), ^HFREQINFO, +C5GREG with the NR cell id padded to 16 hex digits.
- Sierra: the EM919x/EM74xx label set, EARFCN / NR-ARFCN as ``Rx chan``, ids with their decimal
  twin in parentheses.
RSSI is not in a LinkState: where a reply needs it, it is RSRP + 25 dB (a plausible wideband
figure, not a measured one).
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


def _padded(hex_id: str | None, digits: int) -> str:
    return "-" if hex_id is None else f"{int(hex_id, 16):0{digits}X}"


# -- Quectel --------------------------------------------------------------------------------------
def _q_lte_fields(c: ServingCell, lte_sinr: str) -> list[str]:
    sinr = None if c.sinr_db is None else LTE_SINR_RAW[lte_sinr](c.sinr_db)
    return ['"FDD"', _v(c.mcc), _v(c.mnc), _v(c.cell_id), _v(c.pci), _v(c.arfcn), _band_no(c),
            "5", "5", _v(c.tac), _v(c.rsrp_dbm), _v(c.rsrq_db), _v(_rssi(c)), _v(sinr), "15",
            "-", "40"]


def _q_nsa_line(nr: ServingCell, early: bool, space: bool) -> str:
    if early:    # RM500Q early NSA firmware (libqmi PR #2): no space, SINR x10, cut after RSRQ
        sinr = "-" if nr.sinr_db is None else str(int(round(nr.sinr_db * 10)))
        return (f'+QENG:"NR5G-NSA",{_v(nr.mcc)},{_v(nr.mnc)},{_v(nr.pci)},{_v(nr.rsrp_dbm)},'
                f"{sinr},{_v(nr.rsrq_db)}")
    return ('+QENG: "NR5G-NSA",' if space else '+QENG:"NR5G-NSA",') + ",".join([
        _v(nr.mcc), _v(nr.mnc), _v(nr.pci), _v(nr.rsrp_dbm), _v(nr.sinr_db), _v(nr.rsrq_db),
        _v(nr.arfcn), _band_no(nr), "12", "1"])


def _q_qcsq(link: LinkState, early: bool) -> list[str]:
    lte, nr = _cells(link)
    if not link.rat or (lte is None and nr is None):
        return ['+QCSQ: "NOSERVICE"']
    out = []
    if lte is not None and link.rat in ("LTE", "NR5G-NSA"):
        rssi = _rssi(lte)
        shown = "-" if rssi is None else str(abs(int(round(rssi))) if early else int(round(rssi)))
        sinr = None if lte.sinr_db is None else (lte.sinr_db + 20.0) * 5.0
        out.append(f'+QCSQ: "LTE",{shown},{_v(lte.rsrp_dbm)},{_v(sinr)},{_v(lte.rsrq_db)}')
    if nr is not None and link.rat in ("NR5G-SA", "NR5G-NSA"):
        out.append(f'+QCSQ: "NR5G",{_v(nr.rsrp_dbm)},{_v(nr.sinr_db)},{_v(nr.rsrq_db)}')
    return out or ['+QCSQ: "NOSERVICE"']


def quectel(lte_sinr: str = "2v-20", lte_multiline: bool = False,
            early: bool = False, nsa_space: bool = True) -> Renderer:
    """A Quectel renderer. `lte_sinr`: the model's LTE SINR encoding; `lte_multiline`: print LTE
    in the EN-DC form (RM520N); `early`: the early-firmware quirks (see the module docstring);
    `nsa_space`: a space after ``+QENG:`` on the NR5G-NSA line (RM500Q and RG500Q R11 print
    none, luci-app-3ginfo-lite #56 and libqmi PR #2)."""

    def render(cmd: str, link: LinkState) -> list[str] | None:
        lte, nr = _cells(link)
        state = QUECTEL_STATES[link.state]
        if cmd == '+QENG="SERVINGCELL"':
            head = f'+QENG: "servingcell","{state}"'
            if link.rat == "LTE" and lte is not None and not lte_multiline:
                return [f'{head},"LTE",' + ",".join(_q_lte_fields(lte, lte_sinr))]
            if link.rat == "NR5G-SA" and nr is not None:
                return [f'{head},"NR5G-SA","TDD",' + ",".join([
                    _v(nr.mcc), _v(nr.mnc), _padded(nr.cell_id, 9), _v(nr.pci), _v(nr.tac),
                    _v(nr.arfcn), _band_no(nr), "12", _v(nr.rsrp_dbm), _v(nr.rsrq_db),
                    _v(nr.sinr_db), "1", "-"])]
            lines = [head]
            if lte is not None:
                lines.append('+QENG: "LTE",' + ",".join(_q_lte_fields(lte, lte_sinr)))
            if nr is not None and link.rat == "NR5G-NSA":
                lines.append(_q_nsa_line(nr, early, nsa_space))
            return lines
        if cmd == "+QNWINFO":
            if not link.rat or (lte is None and nr is None):
                return ["+QNWINFO: No Service"]
            out = []
            for c in (lte, nr):
                if c is None or (c.rat == "LTE" and link.rat == "NR5G-SA") or (
                        c.rat == "NR5G" and link.rat == "LTE"):
                    continue
                act = "FDD LTE" if c.rat == "LTE" else "TDD NR5G"
                band = f"NR5G BAND {_band_no(c)}" if c.rat == "NR5G" else f"LTE BAND {_band_no(c)}"
                out.append(f'+QNWINFO: "{act}","{c.mcc or ""}{c.mnc or ""}","{band}",{_v(c.arfcn)}')
            return out
        if cmd == "+QRSRP":
            out = []
            for c, mode in ((lte, "LTE"), (nr, "NR5G")):
                if c is not None and c.rsrp_dbm is not None:
                    r = int(round(c.rsrp_dbm))
                    out.append(f"+QRSRP: {r},{r - 3},-32768,-32768,{mode}")
            return out or ["+QRSRP: -32768,-32768,-32768,-32768,NOSERVICE"]
        if cmd == "+QCSQ":
            return _q_qcsq(link, early)
        return None

    return render


# -- Huawei / Balong ------------------------------------------------------------------------------
def _hex(x: int | None) -> str:
    return "-" if x is None else f"{x:X}"


def _hcsq_line(c: ServingCell) -> str:
    if c.rat == "NR5G":
        return (f'^HCSQ: "NR",{hcsq_encode("rsrp", c.rsrp_dbm, "NR")},'
                f'{hcsq_encode("sinr", c.sinr_db, "NR")},{hcsq_encode("rsrq", c.rsrq_db, "NR")}')
    return (f'^HCSQ: "LTE",{hcsq_encode("rssi", _rssi(c))},{hcsq_encode("rsrp", c.rsrp_dbm)},'
            f'{hcsq_encode("sinr", c.sinr_db)},{hcsq_encode("rsrq", c.rsrq_db)}')


def _nr_freq_khz(arfcn: int) -> int:
    """NR-ARFCN -> kHz (TS 38.104 5.4.2.1 global raster), as ^HFREQINFO prints it."""
    if arfcn < 600000:
        return arfcn * 5
    return 3000000 + (arfcn - 600000) * 15


def huawei(cmd: str, link: LinkState) -> list[str] | None:
    lte, nr = _cells(link)
    serving = nr if link.rat == "NR5G-SA" else lte
    if cmd == "^MONSC":
        if link.rat == "NR5G-SA" and nr is not None:
            return [f"^MONSC: NR,{_v(nr.mcc)},{_v(nr.mnc)},{_v(nr.arfcn)},1,{_v(nr.cell_id)},"
                    f"{_hex(nr.pci)},{_v(nr.tac)},{_v(nr.rsrp_dbm)},{_v(nr.rsrq_db)},"
                    f"{_v(nr.sinr_db)}"]
        if lte is not None:
            return [f"^MONSC: LTE,{_v(lte.mcc)},{_v(lte.mnc)},{_v(lte.arfcn)},{_v(lte.cell_id)},"
                    f"{_hex(lte.pci)},{_v(lte.tac)},{_v(lte.rsrp_dbm)},{_v(lte.rsrq_db)},"
                    f"{_v(_rssi(lte))}"]
        return ["^MONSC: NONE"]
    if cmd == "^HCSQ?":
        if link.rat == "NR5G-SA" and nr is not None:
            return [_hcsq_line(nr)]
        if link.rat == "NR5G-NSA" and lte is not None and nr is not None:
            return [_hcsq_line(lte), "", _hcsq_line(nr)]     # MN, blank line, SN
        if lte is not None:
            return [_hcsq_line(lte)]
        return ['^HCSQ: "NOSERVICE"']
    if cmd == "^HFREQINFO?":
        if serving is None or serving.arfcn is None:
            return ["^HFREQINFO: 0,0"]
        mode = 7 if serving.rat == "NR5G" else 6
        freq = _nr_freq_khz(serving.arfcn) if serving.rat == "NR5G" else 0
        return [f"^HFREQINFO: 0,{mode},{_band_no(serving)},{serving.arfcn},{freq},100000,"
                f"{serving.arfcn},{freq},100000"]
    if cmd == "+C5GREG?" and link.state in ("idle", "connected") and link.rat == "NR5G-SA" \
            and nr is not None:
        # Balong pads the 36-bit NR cell id to 16 hex digits
        return [f'+C5GREG: 2,1,"{_v(nr.tac)}","{_padded(nr.cell_id, 16)}",11,1,"01"']
    return None


# -- Sierra ---------------------------------------------------------------------------------------
def _twin(hex_id: str | None, digits: int) -> str:
    return "---" if hex_id is None else f"{_padded(hex_id, digits)} ({int(hex_id, 16)})"


def sierra(cmd: str, link: LinkState) -> list[str] | None:
    if cmd != "!GSTATUS?":
        return None
    lte, nr = _cells(link)
    mode = {"LTE": "LTE", "NR5G-SA": "NR5G", "NR5G-NSA": "ENDC"}.get(link.rat, "NONE")
    ps = "Attached" if link.state in ("idle", "connected") else "Not attached"
    rrc = "RRC Connected" if link.state == "connected" else "RRC Idle"
    lines = ["!GSTATUS: ", "Current Time:  1234\t\tTemperature: 38",
             "Reset Counter: 1\t\tMode:        ONLINE",
             f"System mode:   {mode}        \tPS state:    {ps}"]
    if lte is not None and link.rat in ("LTE", "NR5G-NSA"):
        lines += [f"LTE band:      {lte.band or '---'}     \t\tLTE bw:      20 MHz",
                  f"LTE Rx chan:   {_v(lte.arfcn)}\t\tLTE Tx chan: 0"]
    lines += ["EMM state:     Registered     \tNormal Service", f"RRC state:     {rrc}", ""]
    if lte is not None and link.rat in ("LTE", "NR5G-NSA"):
        lines += [f"PCC RxM RSSI:  {_v(_rssi(lte))}\t\tPCC RxM RSRP:  {_v(lte.rsrp_dbm)}",
                  f"PCC RxD RSSI:  {_v(_rssi(lte))}\t\tPCC RxD RSRP:  {_v(lte.rsrp_dbm)}",
                  f"Tx Power:      0\t\tTAC:         {_twin(lte.tac, 4)}",
                  f"RSRQ (dB):     {_v(lte.rsrq_db, 1)}\t\tCell ID:     {_twin(lte.cell_id, 8)}",
                  f"SINR (dB):     {_v(lte.sinr_db, 1)}", ""]
    if nr is not None and link.rat in ("NR5G-SA", "NR5G-NSA"):
        plmn = f"{nr.mcc}-{nr.mnc}" if nr.mcc and nr.mnc else "---"
        lines += [f"NR5G TAC:        {_twin(nr.tac, 6)}\tNR5G Cell ID:    {_twin(nr.cell_id, 9)}",
                  f"NR5G MCC-MNC:    {plmn}",
                  f"NR5G band:       {nr.band or '---'}\t\tNR5G Carrier ID: 0",
                  "NR5G dl bw:      100 MHz",
                  f"NR5G Rx chan:    {_v(nr.arfcn)}",
                  f"NR5G RSRP (dBm): {_v(nr.rsrp_dbm)}\t\tNR5G RSRQ (dB):  {_v(nr.rsrq_db)}",
                  f"NR5G SINR (dB):  {_v(nr.sinr_db, 1)}"]
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
