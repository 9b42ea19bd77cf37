"""Generic 3GPP TS 27.007 commands: ``AT+CSQ``, ``AT+COPS?``, ``AT+CEREG?`` / ``AT+C5GREG?``,
``AT+CGPADDR``. Enough for a LinkState from any modem, without signal quality in dBm.

  +CSQ: <rssi>,<ber>                 rssi dBm = -113 + 2 n (n 0..31), 99 = unknown
  +COPS: <mode>[,<format>,"<oper>"[,<AcT>]]   AcT 7 LTE, 10 LTE/5GCN, 11 NR SA, 12 NG-RAN, 13 EN-DC
  +CEREG: <n>,<stat>[,"<tac>","<ci>"[,<AcT>]] stat 0 idle, 1 home, 2 searching, 3 denied, 5 roaming
  +CGPADDR: <cid>[,"<addr>"[,"<addr2>"]]
Failure mode: ATParseError.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import DeviceFault
from drivers.modem.base import ATModem
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.parse import (ATParseError, field, opt_hex, opt_int, payloads, rows_of,
                                 split_fields)

ACT_RAT = {7: "LTE", 10: "LTE", 11: "NR5G-SA", 12: "NR5G-SA", 13: "NR5G-NSA"}
REG_STATE = {0: "searching", 1: "idle", 2: "searching", 3: "limited", 4: "searching",
             5: "idle", 6: "idle", 7: "idle", 8: "limited", 9: "idle", 10: "idle"}


@dataclass(frozen=True)
class Registration:
    """A +CEREG / +C5GREG reading. tac and ci are upper-case hex, None when not reported."""

    stat: int
    tac: str | None = None
    ci: str | None = None
    act: int | None = None

    @property
    def registered(self) -> bool:
        return self.stat in (1, 5)


def parse_csq(lines: list[str]) -> float | None:
    """``+CSQ: <rssi>,<ber>`` -> RSSI in dBm (None for 99 = unknown)."""
    rows = rows_of(lines, "+CSQ:")
    n = opt_int(rows[0], 0, "CSQ rssi", lo=0, hi=99)
    if n is None or n == 99:
        return None
    if n > 31:
        raise ATParseError(f"CSQ rssi {n} is outside 0..31 (99 = unknown)")
    return float(-113 + 2 * n)


def parse_cops(lines: list[str]) -> tuple[int, str | None, int | None]:
    """``+COPS: <mode>,<format>,"<oper>",<AcT>`` -> (mode, operator, AcT)."""
    rows = rows_of(lines, "+COPS:")
    t = rows[0]
    mode = opt_int(t, 0, "COPS mode", lo=0, hi=4)
    if mode is None:
        raise ATParseError("+COPS: without a mode")
    return mode, field(t, 2), opt_int(t, 3, "COPS AcT", lo=0, hi=15)


def parse_reg(lines: list[str], prefix: str = "+CEREG:") -> Registration:
    """``+CEREG: <n>,<stat>[,<tac>,<ci>[,<AcT>]]`` (or +C5GREG / +CREG) -> Registration.

    The read form (``AT+CEREG?``) starts with <n>; the unsolicited form has no <n>: told apart by
    the field count and quoting is not possible in general, so this parses the read form.
    """
    rows = rows_of(lines, prefix)
    t = rows[0]
    opt_int(t, 0, f"{prefix} n", lo=0, hi=5)
    stat = opt_int(t, 1, f"{prefix} stat", lo=0, hi=11)
    if stat is None:
        raise ATParseError(f"{prefix} without a registration status")
    return Registration(stat=stat, tac=opt_hex(t, 2, f"{prefix} tac", 6),
                        ci=opt_hex(t, 3, f"{prefix} ci", 10),
                        act=opt_int(t, 4, f"{prefix} AcT", lo=0, hi=15))


def parse_cgpaddr(lines: list[str]) -> dict[int, list[str]]:
    """``+CGPADDR: <cid>,"<addr>"[,"<addr2>"]`` lines -> {cid: [addresses]} (empty when none)."""
    out: dict[int, list[str]] = {}
    for t in (split_fields(p) for p in payloads(lines, "+CGPADDR:")):
        cid = opt_int(t, 0, "CGPADDR cid", lo=0, hi=255)
        if cid is None:
            raise ATParseError("+CGPADDR: without a context id")
        addrs = [a for a in (field(t, i) for i in range(1, len(t))) if a]
        for a in addrs:
            if not all(ch.isdigit() or ch in ".:abcdefABCDEF" for ch in a):
                raise ATParseError(f"+CGPADDR: {a!r} is not an IP address")
        out[cid] = addrs
    return out


def read_registration(modem: ATModem) -> Registration | None:
    """+C5GREG? first (5G core), then +CEREG?; the first that says registered wins.

    None when neither command is supported. DeviceTimeout / DeviceError propagate.
    """
    best: Registration | None = None
    for cmd, prefix in (("AT+C5GREG?", "+C5GREG:"), ("AT+CEREG?", "+CEREG:")):
        try:
            reg = parse_reg(modem.ask(cmd), prefix)
        except DeviceFault:
            continue
        if reg.registered:
            return reg
        best = best or reg
    return best


class GenericModem(ATModem):
    """Any 3GPP modem: RAT from +COPS, state and cell from +C5GREG/+CEREG, connected when a PDP
    context has an address (+CGPADDR). No signal quality (27.007 has none in dBm for NR)."""

    vendor = "generic"

    def read_link(self) -> LinkState:
        _, _, act = parse_cops(self.ask("AT+COPS?"))
        reg = read_registration(self)
        rat = ACT_RAT.get(act, "") if act is not None else ""
        if reg is None or not reg.registered:
            state = REG_STATE.get(reg.stat, "searching") if reg else "searching"
            return LinkState(rat if reg and reg.registered else "", state, ())
        try:
            addrs = parse_cgpaddr(self.ask("AT+CGPADDR"))
        except DeviceFault:
            addrs = {}
        state = "connected" if any(addrs.values()) else "idle"
        if reg.act is not None and reg.act in ACT_RAT and not rat:
            rat = ACT_RAT[reg.act]
        cell_rat = "LTE" if rat in ("LTE", "NR5G-NSA") else "NR5G"
        cell = ServingCell(rat=cell_rat, cell_id=reg.ci, tac=reg.tac)
        return LinkState(rat, state, (cell,))
