"""What measured a run, in every report format: with an instrument, report.html and junit.xml show
the instrument's figures as the verdict with the robot's self-reported ones beside them and the
difference; without one, on real hardware (a Modbus server on loopback declared
`simulate: false`), report.json, report.html, junit.xml and the terminal say plainly that AP/RP
are self-reported, not ISO 9283 measurements."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.instrument_report import SELF_REPORTED, instrument_lines
from bench.reports import accuracy
from bench.reports.junit import junit_xml
from bench.reports.record import MeasurementRow
from drivers.pose import Pose
from drivers.sim.arm import ArmParams

REPO = Path(__file__).resolve().parents[1]

INSTRUMENT = {
    "name": "sim-tracker:polaris-vega", "tool": "tool", "visits": 4, "measured": 4,
    "registration": {"origin": "lab", "fre_mm": 0.012},
    "poses": {"A": {"AP": 0.45, "AP_self_reported": 0.01, "AP_unseen_by_robot": 0.44}},
    "beside": [{"subject": "A", "name": "AP", "unit": "mm", "value": 0.45,
                "self_reported": 0.01, "unseen_by_robot": 0.44},
               {"subject": "A+30mm", "name": "angular_deviation", "unit": "deg",
                "value": 0.02, "self_reported": 0.0, "unseen_by_robot": 0.02}],
}
MEASUREMENTS = [{"name": "AP", "subject": "A", "value": 0.45, "unit": "mm", "limit": 1.0,
                 "marginal": None, "outcome": "pass", "clause": "7.2.1"},
                {"name": "angular_deviation", "subject": "A+30mm", "value": 0.02, "unit": "deg",
                 "limit": 5.0, "marginal": 2.5, "outcome": "pass", "clause": ""}]


def _cases(xml: bytes) -> tuple[dict[str, str], dict[tuple[str, str], dict[str, str]]]:
    root = ET.fromstring(xml)
    suite = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}
    cases = {(tc.get("classname"), tc.get("name")):
             {p.get("name"): p.get("value") for p in tc.iter("property")}
             for tc in root.iter("testcase")}
    return suite, cases


def test_instrument_figures_with_the_robots_beside_them_in_html_and_junit() -> None:
    report = {"accuracy_source": {"source": "instrument", "iso9283": True,
                                  "instrument": INSTRUMENT["name"]},
              "instrument": INSTRUMENT, "measurements": MEASUREMENTS}
    rows = [MeasurementRow.from_json(m) for m in MEASUREMENTS]
    suite, cases = _cases(junit_xml("hil-bench.s", rows, None,
                                    accuracy.suite_properties(report),
                                    accuracy.case_properties(report)))
    assert suite["accuracy_source"] == "instrument" and suite["accuracy_iso9283"] == "true"
    assert suite["instrument"] == INSTRUMENT["name"] and suite["instrument_fre_mm"] == "0.012"
    ap = cases[("hil-bench.s.A", "AP")]
    assert (ap["value"], ap["self_reported"], ap["unseen_by_robot"]) == ("0.45", "0.01", "0.44")
    assert cases[("hil-bench.s.A+30mm", "angular_deviation")]["self_reported"] == "0.0"
    page = accuracy.html_section(report)
    assert "ISO 9283 measurements by the instrument <b>sim-tracker:polaris-vega</b>" in page
    assert ("<tr><td>A</td><td>AP</td><td>0.4500</td><td>0.0100</td><td>0.4400</td>"
            "<td>mm</td></tr>") in page
    assert "<td>A+30mm</td><td>angular_deviation</td><td>0.0200</td>" in page
    lines = instrument_lines(INSTRUMENT)
    assert "self-reported 0.0100 mm" in lines[1] and "unseen by the robot +0.4400" in lines[1]
    assert lines[2].startswith("    A+30mm angular_deviation 0.0200 deg")


def test_real_hardware_without_instrument_says_self_reported_everywhere(
        tmp_path: Path, serve_arm, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.cli import main
    served = serve_arm(ArmParams(repeatability_mm=0.01, home=Pose(400, 0, 300, 180, 0, 0)))
    lab = tmp_path / "lab.yaml"
    lab.write_text((REPO / "hardware" / "sim.yaml").read_text()
                   .replace("simulate: true", "simulate: false")
                   .replace("port: 5020", f"port: {served.port}"))
    sc = tmp_path / "sc.yaml"
    sc.write_text("name: two\nposes:\n  A: {x: 420, y: 0, z: 300, a: 180}\n"
                  "  B: {x: 400, y: 20, z: 300, a: 180}\ncycles: 2\nspeed: 500 mm/s\n"
                  "settle: 10 ms\ntolerances:\n  AP: {max: 1 mm}\n")
    out = tmp_path / "o"
    rc = main(["run", str(sc), "--lab", str(lab), "--arm", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    src = report["accuracy_source"]
    assert src == {"source": "robot", "iso9283": False, "note": SELF_REPORTED}
    assert "instrument" not in report and f"note: {SELF_REPORTED}" in printed
    suite, _ = _cases((out / "junit.xml").read_bytes())
    assert suite["accuracy_source"] == "robot" and suite["accuracy_iso9283"] == "false"
    assert suite["accuracy_note"] == SELF_REPORTED
    page = (out / "report.html").read_text()
    assert "AP/RP are the robot controller&#x27;s self-reported figures" in page
    assert "not ISO 9283 measurements: no instrument measured this run" in page
