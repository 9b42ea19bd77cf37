"""Replays of freshly recorded sessions: exact in virtual time, same verdict over the wire, and a
changed robot is detected."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main
from bench.session import session_info
from bench.session.replay import replay_session
from bench.session.schema import T_COMMAND

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cube_session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cube")
    # ideal link: the exact-replay test below compares arrival times to the nanosecond
    assert main(["run", "iso9283", "--cycles", "3", "--mode", "virtual", "--network", "ideal",
                 "--out", str(out), "-q"]) == 0
    return out / "session.mcap"


def test_run_writes_session_next_to_report(cube_session: Path) -> None:
    report = json.loads((cube_session.parent / "report.json").read_text())
    info = session_info(cube_session)
    assert info["topics"][T_COMMAND] == len(report["samples"]) == 15
    assert info["truncated"] is False and info["scenario"] == "iso9283"


def test_virtual_replay_reproduces_exactly_and_records_new_session(cube_session: Path,
                                                                   tmp_path: Path) -> None:
    new = tmp_path / "replayed.mcap"
    c = replay_session(cube_session, record_to=new)
    assert c.error is None and c.passed and c.same_verdict
    assert len(c.targets) == 15 and c.max_difference_mm == 0.0
    for row in c.targets:
        assert row.arrive_replay_s == pytest.approx(row.arrive_original_s, abs=1e-9)
    # the replay's own session replays to the same poses again
    again = replay_session(new)
    assert again.max_difference_mm == 0.0
    assert session_info(new)["topics"][T_COMMAND] == 15


def test_wire_replay_gives_the_same_verdict(cube_session: Path) -> None:
    virtual = replay_session(cube_session, mode="virtual")
    wire = replay_session(cube_session, mode="wire")
    assert wire.error is None
    assert wire.verdict_replay == virtual.verdict_replay == "pass"
    # same seed, same command sequence: the simulator's scatter draws line up; the float32
    # registers of the Modbus map round the poses to about 1e-5 mm
    assert wire.max_difference_mm < 1e-3


def test_replay_against_another_robot_shows_the_difference(cube_session: Path,
                                                           tmp_path: Path) -> None:
    lab = (REPO / "hardware" / "sim.yaml").read_text().replace(
        "offset: {x: 0.25 mm, y: -0.15 mm, z: 0.1 mm}", "backlash: 3 mm")   # seen by the robot
    other = tmp_path / "worse-arm.yaml"
    other.write_text(lab)
    c = replay_session(cube_session, lab=str(other))
    assert c.verdict_original == "pass" and c.verdict_replay == "fail" and not c.passed
    assert c.max_difference_mm > 1.0


def test_replay_cli_json_and_exit_codes(cube_session: Path, tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "bench", "replay", str(cube_session), "--json"],
                         capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["passed"] is True and data["same_verdict"] is True and len(data["targets"]) == 15
    res = subprocess.run([sys.executable, "-m", "bench", "replay", str(tmp_path / "nope.mcap")],
                         capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_record_stream_cli_and_replay_under_a_profile(tmp_path: Path) -> None:
    f = tmp_path / "stream.mcap"
    res = subprocess.run([sys.executable, "-m", "bench", "record", "--stream", "--duration", "3",
                          "--mode", "virtual", "--network", "5g-urban", "-q", "-o", str(f)],
                         capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stderr
    info = session_info(f)
    assert info["topics"][T_COMMAND] == 301 and info["topics"]["/network/event"] == 301
    same = replay_session(f)
    # recorded delays are rounded to 1 us in the events: the same motion to ~1e-12 mm
    assert same.tracking_replay["rms_mm"] == pytest.approx(same.tracking_original["rms_mm"],
                                                           abs=1e-6)
    assert same.max_difference_mm < 1e-6
    ideal = replay_session(f, network="ideal")
    assert ideal.tracking_replay["rms_mm"] < same.tracking_original["rms_mm"]
    # --speed 2: the operator's setpoints come twice as fast, the stream takes half the time
    fast = replay_session(f, speed=2.0)
    assert fast.duration_s == pytest.approx(same.duration_s / 2, abs=0.25)
    assert fast.commands == same.commands
    res = subprocess.run([sys.executable, "-m", "bench", "replay", str(f), "--network",
                          "telesurgery-300ms"], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 0, res.stderr
    assert "time-domain error grew" in res.stdout and "verdict: original PASS" in res.stdout
    res = subprocess.run([sys.executable, "-m", "bench", "replay", str(f), "--network",
                          "no-such-profile"], capture_output=True, text=True, cwd=REPO)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_replay_under_recorded_delays_reproduces_the_timing(tmp_path: Path) -> None:
    """A run under a jittery 5G profile, replayed under its recorded delays: the same calls at
    the same times, so the same arrival times and the same session length (to rounding)."""
    out = tmp_path / "net"
    assert main(["run", "iso9283", "--cycles", "2", "--mode", "virtual", "--network",
                 "5g-weak-to-strong", "--out", str(out), "-q"]) == 0
    f = out / "session.mcap"
    info = session_info(f)
    assert info["topics"]["/network/event"] > 100
    c = replay_session(f)
    assert c.error is None and c.max_difference_mm == 0.0
    assert c.duration_s == pytest.approx(info["duration_s"], abs=1e-4)
    for row in c.targets:
        assert row.arrive_replay_s == pytest.approx(row.arrive_original_s, abs=1e-4), row
    # the delays were really replayed: without them every target is reached sooner
    ideal = replay_session(f, network="ideal")
    for a, b in zip(ideal.targets, c.targets):
        assert a.arrive_replay_s < b.arrive_replay_s - 0.005
