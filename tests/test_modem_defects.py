"""One test per class of defect the field corpus showed, each on a real capture (sources in the
sample's side file under tests/data/at-field/ and in docs/modem.md)."""
from __future__ import annotations

from typing import Iterator

import pytest

from drivers.modem import huawei, quectel, sierra
from drivers.modem.at import ATSettings
from drivers.modem.generic import parse_reg
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.vendors import open_at_modem
from drivers.sim.byteserver import PtyServer
from drivers.sim.modem_at import start_modem_server
from drivers.sim.modem_params import ModemSimParams
from drivers.sim.modem_profile import FixedProfile
from tests.modem_corpus import load

S = {s.id: s for s in load()}


def test_balong_nr_rsrq_is_on_the_nr_table_and_agrees_with_monsc() -> None:
    # MT5700M-CN, same moment (luci-app-mt5700 CHANGELOG v1.12.9): ^HCSQ "NR",77,241,31 and
    # ^MONSC ...,-65,-9,29. Balong's AT_Format5GHcsqResult converts NR RSRQ with
    # AT_ConvertCerssiRsrq (1 dB steps from -40 dB), not LTE's 0.5 dB CESQ table.
    hcsq = huawei.parse_hcsq(S["huawei-hcsq-nr-mt5700m"].lines)
    monsc = huawei.parse_monsc(S["huawei-monsc-nr-mt5700m"].lines)
    assert monsc is not None and monsc.rsrp_dbm is not None and monsc.sinr_db is not None
    assert hcsq["rsrq_db"] == monsc.rsrq_db == -9.0
    assert isinstance(hcsq["rsrp_dbm"], float) and isinstance(hcsq["sinr_db"], float)
    assert abs(hcsq["rsrp_dbm"] - monsc.rsrp_dbm) <= 1.0          # index = lower step edge
    assert abs(hcsq["sinr_db"] - monsc.sinr_db) <= 1.0
    lte_scale = -20.0 + 31 / 2                                     # what the LTE table says
    assert abs(lte_scale - monsc.rsrq_db) > 4


def test_balong_monsc_lte_pci_and_tac_are_hex() -> None:
    df = huawei.parse_monsc(S["huawei-monsc-lte-hex-pci-df"].lines)
    assert df is not None and (df.pci, df.tac, df.arfcn) == (0xDF, "5D63", 1750)
    # MT5700M-CN in LTE: EARFCN first (%u), then cell id, PCI, TAC (%X) - not TAC first
    mt = huawei.parse_monsc(S["huawei-monsc-lte-mt5700m"].lines)
    assert mt is not None and (mt.arfcn, mt.cell_id, mt.pci, mt.tac) == (38400, "D975244", 8,
                                                                        "24C8")
    assert mt.sinr_db is None                                       # the LTE layout has none


def test_zero_padded_nr_cell_ids_are_the_same_cell() -> None:
    sa = quectel.parse_servingcell(S["quectel-qeng-sa-rm520n-limsrv"].lines, model="RM520N-GL")
    assert sa.cells[0].cell_id == "BC614E"                          # printed 000BC614E
    reg = parse_reg(S["generic-c5greg-balong-padded"].lines, "+C5GREG:")
    cell = huawei.parse_monsc(["^MONSC: NR,460,00,524910,1,C027F5065,114,14225C,-74,-9,17"])
    assert cell is not None and reg.ci == cell.cell_id == "C027F5065"   # 16 digits vs 9


def test_qcsq_layout_follows_the_mode_and_unsigned_rssi_is_odd() -> None:
    (nr,) = quectel.parse_qcsq(S["quectel-qcsq-nr5g-rm520n"].lines)
    assert nr == {"sysmode": "NR5G", "rsrp_dbm": -75.0, "sinr_db": 4.0, "rsrq_db": -11.0}
    warn: list[str] = []
    (lte,) = quectel.parse_qcsq(S["quectel-qcsq-lte-qdc507-unsigned-rssi"].lines, warn)
    assert lte["rssi_dbm"] is None and warn == ["QCSQ LTE RSSI: 85 is outside -130..-10"]
    assert (lte["rsrp_dbm"], lte["rsrq_db"]) == (-124.0, -18.0)
    eng = quectel.parse_servingcell(S["quectel-qeng-lte-qdc507"].lines, model="QDC507")
    assert lte["sinr_db"] == eng.cells[0].sinr_db == -9.0          # same moment, both -9 dB


def test_sierra_gstatus_fills_every_field_the_block_prints() -> None:
    em7455 = sierra.parse_gstatus(S["sierra-gstatus-lte-em7455-dw5811e"].lines)
    (c,) = em7455.cells
    assert (em7455.state, c.band, c.arfcn, c.tac, c.cell_id, c.rsrp_dbm, c.rsrq_db,
            c.sinr_db) == ("connected", "B3", 1749, "D5AC", "23E3E34", -112.0, -20.0, -6.4)
    endc = sierra.parse_gstatus(S["sierra-gstatus-endc-em9191-partial"].lines)
    assert endc.rat == "NR5G-NSA" and endc.cells[0].arfcn == 1700
    sa = sierra.parse_gstatus(["System mode:   NR5G           PS state:    Not attached",
                               "NR5G TAC:        2d6600       NR5G Cell ID:    1C649D138 "
                               "(7621693752)", "NR5G MCC-MNC:    310-260",
                               "NR5G band:       n41          NR5G Carrier ID: 0",
                               "NR5G Rx chan:    521232"])
    nrc = sa.cells[0]
    assert (nrc.mcc, nrc.mnc, nrc.tac, nrc.cell_id, nrc.arfcn, nrc.band) == (
        "310", "260", "2D6600", "1C649D138", 521232, "n41")


@pytest.mark.parametrize("sample_id, model, raw, db", [
    ("quectel-qeng-endc-rm500q-early", "RM500Q", 25, 30.0),   # qmicli: LTE SNR 30.0 dB
    ("quectel-qeng-lte-ec200t", "EC200T", 5, 5.0),            # reporter: no conversion
    ("quectel-qeng-lte-qdc507", "QDC507", -9, -9.0),          # = +QCSQ 55 on the 1/5 dB scale
])
def test_qeng_lte_sinr_encoding_per_model(sample_id: str, model: str, raw: int, db: float) -> None:
    link = quectel.parse_servingcell(S[sample_id].lines, model=model)
    lte = next(c for c in link.cells if c.rat == "LTE")
    assert lte.sinr_db == db and link.notes == ()
    assert quectel.lte_sinr_choice(model)[1]                   # an evidence entry exists
    unknown = quectel.parse_servingcell(S[sample_id].lines, model="XYZ-1")
    assert any("'XYZ-1'" in n and "2v-20" in n for n in unknown.notes)


def test_early_firmware_odd_nr_sinr_keeps_the_rest_of_the_reply() -> None:
    link = quectel.parse_servingcell(S["quectel-qeng-endc-rm500q-early"].lines, model="RM500Q")
    lte, nr = link.cells
    assert link.rat == "NR5G-NSA" and lte.rsrp_dbm == -70.0 and lte.cell_id == "1A2D001"
    assert (nr.pci, nr.rsrp_dbm, nr.rsrq_db, nr.sinr_db) == (500, -75.0, -11.0, None)
    assert link.warnings == ("NR5G-NSA SINR: 180 is outside -25..45",)


@pytest.fixture
def balong() -> Iterator[PtyServer]:
    link = LinkState("NR5G-SA", "connected", (ServingCell(
        rat="NR5G", mcc="460", mnc="00", cell_id="C027F5065", pci=276, tac="14225C",
        arfcn=524910, band="n41", rsrp_dbm=-74.0, rsrq_db=-9.0, sinr_db=17.0),))
    server = start_modem_server(ModemSimParams(profile=FixedProfile(link), vendor="huawei",
                                               model="MT5700M-CN", transport="pty"))
    assert isinstance(server, PtyServer)
    yield server
    server.stop()


def test_an_unreadable_registration_reply_does_not_fail_read_link(balong: PtyServer) -> None:
    # a real pty and the simulated module, with its +C5GREG / +CEREG replies garbled
    balong.responder.renderers.insert(
        0, lambda cmd, link: ["+C5GREG: garbage"] if cmd == "+C5GREG?" else
        (["+CEREG: ,,,"] if cmd == "+CEREG?" else None))
    with open_at_modem(ATSettings(balong.url, timeout_s=1.0), "huawei") as modem:
        link = modem.read_link()
    assert link.rat == "NR5G-SA" and link.cells[0].pci == 276 and link.cells[0].band == "n41"
    assert any(w.startswith("AT+C5GREG?") for w in link.warnings)
    assert any(w.startswith("AT+CEREG?") for w in link.warnings)


def test_balong_endc_reading_has_the_nr_leg_from_hcsq() -> None:
    anchor = ServingCell(rat="LTE", mcc="460", mnc="00", arfcn=38400, cell_id="D975244", pci=8,
                         tac="24C8", band="B39", rsrp_dbm=-85.0, rsrq_db=-10.0, sinr_db=13.0)
    nr = ServingCell(rat="NR5G", rsrp_dbm=-64.0, rsrq_db=-9.0, sinr_db=28.0)
    server = start_modem_server(ModemSimParams(
        profile=FixedProfile(LinkState("NR5G-NSA", "connected", (anchor, nr))), vendor="huawei",
        model="MT5700M-CN", transport="pty"))
    try:
        with open_at_modem(ATSettings(server.url, timeout_s=1.0), "huawei") as modem:
            link = modem.read_link()
    finally:
        server.stop()
    assert link.rat == "NR5G-NSA" and link.state == "connected" and link.warnings == ()
    assert link.cells == (anchor, nr)
