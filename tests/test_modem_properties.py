"""Property tests: no input makes a parser raise anything but ATParseError, and what the
simulator prints for any link parses back to that link (within the vendor's resolution)."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.modem import generic, huawei, quectel, sierra
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.parse import ATParseError
from drivers.sim import modem_render

PREFIXES = ['+QENG: "servingcell",', '+QENG: "LTE",', '+QENG: "NR5G-NSA",', "+QENG: ",
            "+QNWINFO: ", "+QRSRP: ", "+QCSQ: ", "^HCSQ: ", "^MONSC: ", "+CSQ: ", "+COPS: ",
            "+CEREG: ", "+C5GREG: ", "+CGPADDR: ", "System mode: ", "NR5G RSRP (dBm): ",
            "PCC RxM RSRP: ", "NR5G band: ", "LTE band: ", "Cell ID: ", ""]
TOKENS = st.one_of(
    st.sampled_from(['"SEARCH"', '"LIMSRV"', '"NOCONN"', '"CONNECT"', '"LTE"', '"NR5G-SA"',
                     '"NR5G-NSA"', '"FDD"', '"TDD"', "-", "", "NR", "LTE", "NONE", "NR5G", "ENDC",
                     "255", "-32768", "nan", "inf", "1e400", '"', "n78", "B3", "0x1F"]),
    st.integers(-10**12, 10**12).map(str),
    st.from_regex(r"[0-9A-F]{1,12}", fullmatch=True),
    st.text(max_size=12),
)
LINE = st.one_of(
    st.builds(lambda p, toks: p + ",".join(toks), st.sampled_from(PREFIXES),
              st.lists(TOKENS, max_size=22)),
    st.text(max_size=80),
)
LINES = st.lists(LINE, max_size=6)
PARSERS = [
    lambda ls: quectel.parse_servingcell(ls, "2v-20"),
    quectel.parse_qnwinfo, quectel.parse_qrsrp, quectel.parse_qcsq,
    huawei.parse_hcsq, huawei.parse_monsc, sierra.parse_gstatus,
    generic.parse_csq, generic.parse_cops, generic.parse_reg,
    lambda ls: generic.parse_reg(ls, "+C5GREG:"), generic.parse_cgpaddr,
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES)
def test_parsers_raise_only_their_parse_error(lines: list[str]) -> None:
    for parse in PARSERS:
        try:
            parse(lines)
        except ATParseError:
            pass


def _cell(rat: str) -> st.SearchStrategy[ServingCell]:
    nr = rat == "NR5G"
    return st.builds(
        ServingCell, rat=st.just(rat),
        mcc=st.from_regex(r"[1-7][0-9]{2}", fullmatch=True),
        mnc=st.from_regex(r"[0-9]{2}", fullmatch=True),
        cell_id=st.integers(1, 2**36 - 1 if nr else 2**28 - 1).map(lambda v: f"{v:X}"),
        pci=st.integers(0, 1007 if nr else 503),
        tac=st.integers(1, 0xFFFFFF).map(lambda v: f"{v:X}"),
        arfcn=st.integers(0, 3279165 if nr else 262143),
        band=st.integers(1, 255).map(lambda b: f"n{b}" if nr else f"B{b}"),
        rsrp_dbm=st.integers(-140, -44).map(float),
        rsrq_db=st.integers(-20, -3).map(float),
        sinr_db=st.integers(-10, 30).map(lambda v: float(2 * (v // 2))),  # even: Quectel LTE step
    )


LINKS = st.one_of(
    st.builds(lambda c, s: LinkState("LTE", s, (c,)), _cell("LTE"),
              st.sampled_from(["idle", "connected"])),
    st.builds(lambda c, s: LinkState("NR5G-SA", s, (c,)), _cell("NR5G"),
              st.sampled_from(["idle", "connected"])),
    st.builds(lambda a, n, s: LinkState("NR5G-NSA", s, (a, n)), _cell("LTE"), _cell("NR5G"),
              st.sampled_from(["idle", "connected"])),
)


@settings(max_examples=150, deadline=None)
@given(LINKS)
def test_quectel_print_then_parse_is_identity(link: LinkState) -> None:
    lines = modem_render.quectel("2v-20")('+QENG="SERVINGCELL"', link)
    parsed = quectel.parse_servingcell(lines, "2v-20")
    expected = link
    if link.rat == "NR5G-NSA":     # the NSA line carries no cell id or TAC for the NR leg
        lte, nr = link.cells
        expected = LinkState(link.rat, link.state, (lte, ServingCell(
            rat="NR5G", mcc=nr.mcc, mnc=nr.mnc, pci=nr.pci, arfcn=nr.arfcn, band=nr.band,
            rsrp_dbm=nr.rsrp_dbm, rsrq_db=nr.rsrq_db, sinr_db=nr.sinr_db)))
    assert parsed == expected


@settings(max_examples=150, deadline=None)
@given(LINKS)
def test_sierra_print_then_parse_keeps_signal(link: LinkState) -> None:
    parsed = sierra.parse_gstatus(modem_render.sierra("!GSTATUS?", link))
    assert (parsed.rat, parsed.state) == (link.rat, link.state)
    for got, want in zip(parsed.cells, link.cells):
        assert (got.rat, got.band, got.rsrp_dbm, got.rsrq_db, got.sinr_db) == (
            want.rat, want.band, want.rsrp_dbm, want.rsrq_db, want.sinr_db)


@settings(max_examples=150, deadline=None)
@given(LINKS)
def test_huawei_print_then_parse_keeps_cell(link: LinkState) -> None:
    cell = huawei.parse_monsc(modem_render.huawei("^MONSC", link))
    want = link.cells[-1] if link.rat == "NR5G-SA" else link.cells[0]
    assert cell is not None
    assert (cell.rat, cell.cell_id, cell.pci, cell.tac, cell.rsrp_dbm, cell.rsrq_db) == (
        want.rat, want.cell_id, want.pci, want.tac, want.rsrp_dbm, want.rsrq_db)
    hcsq = huawei.parse_hcsq(modem_render.huawei("^HCSQ?", link))
    # index encoding: RSRP 1 dB steps, SINR 0.2 dB, RSRQ 0.5 dB on LTE and 1 dB on NR; each index
    # is the lower edge of its step (clamped to the table)
    assert hcsq["rsrp_dbm"] == max(-141.0, min(-44.0, want.rsrp_dbm))
    assert 0 <= want.sinr_db - hcsq["sinr_db"] < 0.2 + 1e-9
    top = -6.0 if want.rat == "NR5G" else -3.0     # NR table: index 34 = "-6 dB or more"
    assert hcsq["rsrq_db"] == min(top, want.rsrq_db)
