"""End to end: the modem simulator on a real pty (and as `sim serve` for a lab), read by
`hil-bench modem status` / `watch` running as a separate process."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from drivers.modem.link import LinkState, ServingCell
from drivers.sim.byteserver import PtyServer
from drivers.sim.modem_at import start_modem_server
from drivers.sim.modem_params import ModemSimParams
from drivers.sim.modem_profile import FixedProfile, Step

NSA = LinkState("NR5G-NSA", "connected", (
    ServingCell(rat="LTE", mcc="222", mnc="01", cell_id="328261F", pci=280, tac="BE3",
                arfcn=275, band="B1", rsrp_dbm=-99.0, rsrq_db=-14.0, sinr_db=-6.0),
    ServingCell(rat="NR5G", mcc="222", mnc="01", pci=920, arfcn=648768, band="n78",
                rsrp_dbm=-96.0, rsrq_db=-10.0, sinr_db=18.0)))


def hil_bench(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def pty_modem() -> Iterator[PtyServer]:
    server = start_modem_server(ModemSimParams(profile=FixedProfile(NSA), vendor="quectel",
                                               model="RM520N-GL", transport="pty"))
    yield server
    server.stop()


def test_modem_status_reads_the_simulator_on_a_pty(pty_modem: PtyServer) -> None:
    assert Path(pty_modem.url).exists()
    r = hil_bench("modem", "status", pty_modem.url, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert list(data) == ["rat", "state", "cells", "warnings", "notes"]
    assert list(data["cells"][0]) == ["rat", "mcc", "mnc", "cell_id", "pci", "tac", "arfcn",
                                      "band", "rsrp_dbm", "rsrq_db", "sinr_db"]
    # the multi-line EN-DC answer, SINR raw-encoded by the RM520N and decoded back
    assert LinkState.from_dict(data) == LinkState(NSA.rat, NSA.state, (
        NSA.cells[0], ServingCell(rat="NR5G", mcc="222", mnc="01", pci=920, arfcn=648768,
                                  band="n78", rsrp_dbm=-96.0, rsrq_db=-10.0, sinr_db=18.0)))
    assert pty_modem.responder.commands >= 3       # ATE0, AT+CMEE=1, ATI, ..., AT+QENG


def test_modem_status_text_and_explicit_vendor(pty_modem: PtyServer) -> None:
    r = hil_bench("modem", "status", pty_modem.url, "--vendor", "quectel")
    assert r.returncode == 0, r.stderr
    assert "rat:    NR5G-NSA" in r.stdout and "cell_id 328261F" in r.stdout
    assert "rsrp_dbm -96" in r.stdout


def test_modem_watch_prints_one_line_per_sample() -> None:
    cells = [ServingCell(rat="NR5G", cell_id=c, pci=1, rsrp_dbm=r, sinr_db=s)
             for c, r, s in (("A1", -80.0, 10.0), ("B2", -95.0, 3.0))]
    profile = FixedProfile(LinkState("NR5G-SA", "connected", (cells[0],)),
                           [Step(0.25, LinkState("NR5G-SA", "connected", (cells[1],)))])
    first: list[float] = []

    def clock() -> float:       # profile time starts at the first link query, not at startup
        first.append(time.monotonic())
        return first[-1] - first[0]

    server = start_modem_server(ModemSimParams(profile=profile, vendor="huawei",
                                               model="MH5000-31", transport="tcp"), clock)
    try:
        r = hil_bench("modem", "watch", server.url, "--interval", "0.2", "--count", "4", "--json")
    finally:
        server.stop()
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 4
    ids = [row["cells"][0]["cell_id"] for row in rows]
    assert ids[-1] == "B2" and "A1" in ids            # the step happened while watching


def test_modem_status_of_a_lab_starts_its_simulator() -> None:
    r = hil_bench("modem", "status", "--lab", "sim5g", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    # the first row of the CICV5G w2s trace: cell 5C4225714, SINR 1 dB, RSRP -78 dBm
    assert data["rat"] == "NR5G-SA"
    assert (data["cells"][0]["cell_id"], data["cells"][0]["rsrp_dbm"],
            data["cells"][0]["sinr_db"]) == ("5C4225714", -78.0, 1.0)


@pytest.mark.parametrize("args, code, text", [
    (["modem", "status"], 2, "give either a modem URL or --lab"),
    (["modem", "status", "/dev/no-such-modem"], 3, "cannot open AT port"),
    (["modem", "status", "modbus://nowhere"], 2, "expected modbus://HOST:PORT"),
    (["modem", "watch", "/dev/null", "--interval", "0"], 2, "--interval"),
])
def test_modem_cli_errors_are_one_line(args: list[str], code: int, text: str) -> None:
    r = hil_bench(*args)
    assert r.returncode == code
    assert text in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_lab_with_a_modbus_router_is_served_and_read(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    robot = (Path(__file__).parent.parent / "hardware" / "sim.yaml").read_text()
    lab.write_text(robot + """modem:
  driver: modbus
  map: modem-native
  simulate: true
  simulator:
    profile: {rat: LTE, state: idle, cell_id: 1A2B3C4, pci: 12, band: 3, rsrp_dbm: -101.5}
""")
    r = hil_bench("modem", "status", "--lab", str(lab), "--json")
    assert r.returncode == 0, r.stderr
    cell = json.loads(r.stdout)["cells"][0]
    assert (cell["rat"], cell["cell_id"], cell["pci"], cell["band"], cell["rsrp_dbm"]) == (
        "LTE", "1A2B3C4", 12, "B3", -101.5)


@pytest.mark.parametrize("lab", ["sim5g-huawei", "sim5g-quectel-early"])
def test_status_of_simulated_field_modules_shows_every_field_and_odd_ones(lab: str) -> None:
    path = Path(__file__).parent.parent / "hardware" / f"{lab}.yaml"
    r = hil_bench("modem", "status", "--lab", str(path), "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    keys = ["rat", "mcc", "mnc", "cell_id", "pci", "tac", "arfcn", "band", "rsrp_dbm",
            "rsrq_db", "sinr_db"]
    assert all(list(c) == keys for c in data["cells"])
    if lab == "sim5g-huawei":
        # MONSC + HFREQINFO + C5GREG + CGPADDR: every field of the NR cell is known
        assert data["rat"] == "NR5G-SA" and data["state"] == "connected"
        (nr,) = data["cells"]
        assert all(nr[k] is not None for k in keys), nr
        assert (nr["pci"], nr["tac"], nr["cell_id"], nr["band"]) == (276, "14225C", "C027F5065",
                                                                      "n41")
        assert data["warnings"] == []
    else:
        # early RM500Q NSA firmware: NR SINR printed in 0.1 dB steps -> unknown, with a warning;
        # the LTE anchor and the rest of the NR leg are kept
        assert data["rat"] == "NR5G-NSA"
        lte, nr = data["cells"]
        assert all(lte[k] is not None for k in keys)
        assert (nr["pci"], nr["rsrp_dbm"], nr["rsrq_db"], nr["sinr_db"]) == (500, -75.0, -11.0,
                                                                              None)
        assert data["warnings"] == ["NR5G-NSA SINR: 185 is outside -25..45"]
