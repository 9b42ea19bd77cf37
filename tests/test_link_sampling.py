"""Link telemetry during runs: the sampler, and whole runs whose simulated modem follows a
CICV5G trace (virtual and wire mode) recording the trace's signal and cell changes."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.clock import RealClock, VirtualClock
from bench.linksample import LinkSampler
from bench.observer import Observers, RunObserver
from drivers.modem.link import LinkState, ServingCell
from drivers.sim.modem_inprocess import InProcessModem
from drivers.sim.modem_profile import FixedProfile, Step, TraceProfile, read_cicv5g

REPO = Path(__file__).resolve().parent.parent
W2S = REPO / "fixtures" / "traces" / "cicv5g_w2s_n8_v30_run01.txt"
TEMPLATE = LinkState("NR5G-SA", "connected", (ServingCell(rat="NR5G", pci=77, band="n8"),))


class Recorder(RunObserver):
    def __init__(self) -> None:
        self.events: list[tuple[int, str, dict[str, Any], int]] = []
        self.ended = False

    def on_event(self, t_ns: int, kind: str, detail: dict[str, Any]) -> None:
        assert not self.ended, "event after on_end"
        self.events.append((t_ns, kind, detail, threading.get_ident()))

    def on_end(self, t_ns: int, verdict: str, error: str | None) -> None:
        self.ended = True


def _lab(tmp_path: Path, profile: str, interval: str = "0.5 s") -> Path:
    text = (REPO / "hardware" / "sim5g.yaml").read_text()
    start = text.index("    profile:\n")
    lab = text[:start] + profile + "\n"
    lab = lab.replace("sample_interval: 0.5 s", f"sample_interval: {interval}")
    path = tmp_path / "lab.yaml"
    path.write_text(lab)
    return path


def test_sampler_on_the_virtual_clock_reports_on_the_runner_thread() -> None:
    clock = VirtualClock()
    profile = FixedProfile(LinkState("LTE", "idle", (ServingCell(rat="LTE", cell_id="A"),)),
                           [Step(1.0, LinkState("LTE", "connected",
                                                (ServingCell(rat="LTE", cell_id="B"),)))])
    rec = Recorder()
    obs = Observers([rec])
    with InProcessModem(profile, clock.now) as modem:
        sampler = LinkSampler(modem, clock, 0.25, obs, threaded=False)
        obs.observers.insert(0, sampler)
        obs.on_start(clock.now_ns(), {})
        for _ in range(40):                   # a runner polling every 50 ms for 2 s
            clock.sleep(0.05)
            obs.on_status(clock.now_ns(), None)  # type: ignore[arg-type]
        obs.on_end(clock.now_ns(), "pass", None)
    times = [t for t, kind, _, _ in rec.events if kind == "link"]
    assert times == [int(i * 0.25e9) for i in range(9)]      # 0, 0.25 ... 2.0 s, on schedule
    assert {tid for *_, tid in rec.events} == {threading.get_ident()}
    assert [s["cell_id"] for s in sampler.samples] == ["A"] * 4 + ["B"] * 5
    summary = sampler.summary()
    assert summary["cell_changes"] == [{"t_ns": 1_000_000_000, "from": "A", "to": "B"}]
    assert summary["samples"] == 9 and summary["errors"] == 0


def test_threaded_sampler_hands_samples_to_the_runner_thread() -> None:
    clock = RealClock()
    rec = Recorder()
    obs = Observers([rec])
    with InProcessModem(FixedProfile(TEMPLATE), clock.now) as modem:
        sampler = LinkSampler(modem, clock, 0.02, obs, threaded=True)
        obs.observers.insert(0, sampler)
        obs.on_start(clock.now_ns(), {})
        for _ in range(10):
            clock.sleep(0.02)
            obs.on_status(clock.now_ns(), None)  # type: ignore[arg-type]
        obs.on_end(clock.now_ns(), "pass", None)
    links = [e for e in rec.events if e[1] == "link"]
    assert len(links) >= 5
    assert {tid for *_, tid in links} == {threading.get_ident()}   # never the sampler thread
    ts = [t for t, *_ in links]
    assert ts == sorted(ts)
    assert sampler._thread is None                                   # stopped and joined


def test_virtual_run_follows_the_cicv5g_trace(tmp_path: Path) -> None:
    lab = _lab(tmp_path, "    profile: {trace: cicv5g_w2s_n8_v30_run01, rat: NR5G-SA, pci: 77, "
                         "band: 8}")
    out = tmp_path / "run"
    assert main(["run", "--lab", str(lab), "--mode", "virtual", "--cycles", "5", "--out",
                 str(out), "-q"]) == 0
    report = json.loads((out / "report.json").read_text())
    link = report["link"]
    profile = TraceProfile(read_cicv5g(W2S), TEMPLATE)
    t0 = link[0]["t_ns"]
    assert link[-1]["t_ns"] - t0 > 4.5e9           # long enough to pass the change at 4.4 s
    for s in link:                                 # every sample is the trace row of its time
        row = profile.row_at((s["t_ns"] - t0) / 1e9)
        assert (s["cell_id"], s["sinr_db"], s["rsrp_dbm"]) == (row.cell_id, row.sinr_db,
                                                               row.rsrp_dbm)
        assert (s["rat"], s["state"], s["pci"], s["band"]) == ("NR5G-SA", "connected", 77, "n8")
    seen = {(s["sinr_db"], s["rsrp_dbm"]) for s in link}
    assert {(1.0, -78.0), (3.0, -74.0)} <= seen    # the trace's first signal changes
    summary = report["link_summary"]
    duration = (link[-1]["t_ns"] - t0) / 1e9
    # the real trace keeps one serving cell (5C4225714) throughout: no change to record
    assert profile.cell_changes(0, duration) == []
    assert summary["cells"] == ["5C4225714"] and summary["cell_changes"] == []
    assert report["lab"]["modem"].startswith("inprocess-modem:")


def test_virtual_run_records_the_cell_changes_of_a_trace(tmp_path: Path) -> None:
    # a file in the CICV5G format made here (not measured data): two handovers
    rows = ["pub_time(ms) sub_time(ms) delay(ms) utmX(m) utmY(m) heading(rad) velocity(m/s) "
            "cellid(db) sinr(db) rsrp(db) extra"]
    for i in range(80):                              # 20 Hz for 4 s
        cell = "5C4225714" if i < 20 or i >= 50 else "5C422503D"
        rows.append(f"{1721032002250 + 50 * i} {1721032002270 + 50 * i} 20 0 0 0 8 {cell} "
                    f"{10 + i % 3} {-80 - i % 5} 1.5")
    trace = tmp_path / "handover.txt"
    trace.write_text("\n".join(rows) + "\n")
    lab = _lab(tmp_path, f"    profile: {{trace: {trace}, rat: NR5G-SA}}", interval="0.1 s")
    out = tmp_path / "run"
    assert main(["run", "--lab", str(lab), "--mode", "virtual", "--cycles", "4", "--out",
                 str(out), "-q"]) == 0
    report = json.loads((out / "report.json").read_text())
    t0 = report["link"][0]["t_ns"]
    changes = [((c["t_ns"] - t0) / 1e9, c["from"], c["to"])
               for c in report["link_summary"]["cell_changes"]]
    expected = TraceProfile(read_cicv5g(trace), TEMPLATE).cell_changes(0, 10)
    assert [(a, b) for _, a, b in expected] == [("5C4225714", "5C422503D"),
                                                ("5C422503D", "5C4225714")]
    assert [(a, b) for _, a, b in changes] == [(a, b) for _, a, b in expected]
    for (t_seen, *_), (t_trace, *_) in zip(changes, expected):
        assert 0 <= t_seen - t_trace < 0.1 + 0.01   # within one sampling interval
    assert report["link_summary"]["cells"] == ["5C4225714", "5C422503D"]


def test_wire_run_samples_the_modem_simulator_process(tmp_path: Path) -> None:
    lab = _lab(tmp_path, "    profile: {trace: cicv5g_w2s_n8_v30_run01, rat: NR5G-SA, pci: 77, "
                         "band: 8}", interval="0.2 s")
    out = tmp_path / "run"
    assert main(["run", "--lab", str(lab), "--cycles", "2", "--out", str(out), "-q"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["lab"]["modem"].startswith("at:quectel@/dev/")
    link = report["link"]
    span_s = (link[-1]["t_ns"] - link[0]["t_ns"]) / 1e9
    assert len(link) >= 3
    assert len(link) == pytest.approx(span_s / 0.2 + 1, abs=2)     # on schedule
    # the run is shorter than the trace's first change (4.3 s): its first row throughout
    assert {(s["cell_id"], s["sinr_db"], s["rsrp_dbm"]) for s in link} == {
        ("5C4225714", 1.0, -78.0)}
    assert report["link_summary"]["errors"] == 0
    ts = [s["t_ns"] for s in link]
    assert ts == sorted(ts)
    assert report["samples"][0]["t_command_ns"] <= ts[-1]      # same clock as the robot data


def test_lab_modem_section_errors_name_file_line_and_key(tmp_path: Path) -> None:
    lab = _lab(tmp_path, "    profile: {trace: no-such-trace}")
    assert main(["run", "--lab", str(lab), "--mode", "virtual", "--out",
                 str(tmp_path / "r")]) == 2
    text = (REPO / "hardware" / "sim5g.yaml").read_text().replace("vendor: auto", "vendor: nokia")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    from bench.lab import load_lab
    from drivers.errors import ConfigError
    with pytest.raises(ConfigError) as err:
        load_lab(str(bad))
    line = text.splitlines().index("  vendor: nokia          # detected from ATI") + 1
    assert str(err.value).startswith(f"{bad}:{line}: modem.vendor:")
    assert not (tmp_path / "r" / "report.json").exists()
