"""The Modbus register path for CPE routers: modem maps, the simulated router on a real pymodbus
server, read by ModbusModem, by `hil-bench modem status modbus://...` and by mbpoll."""
from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest

from drivers.errors import ConfigError, ProtocolError
from drivers.modbus.transport import ModbusSettings
from drivers.modem.link import LinkState, ServingCell
from drivers.modem.modbus import ModbusModem, load_modem_map, resolve_modem_map
from drivers.sim.modbus_modem import start_modem_modbus_server
from drivers.sim.modem_profile import FixedProfile, LinkProfile, TraceProfile, read_cicv5g

SA = LinkState("NR5G-SA", "connected", (ServingCell(
    rat="NR5G", mcc="460", mnc="01", cell_id="5C4225714", pci=77, tac="4E", arfcn=185000,
    band="n8", rsrp_dbm=-78.5, rsrq_db=-11.0, sinr_db=1.2),))


@pytest.fixture
def serve_router() -> Iterator:
    stops: list = []

    def start(map_name: str, profile: LinkProfile, clock=None) -> int:
        mm = load_modem_map(resolve_modem_map(map_name))
        box: dict = {}
        ready = threading.Event()

        def run() -> None:
            async def main() -> None:
                server, port, regs = await start_modem_modbus_server(mm, profile, clock=clock)
                box.update(server=server, port=port, loop=asyncio.get_running_loop())
                ready.set()
                await server.serving
            asyncio.run(main())

        t = threading.Thread(target=run, daemon=True)
        t.start()
        assert ready.wait(10)
        stops.append((box, t))
        return box["port"]

    yield start
    for box, t in stops:
        asyncio.run_coroutine_threadsafe(box["server"].shutdown(), box["loop"]).result(5)
        t.join(5)


def _read(map_name: str, port: int) -> LinkState:
    mm = load_modem_map(resolve_modem_map(map_name))
    with ModbusModem(mm, ModbusSettings(port=port, timeout_s=1.0)) as modem:
        return modem.read_link()


def test_native_map_round_trip(serve_router) -> None:
    port = serve_router("modem-native", FixedProfile(SA))
    assert _read("modem-native", port) == SA          # 36-bit cell id, 0.1 dB resolution


def test_native_map_reports_missing_values_as_none(serve_router) -> None:
    bare = LinkState("LTE", "idle", (ServingCell(rat="LTE", rsrp_dbm=-100.0),))
    port = serve_router("modem-native", FixedProfile(bare))
    assert _read("modem-native", port) == bare


def test_vendor_map_amit_iog761(serve_router) -> None:
    lte = LinkState("LTE", "connected", (ServingCell(rat="LTE", mcc="262", mnc="01",
                                                     rsrp_dbm=-97.0, rsrq_db=-12.0),))
    port = serve_router("modem-amit-iog761", FixedProfile(lte))
    assert _read("modem-amit-iog761", port) == lte
    text = Path(load_modem_map(resolve_modem_map("modem-amit-iog761")).source).read_text()
    assert "AMIT IOG761 user manual" in text           # the vendor source is cited


def test_router_follows_a_trace_and_cli_reads_it(serve_router) -> None:
    rows = read_cicv5g(Path(__file__).parent.parent / "fixtures/traces/cicv5g_w2s_n8_v30_run01.txt")
    profile = TraceProfile(rows, LinkState("NR5G-SA", "connected", (ServingCell(rat="NR5G"),)))
    # the router's trace time stands at 30 s: a CLI that starts slowly on a loaded machine still
    # reads the row of that instant (on the wall clock the trace moves on every 50 ms)
    port = serve_router("modem-native", profile, clock=lambda: 30.0)
    r = subprocess.run([sys.executable, "-m", "bench", "modem", "status",
                        f"modbus://127.0.0.1:{port}", "--json"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    link = LinkState.from_dict(json.loads(r.stdout))
    row = profile.row_at(30.0)
    assert row is not rows[0] and row.t_s == pytest.approx(30.0, abs=0.2)
    assert (link.cells[0].cell_id, link.cells[0].rsrp_dbm, link.cells[0].sinr_db) == (
        row.cell_id, row.rsrp_dbm, row.sinr_db)


@pytest.mark.skipif(shutil.which("mbpoll") is None, reason="mbpoll not installed (.ci/run "
                                                           "installs it)")
def test_mbpoll_reads_the_documented_registers(serve_router) -> None:
    port = serve_router("modem-native", FixedProfile(SA))
    r = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(port), "-a", "1", "-0", "-r", "0",
                        "-c", "16", "-t", "4", "-1", "127.0.0.1"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    # lines like "[13]: 	64751 (-785)": the unsigned value first
    regs = {int(k.strip("[]")): int(v.split()[0]) for k, v in
            (line.split(":", 1) for line in r.stdout.splitlines() if line.startswith("["))}
    cid = 0x5C4225714
    assert regs[0] == 2 and regs[1] == 3                      # NR5G-SA, connected
    assert (regs[2], regs[3]) == (460, 1)
    assert (regs[4] << 16 | regs[5], regs[6]) == (cid & 0xFFFFFFFF, cid >> 32)
    assert regs[7] == 77 and regs[12] == 8
    as_int16 = {k: v - 65536 if v > 32767 else v for k, v in regs.items()}
    assert (as_int16[13], as_int16[14], as_int16[15]) == (-785, -110, 12)   # 0.1 dB


def test_unknown_rat_code_is_a_protocol_error(serve_router, tmp_path) -> None:
    port = serve_router("modem-native", FixedProfile(SA))
    text = Path(resolve_modem_map("modem-native")).read_text()
    bad = tmp_path / "m.yaml"
    bad.write_text(text.replace('rats: {0: "", 1: LTE, 2: NR5G-SA, 3: NR5G-NSA}',
                                'rats: {0: "", 1: LTE}'))
    mm = load_modem_map(bad)
    with ModbusModem(mm, ModbusSettings(port=port, timeout_s=1.0)) as modem:
        with pytest.raises(ProtocolError, match="unknown code 2"):
            modem.read_link()


@pytest.mark.parametrize("edit, where", [
    (("  pci: {address: 7,", "  pcid: {address: 7,"), "registers.pcid: unknown field"),
    (("  band: {address: 12,", "  band: {address: 11,"), "overlaps"),
    (("states: {0: searching", "states: {0: dozing"), "states.0"),
])
def test_bad_modem_maps_name_file_line_and_key(tmp_path, edit, where) -> None:
    text = Path(resolve_modem_map("modem-native")).read_text()
    assert edit[0] in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(edit[0], edit[1]))
    with pytest.raises(ConfigError) as err:
        load_modem_map(bad)
    assert str(err.value).startswith(f"{bad}:") and where in str(err.value)
