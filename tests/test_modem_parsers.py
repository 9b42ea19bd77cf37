"""Vendor parsers on every reply layout: complete, trailing fields missing, `-` fields, an
unknown extra line, and garbage (which must raise ATParseError and nothing else)."""
from __future__ import annotations

import pytest

from drivers.errors import ProtocolError
from drivers.modem import generic, huawei, quectel, sierra
from drivers.modem.base import parse_identity
from drivers.modem.parse import ATParseError, split_fields
from drivers.modem.vendors import detect_vendor

LTE = ('+QENG: "servingcell","NOCONN","LTE","FDD",214,01,7676A09,188,6300,20,3,3,603,-104,-9,'
       '-78,11,23,-,40')
SA = ('+QENG: "servingcell","CONNECT","NR5G-SA","TDD",405,86,123456789,452,4E,627264,78,12,'
      '-90,-11,12,1,-')
NSA = ['+QENG: "servingcell","NOCONN"',
       '+QENG: "LTE","FDD",222,01,328261F,280,275,1,4,4,BE3,-99,-14,-66,7,4,30,-',
       '+QENG: "NR5G-NSA",222,01,920,-96,18,-10,648768,78,10,1']


# -- Quectel -------------------------------------------------------------------------------------
def test_quectel_lte_single_line() -> None:
    link = quectel.parse_servingcell([LTE], lte_sinr="2v-20")
    assert (link.rat, link.state) == ("LTE", "idle")
    (c,) = link.cells
    assert (c.rat, c.mcc, c.mnc, c.cell_id, c.pci, c.arfcn, c.band, c.tac) == (
        "LTE", "214", "01", "7676A09", 188, 6300, "B20", "603")
    assert (c.rsrp_dbm, c.rsrq_db) == (-104.0, -9.0)
    assert c.sinr_db == 2 * 11 - 20


def test_quectel_lte_sinr_is_a_per_model_setting() -> None:
    assert quectel.parse_servingcell([LTE], "v/5-20").cells[0].sinr_db == pytest.approx(-17.8)
    assert quectel.parse_servingcell([LTE], "dB").cells[0].sinr_db == 11
    assert quectel.lte_sinr_for_model("RM520N-GL") == "2v-20"
    assert quectel.lte_sinr_for_model("EG25-G") == "v/5-20"
    with pytest.raises(ATParseError):
        quectel.parse_servingcell([LTE], "bogus")


def test_quectel_lte_capture_that_stops_after_cqi() -> None:
    # an LTE-only module's capture ends at <CQI>: tx_power and srxlev missing
    short = ('+QENG: "servingcell","NOCONN","LTE","FDD",214,01,7676A09,188,6300,20,3,3,603,-104,'
             '-9,-78,11,23')
    c = quectel.parse_servingcell([short]).cells[0]
    assert (c.cell_id, c.rsrp_dbm, c.sinr_db) == ("7676A09", -104.0, 2.0)


def test_quectel_lte_missing_trailing_signal_fields_are_none() -> None:
    cut = '+QENG: "servingcell","LIMSRV","LTE","FDD",214,01,7676A09,188,6300,20'
    link = quectel.parse_servingcell([cut])
    c = link.cells[0]
    assert link.state == "limited"
    assert (c.band, c.tac, c.rsrp_dbm, c.rsrq_db, c.sinr_db) == ("B20", None, None, None, None)


def test_quectel_sa_single_line() -> None:
    link = quectel.parse_servingcell(["", SA, "OK-not-a-final-line"])
    assert (link.rat, link.state) == ("NR5G-SA", "connected")
    c = link.cells[0]
    assert (c.rat, c.mcc, c.mnc, c.cell_id, c.pci, c.tac, c.arfcn, c.band) == (
        "NR5G", "405", "86", "123456789", 452, "4E", 627264, "n78")
    assert (c.rsrp_dbm, c.rsrq_db, c.sinr_db) == (-90.0, -11.0, 12.0)


def test_quectel_sa_without_scs_and_srxlev() -> None:
    short = SA.rsplit(",", 2)[0]
    assert short.endswith(",12")
    assert quectel.parse_servingcell([short]).cells[0].sinr_db == 12.0


def test_quectel_dash_fields_are_none() -> None:
    dashed = ('+QENG: "servingcell","CONNECT","NR5G-SA","TDD",405,86,-,452,-,627264,78,12,'
              '-,-11,-,1,-')
    c = quectel.parse_servingcell([dashed]).cells[0]
    assert (c.cell_id, c.tac, c.rsrp_dbm, c.sinr_db, c.rsrq_db) == (None, None, None, None, -11.0)


def test_quectel_endc_multi_line_sinr_before_rsrq() -> None:
    link = quectel.parse_servingcell(NSA)
    assert (link.rat, link.state) == ("NR5G-NSA", "idle")
    lte, nr = link.cells
    assert (lte.rat, lte.cell_id, lte.pci, lte.tac, lte.rsrp_dbm) == (
        "LTE", "328261F", 280, "BE3", -99.0)
    assert lte.sinr_db == 2 * 7 - 20
    assert (nr.rat, nr.pci, nr.rsrp_dbm, nr.sinr_db, nr.rsrq_db, nr.arfcn, nr.band) == (
        "NR5G", 920, -96.0, 18.0, -10.0, 648768, "n78")
    assert link.primary is nr


def test_quectel_multi_line_form_with_no_nr_leg_is_lte() -> None:
    link = quectel.parse_servingcell(NSA[:2])
    assert link.rat == "LTE" and [c.rat for c in link.cells] == ["LTE"]


def test_quectel_unknown_extra_line_is_ignored() -> None:
    lines = [NSA[0], '+QENG: "WCDMA",460,00,1234', "+QFOO: 1,2,3", *NSA[1:], "random text"]
    assert quectel.parse_servingcell(lines) == quectel.parse_servingcell(NSA)


def test_quectel_searching_has_no_cells() -> None:
    link = quectel.parse_servingcell(['+QENG: "servingcell","SEARCH"'])
    assert (link.rat, link.state, link.cells) == ("", "searching", ())


@pytest.mark.parametrize("lines", [
    [],
    ["garbage"],
    ['+QENG: "servingcell","DANCING","LTE"'],
    ['+QENG: "servingcell","CONNECT","5G-WHATEVER",1,2,3'],
    ['+QENG: "servingcell","CONNECT"'],            # camped but no RAT line
    ['+QENG: "servingcell","NOCONN","LTE","DUPLEX",214,01'],
])
def test_quectel_unsplittable_reply_raises_parse_error(lines: list[str]) -> None:
    with pytest.raises(ATParseError):
        quectel.parse_servingcell(lines)


@pytest.mark.parametrize("line, field_name, raw", [
    ('+QENG: "servingcell","NOCONN","LTE","FDD",2x4,01,7676A09,188,6300,20', "LTE MCC", "2x4"),
    ('+QENG: "servingcell","NOCONN","LTE","FDD",214,01,ZZZZ,188,6300,20', "LTE cellID", "ZZZZ"),
    ('+QENG: "servingcell","NOCONN","LTE","FDD",214,01,7676A09,99999,6300,20', "LTE PCID",
     "99999"),
    ('+QENG: "servingcell","NOCONN","LTE","FDD",214,01,7676A09,188,6300,20,3,3,603,nan', "LTE RSRP",
     "nan"),
])
def test_quectel_one_odd_field_is_none_with_a_warning(line: str, field_name: str, raw: str) -> None:
    link = quectel.parse_servingcell([line], "2v-20")
    (c,) = link.cells
    assert link.rat == "LTE" and c.band == "B20"            # the rest of the reply is kept
    assert any(w.startswith(field_name) and raw in w for w in link.warnings), link.warnings
    assert len(link.warnings) == 1


def test_quectel_qnwinfo_qrsrp_qcsq() -> None:
    assert quectel.parse_qnwinfo(['+QNWINFO: "FDD LTE","26203","LTE BAND 1",250']) == {
        "act": "FDD LTE", "operator": "26203", "band": "LTE BAND 1", "channel": 250}
    assert quectel.parse_qnwinfo(["+QNWINFO: No Service"])["act"] == "No Service"
    # unquoted operator (some firmware)
    assert quectel.parse_qnwinfo(['+QNWINFO: "NR5G-SA",46001,"NR5G BAND 78",627300'])[
        "operator"] == "46001"
    rsrp = quectel.parse_qrsrp(["+QRSRP: -79,-99,-105,-32768,NR5G",
                                "+QRSRP: -90,-92,-32768,-32768,LTE"])
    assert rsrp == {"NR5G": [-79.0, -99.0, -105.0, None], "LTE": [-90.0, -92.0, None, None]}
    # +QCSQ: the layout follows the system mode (NR5G: RSRP,SINR,RSRQ; LTE: RSSI,RSRP,SINR,RSRQ)
    assert quectel.parse_qcsq(['+QCSQ: "NR5G",-75,4,-11']) == [
        {"sysmode": "NR5G", "rsrp_dbm": -75.0, "sinr_db": 4.0, "rsrq_db": -11.0}]
    both = quectel.parse_qcsq(['+QCSQ: "LTE",-62,-90,150,-11', '+QCSQ: "NR5G",-85,12,-12'])
    assert both[0] == {"sysmode": "LTE", "rssi_dbm": -62.0, "rsrp_dbm": -90.0, "sinr_db": 10.0,
                       "rsrq_db": -11.0}
    assert both[1]["rsrp_dbm"] == -85.0 and both[1]["sinr_db"] == 12.0
    assert quectel.parse_qcsq(['+QCSQ: "NOSERVICE"']) == [{"sysmode": "NOSERVICE"}]
    warn: list[str] = []
    unsigned = quectel.parse_qcsq(['+QCSQ: "LTE",85,-124,55,-18'], warn)[0]
    assert unsigned["rssi_dbm"] is None and unsigned["rsrp_dbm"] == -124.0
    assert warn == ["QCSQ LTE RSSI: 85 is outside -130..-10"]
    for fn, bad in ((quectel.parse_qnwinfo, ["+QNWINFO: ,x"]), (quectel.parse_qrsrp, ["+QRSRP: x,NR5G"]),
                    (quectel.parse_qcsq, ['+QCSQ: "LTE",a']), (quectel.parse_qrsrp, ["OK"]),
                    (quectel.parse_qcsq, ['+QCSQ: "NR5G-SA",-51,-80,2,-11'])):
        with pytest.raises(ATParseError):
            fn(bad)


# -- Huawei --------------------------------------------------------------------------------------
def test_huawei_hcsq_index_decoding() -> None:
    # NR RSRQ is on the firmware's own 1 dB table (-40 + v), not LTE's 0.5 dB CESQ one
    nr = huawei.parse_hcsq(['^HCSQ: "NR",58,165,22'])
    assert nr == {"sysmode": "NR", "rsrp_dbm": -83.0, "sinr_db": pytest.approx(12.8),
                  "rsrq_db": -18.0}
    lte = huawei.parse_hcsq(['^HCSQ: "LTE",50,40,255,20'])
    assert lte["rssi_dbm"] == -71.0 and lte["rsrp_dbm"] == -101.0
    assert lte["sinr_db"] is None and lte["rsrq_db"] == -10.0        # 255 = invalid
    assert huawei.parse_hcsq(['^HCSQ: "NOSERVICE"']) == {"sysmode": "NOSERVICE"}
    assert huawei.parse_hcsq(['^HCSQ: "NR",58']) == {"sysmode": "NR", "rsrp_dbm": -83.0,
                                                      "sinr_db": None, "rsrq_db": None}
    for bad in (['^HCSQ: "NR",200,1,1'], ['^HCSQ: "LTE",x'], ["nothing"]):
        with pytest.raises(ATParseError):
            huawei.parse_hcsq(bad)


def test_huawei_monsc_nr_and_lte_layouts() -> None:
    nr = huawei.parse_monsc(["^MONSC: NR,460,00,636648,0,10321,1FA,2F01,-83,-9,12.8"])
    assert nr is not None
    assert (nr.rat, nr.mcc, nr.mnc, nr.arfcn, nr.cell_id, nr.pci, nr.tac) == (
        "NR5G", "460", "00", 636648, "10321", 0x1FA, "2F01")
    assert (nr.rsrp_dbm, nr.rsrq_db, nr.sinr_db) == (-83.0, -9.0, 12.8)
    # LTE: PCI printed with %X like cell id and TAC (so DF is PCI 223)
    lte = huawei.parse_monsc(["^MONSC: LTE,460,11,1750,B26F9B2,DF,5D63,-91,-14,-56"])
    assert lte is not None
    assert (lte.rat, lte.arfcn, lte.cell_id, lte.pci, lte.tac, lte.rsrp_dbm, lte.rsrq_db,
            lte.sinr_db) == ("LTE", 1750, "B26F9B2", 0xDF, "5D63", -91.0, -14.0, None)
    assert huawei.parse_monsc(["^MONSC: NONE"]) is None
    short = huawei.parse_monsc(["^MONSC: NR,460,00,636648,0,10321,1FA,2F01,-83"])
    assert short is not None and short.rsrq_db is None and short.sinr_db is None
    assert huawei.parse_monsc(["^MONSC: GSM,460,00,1,12,49,2D54,57B2,-68,,"]) is None
    for bad in (["^MONSC: WIMAX,1,2"], ["^MONSC: NR,460,00,x"], []):
        with pytest.raises(ATParseError):
            huawei.parse_monsc(bad)
    warn: list[str] = []
    odd = huawei.parse_monsc(["^MONSC: LTE,460,00,41332,789F6BB,403,11D6,-114,-6,-88"], warn)
    assert odd is not None and odd.pci is None and odd.rsrp_dbm == -114.0   # 0x403 > 503
    assert warn == ["^MONSC LTE PCI: 403 (= 1027) is outside 0..503"]


# -- Sierra --------------------------------------------------------------------------------------
GSTATUS_SA = ["!GSTATUS: ", "Current Time:  6046\t\tTemperature: 41",
              "Reset Counter: 2\t\tMode:        ONLINE",
              "System mode:   NR5G   \tPS state:    Attached",
              "NR5G band:     n78\t\tNR5G bw:     100 MHz",
              "NR5G RSRP (dBm): -111\tNR5G RSRQ (dB): -11",
              "NR5G SINR (dB): 12.0"]
GSTATUS_LTE = ["!GSTATUS: ", "System mode:   LTE        PS state:    Attached",
               "LTE band:      B3        LTE bw:      20 MHz",
               "PCC RxM RSRP:  -119      PCC RxD RSRP: -121",
               "RSRQ (dB):     -11.6     SINR (dB):   12.2", "RRC state:     RRC Idle",
               "Cell ID:       0A1B2C3   TAC:         01F4"]


def test_sierra_gstatus_by_label() -> None:
    sa = sierra.parse_gstatus(GSTATUS_SA)
    assert (sa.rat, sa.state) == ("NR5G-SA", "connected")
    c = sa.cells[0]
    assert (c.rat, c.band, c.rsrp_dbm, c.rsrq_db, c.sinr_db) == ("NR5G", "n78", -111.0, -11.0,
                                                                  12.0)
    lte = sierra.parse_gstatus(GSTATUS_LTE)
    assert (lte.rat, lte.state) == ("LTE", "idle")
    c = lte.cells[0]
    assert (c.band, c.rsrp_dbm, c.rsrq_db, c.sinr_db, c.cell_id, c.tac) == (
        "B3", -119.0, -11.6, 12.2, "A1B2C3", "1F4")       # ids keep their value, not padding


def test_sierra_order_and_extra_lines_do_not_matter() -> None:
    shuffled = [GSTATUS_SA[0], "Unknown thing: 42\t\tAnother: x", *reversed(GSTATUS_SA[1:])]
    assert sierra.parse_gstatus(shuffled) == sierra.parse_gstatus(GSTATUS_SA)


def test_sierra_missing_and_dash_values() -> None:
    link = sierra.parse_gstatus(["System mode:   NR5G", "NR5G RSRP (dBm): ---"])
    assert link.cells[0].rsrp_dbm is None and link.cells[0].sinr_db is None
    assert sierra.parse_gstatus(["System mode: NONE"]).rat == ""


@pytest.mark.parametrize("lines", [[], ["garbage"], ["System mode: WIMAX"]])
def test_sierra_garbage(lines: list[str]) -> None:
    with pytest.raises(ATParseError):
        sierra.parse_gstatus(lines)


def test_sierra_odd_value_is_none_with_a_warning() -> None:
    link = sierra.parse_gstatus(["System mode: LTE", "PCC RxM RSRP: loud", "LTE band: B3"])
    assert link.cells[0].rsrp_dbm is None and link.cells[0].band == "B3"
    assert link.warnings == ("!GSTATUS PCC RxM RSRP: 'loud' is not a number",)
    nr = sierra.parse_gstatus(["System mode: NR5G", "NR5G band: nXY", "NR5G RSRP (dBm): -90"])
    assert nr.cells[0].band is None and nr.cells[0].rsrp_dbm == -90.0
    assert nr.warnings == ("!GSTATUS NR5G band: 'nXY' is not a band",)


# -- generic 3GPP --------------------------------------------------------------------------------
def test_generic_commands() -> None:
    assert generic.parse_csq(["+CSQ: 23,99"]) == -67.0
    assert generic.parse_csq(["+CSQ: 99,99"]) is None
    assert generic.parse_cops(['+COPS: 0,0,"freenet freenet",7']) == (0, "freenet freenet", 7)
    assert generic.parse_cops(['+COPS: 0,0,"Vivo",11'])[2] == 11
    assert generic.parse_cops(["+COPS: 0"]) == (0, None, None)
    reg = generic.parse_reg(['+C5GREG: 2,1,"4E","5C4225714",11'], "+C5GREG:")
    assert (reg.stat, reg.tac, reg.ci, reg.act, reg.registered) == (1, "4E", "5C4225714", 11,
                                                                     True)
    assert generic.parse_reg(["+CEREG: 0,2"]).registered is False
    # Balong pads the 36-bit NR cell id to 16 hex digits; the value is what counts
    padded = generic.parse_reg(['+C5GREG: 2,1,"14225C","0000000C027F5065",11,1,"01"'], "+C5GREG:")
    assert (padded.ci, padded.tac) == ("C027F5065", "14225C")
    warn: list[str] = []
    wide = generic.parse_reg(['+C5GREG: 2,1,"14225C","1000000C027F5065",11'], "+C5GREG:", warn)
    assert wide.ci is None and wide.registered and "wider than 36 bits" in warn[0]
    assert generic.parse_cgpaddr(['+CGPADDR: 1,"10.45.0.5"', "+CGPADDR: 2"]) == {
        1: ["10.45.0.5"], 2: []}
    dual = generic.parse_cgpaddr(['+CGPADDR: 1,"10.45.0.5","38.0.0.1.154.112.0.0.0.0.0.0.0.0.0.1"'])
    assert len(dual[1]) == 2
    for fn, bad in ((generic.parse_csq, ["+CSQ: 45,99"]), (generic.parse_cops, ["+COPS: x"]),
                    (generic.parse_reg, ["+CEREG: 2"]), (generic.parse_cgpaddr, ['+CGPADDR: 1,"ab;cd"']),
                    (generic.parse_csq, ["garbage"])):
        with pytest.raises(ATParseError):
            fn(bad)


def test_parse_error_is_a_protocol_error() -> None:
    assert issubclass(ATParseError, ProtocolError)


def test_split_fields_honours_quotes() -> None:
    assert split_fields('"a,b", 1 ,"-",') == ["a,b", "1", "-", ""]


def test_identity_and_vendor_detection() -> None:
    q = parse_identity(["Quectel", "RM520N-GL", "Revision: RM520NGLAAR01A07M4G"])
    assert q == {"manufacturer": "Quectel", "model": "RM520N-GL",
                 "revision": "RM520NGLAAR01A07M4G"}
    h = parse_identity(["Manufacturer: Huawei Technologies Co., Ltd.", "Model: MH5000-31"])
    assert detect_vendor(q) == "quectel" and detect_vendor(h) == "huawei"
    assert detect_vendor(parse_identity(["Manufacturer: Sierra Wireless, Incorporated"])) == "sierra"
    assert detect_vendor(parse_identity(["SIMCOM_SIM8200EA-M2"], ["+CGMM: SIM8200"])) == "generic"
