"""Generic 3GPP TS 27.007 commands: ``AT+CSQ``, ``AT+COPS?``, ``AT+CEREG?`` / ``AT+C5GREG?``,
``AT+CGPADDR``. Enough for a LinkState from any modem, without signal quality in dBm.

  +CSQ: <rssi>,<ber>                 rssi dBm = -113 + 2 n (n 0..31), 99 = unknown
  +COPS: <mode>[,<format>,"<oper>"[,<AcT>]]   AcT 7 LTE, 10 LTE/5GCN, 11 NR SA, 12 NG-RAN, 13 EN-DC
  +CEREG: <n>,<stat>[,"<tac>","<ci>"[,<AcT>]] stat 0 idle, 1 home, 2 searching, 3 denied, 5 roaming
  +C5GREG: <n>,<stat>[,"<tac>","<ci>"[,<AcT>...]]  ci is the 36-bit NR cell identity
  +CGPADDR: <cid>[,"<addr>"[,"<addr2>"]]
Real replies differ in spacing (``+COPS:0,2,...`` on Fibocom, ``+CSQ: 9, 99``), quoting (``+CREG:
2,1,3584,ef4a08,7`` unquoted lower-case hex on a Marvell module) and padding (Balong pads the NR
cell id in +C5GREG to 16 hex digits, ``"0000000C027F5065"``); identities are kept as their value
(see drivers.modem.parse.hex_text). Failure mode: ATParseError when the reply has no line of the
command or no registration status; odd fields become None (with a warning when a list is given).
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import DeviceFault
from drivers.modem.base import ATModem
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.parse import (LTE_CELL_BITS, NR_CELL_BITS, TAC_BITS, ATParseError, Warnings,
                                 field, opt_hex, opt_int, payloads, rows_of, split_fields)

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


def parse_csq(lines: list[str], warn: Warnings | None = None) -> float | None:
    """``+CSQ: <rssi>,<ber>`` -> RSSI in dBm (None for 99 = unknown)."""
    rows = rows_of(lines, "+CSQ:")
    n = opt_int(rows[0], 0, "CSQ rssi", lo=0, hi=31, invalid=(99,), warn=warn)
    return None if n is None else float(-113 + 2 * n)


def parse_cops(lines: list[str], warn: Warnings | None = None
               ) -> tuple[int, str | None, int | None]:
    """``+COPS: <mode>,<format>,"<oper>",<AcT>`` -> (mode, operator, AcT)."""
    rows = rows_of(lines, "+COPS:")
    t = rows[0]
    mode = opt_int(t, 0, "COPS mode", lo=0, hi=4)
    if mode is None:
        raise ATParseError("+COPS: without a mode")
    return mode, field(t, 2), opt_int(t, 3, "COPS AcT", lo=0, hi=15, warn=warn)


def parse_reg(lines: list[str], prefix: str = "+CEREG:",
              warn: Warnings | None = None) -> Registration:
    """``+CEREG: <n>,<stat>[,<tac>,<ci>[,<AcT>]]`` (or +C5GREG / +CREG) -> Registration.

    The read form (``AT+CEREG?``) starts with <n>; the unsolicited form has no <n>: told apart by
    the field count and quoting is not possible in general, so this parses the read form.
    The NR cell identity of +C5GREG is 36 bits, the E-UTRAN one 28 (TS 27.007 10.1.22/10.1.47).
    """
    rows = rows_of(lines, prefix)
    t = rows[0]
    opt_int(t, 0, f"{prefix} n", lo=0, hi=5)
    stat = opt_int(t, 1, f"{prefix} stat", lo=0, hi=11)
    if stat is None:
        raise ATParseError(f"{prefix} without a registration status")
    bits = NR_CELL_BITS if prefix.startswith("+C5G") else LTE_CELL_BITS
    return Registration(stat=stat, tac=opt_hex(t, 2, f"{prefix} tac", TAC_BITS, warn),
                        ci=opt_hex(t, 3, f"{prefix} ci", bits, warn),
                        act=opt_int(t, 4, f"{prefix} AcT", lo=0, hi=15, warn=warn))


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


def read_registration(modem: ATModem, warn: Warnings | None = None) -> Registration | None:
    """+C5GREG? first (5G core), then +CEREG?; the first that says registered wins.

    None when neither command gives a readable answer: a command the modem refuses is skipped,
    and a reply that cannot be read is skipped with a warning in `warn`, so a broken
    registration reply never fails the whole reading. DeviceTimeout / DeviceError propagate.
    """
    best: Registration | None = None
    for cmd, prefix in (("AT+C5GREG?", "+C5GREG:"), ("AT+CEREG?", "+CEREG:")):
        try:
            reg = parse_reg(modem.ask(cmd), prefix, warn if warn is not None else [])
        except DeviceFault:
            continue
        except ATParseError as exc:
            if warn is not None:
                warn.append(f"{cmd}: {exc}")
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
        warn: list[str] = []
        try:
            _, _, act = parse_cops(self.ask("AT+COPS?"), warn)
        except ATParseError as exc:
            warn.append(f"AT+COPS?: {exc}")
            act = None
        reg = read_registration(self, warn)
        rat = ACT_RAT.get(act, "") if act is not None else ""
        if reg is None or not reg.registered:
            state = REG_STATE.get(reg.stat, "searching") if reg else "searching"
            return LinkState(rat if reg and reg.registered else "", state, (), tuple(warn))
        try:
            addrs = parse_cgpaddr(self.ask("AT+CGPADDR"))
        except (DeviceFault, ATParseError) as exc:
            warn.append(f"AT+CGPADDR: {exc}")
            addrs = {}
        state = "connected" if any(addrs.values()) else "idle"
        if reg.act is not None and reg.act in ACT_RAT and not rat:
            rat = ACT_RAT[reg.act]
        cell_rat = "LTE" if rat in ("LTE", "NR5G-NSA") else "NR5G"
        cell = ServingCell(rat=cell_rat, cell_id=reg.ci, tac=reg.tac)
        return LinkState(rat, state, (cell,), tuple(warn))
