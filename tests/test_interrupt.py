"""Ctrl-C (SIGINT) and SIGTERM during `hil-bench run`: the robot gets a stop, the partial report
is written with verdict "interrupted", the simulator is gone, and the exit code is 130."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import port_is_free, session_events


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_mid_run_stops_robot_and_exits_130(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "run", "--cycles", "30",
                             "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:      # wait until the run is moving the arm
            line = proc.stderr.readline()
            if "cycle   1/30" in line:
                break
        else:
            pytest.fail("run did not start")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    report = json.loads((out / "report.json").read_text())
    assert report["verdict"] == "interrupted"
    assert 5 <= len(report["samples"]) < 150
    # the simulated controller received a stop after the last move
    journal = [json.loads(l) for l in (out / "sim-robot.jsonl").read_text().splitlines()]
    commands = [j["command"] for j in journal if "command" in j]
    assert commands[-1] == "stop" and "move" in commands[:-1]
    events, robot_commands, truncated = session_events(out / "session.mcap")
    kinds = [e["kind"] for e in events]
    assert not truncated and len(robot_commands) >= 5
    assert "stop_sent" in kinds and kinds[-1] == "end"
    assert events[-1]["detail"]["verdict"] == "interrupted"
    (sim,) = report["simulators"]
    assert port_is_free(sim["port"])
    with pytest.raises(ProcessLookupError):
        os.kill(sim["pid"], 0)
