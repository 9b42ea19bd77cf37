"""Each simulator fault is met by a clear error, a stop where the link still works, the partial
data kept, and exit code 3 (verdict "error") within the configured timeouts."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, session_events

CASES = {
    # kind: (fault yaml, expected error text, stop reaches the controller?)
    "silent": ("{kind: silent, after_moves: 2}", r"no reply within 0.3 s x 2 attempts", False),
    "late": ("{kind: late, after_moves: 2, delay: 2 s}", r"no reply within 0.3 s", False),
    "exception": ("{kind: exception, after_moves: 2, code: 4}",
                  r"Modbus exception 4 \(server device failure\)", False),
    # requests still reach the controller; only its replies are damaged, so the stop arrives
    "corrupt": ("{kind: corrupt, after_moves: 2}", r"(no reply within|bad reply|connection)",
                True),
    "drop": ("{kind: drop, after_moves: 2}", r"(connection lost|no reply|cannot connect)", True),
    "protective_stop": ("{kind: protective_stop, after_moves: 2, code: 7}",
                        r"fault code 7 while moving to P\d", True),
}


def _lab(tmp_path: Path, fault: str) -> Path:
    text = (REPO / "hardware" / "sim.yaml").read_text()
    text = text.replace("timeout: 0.5 s", "timeout: 0.3 s")
    text = text.replace("    seed: 1\n", f"    seed: 1\n    faults: [{fault}]\n")
    lab = tmp_path / "lab.yaml"
    lab.write_text(text)
    return lab


@pytest.mark.parametrize("kind", list(CASES))
def test_fault_gives_error_exit_3_and_keeps_data(tmp_path: Path, kind: str) -> None:
    fault, pattern, stop_expected = CASES[kind]
    out = tmp_path / "o"
    t0 = time.monotonic()
    # ideal link: the device's own faults are under test, not the network's timing
    res = subprocess.run([sys.executable, "-m", "bench", "run", "--lab", str(_lab(tmp_path, fault)),
                          "--cycles", "3", "--network", "ideal", "--out", str(out),
                          # the device's faults, not the ride-through policy (which would
                          # reconnect after a drop and finish the run: test_worst_links.py)
                          "--link-loss-limit", "0"],
                         capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - t0
    assert res.returncode == 3, res.stderr
    assert "Traceback" not in res.stderr
    error_line = [l for l in res.stderr.splitlines() if l.startswith("hil-bench: error:")]
    assert len(error_line) == 1
    assert re.search(pattern, error_line[0]), error_line[0]
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "error" and re.search(pattern, report["error"])
    # the first move completed and was measured before the fault; nothing was lost
    assert len(report["samples"]) >= 1
    journal = [json.loads(l) for l in (out / "sim-robot.jsonl").read_text().splitlines()]
    commands = [j["command"] for j in journal if "command" in j]
    assert commands[:2] == ["move", "move"]
    assert (commands[-1] == "stop") is stop_expected
    # the session file was finished properly and says what happened
    events, robot_commands, truncated = session_events(out / "session.mcap")
    kinds = [e["kind"] for e in events]
    assert not truncated and len(robot_commands) >= 1
    assert "stop" in kinds and kinds[-1] == "end"
    assert events[-1]["detail"]["verdict"] == "error"
    # the bench knows the stop was accepted only when the controller's reply came back intact
    assert ("stop_sent" in kinds) is (stop_expected and kind != "corrupt")
    # bounded: timeouts of 0.3 s x 2 attempts, a stop attempt and a reconnect, not minutes
    assert elapsed < 30


def test_bad_fault_entry_names_file_line_and_index(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "bench", "run", "--lab",
                          str(_lab(tmp_path, "{kind: gremlins}")), "--out", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "lab.yaml:" in res.stderr and "faults[0].kind: 'gremlins' is not one of" in res.stderr


def test_modem_answering_error_ends_in_verdict_error(tmp_path: Path) -> None:
    """The simulated modem answers ERROR to every signal query after 1 s: the positioning run
    finishes (link telemetry never aborts motion), then the verdict is ERROR because the link
    state it was measured on is unknown; the failed samples are in the report."""
    text = (REPO / "hardware" / "sim5g.yaml").read_text()
    assert "    transport: pty\n" in text
    text = text.replace("    transport: pty\n",
                        "    transport: pty\n    faults: [{kind: at_error, after: 1 s}]\n", 1)
    lab = tmp_path / "lab5g.yaml"
    lab.write_text(text)
    out = tmp_path / "o"
    res = subprocess.run([sys.executable, "-m", "bench", "run", "--lab", str(lab), "--cycles", "3",
                          "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 3, res.stderr
    assert "Traceback" not in res.stderr
    assert re.search(r"hil-bench: error: modem .*link telemetry lost: \d+ samples in a row failed"
                     r" \(last: .*ERROR", res.stderr), res.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "error" and len(report["samples"]) == 15
    assert report["link_summary"]["samples"] >= 1 and report["link_summary"]["errors"] >= 3
    events, _, truncated = session_events(out / "session.mcap")
    assert not truncated and events[-1]["detail"]["verdict"] == "error"
