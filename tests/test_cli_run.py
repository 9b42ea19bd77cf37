"""`hil-bench run` end to end, as a lab engineer would use it: real processes, real ports."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, port_is_free


def hb(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_run_twice_passes_and_leaves_no_process_or_port(tmp_path: Path) -> None:
    for i in range(2):
        out = tmp_path / f"r{i}"
        res = hb("run", "--cycles", "2", "--out", str(out), cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert "verdict: PASS" in res.stdout
        report = json.loads((out / "report.json").read_text())
        assert report["verdict"] == "pass"
        assert {p: v["n"] for p, v in report["poses"].items()} == {f"P{k}": 2 for k in range(1, 6)}
        assert len(report["samples"]) == 10
        (sim,) = report["simulators"]
        assert sim["host"] == "127.0.0.1"
        assert not _pid_alive(sim["pid"]), "simulator process left behind"
        assert port_is_free(sim["port"]), "simulator port left open"
        # progress on stderr, one line per cycle
        assert len(re.findall(r"^\s+cycle\s+\d+/2\b", res.stderr, re.M)) == 2


def test_default_out_is_a_timestamped_folder_under_runs(tmp_path: Path) -> None:
    res = hb("run", "--cycles", "2", "--mode", "virtual", "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    assert folder.name.endswith("-iso9283")
    assert json.loads((folder / "report.json").read_text())["verdict"] == "pass"


def test_wire_and_virtual_mode_agree(tmp_path: Path) -> None:
    reports = {}
    for mode in ("wire", "virtual"):
        res = hb("run", "--cycles", "3", "--mode", mode, "--out", str(tmp_path / mode), "-q")
        assert res.returncode == 0, res.stderr
        reports[mode] = json.loads((tmp_path / mode / "report.json").read_text())
    w, v = reports["wire"], reports["virtual"]
    assert w["verdict"] == v["verdict"] == "pass"
    # same seed -> same scatter draws; float32 registers round to ~3e-5 mm at 400 mm
    for pose in w["poses"]:
        assert w["poses"][pose]["AP"] == pytest.approx(v["poses"][pose]["AP"], abs=1e-3)
        assert w["poses"][pose]["RP"] == pytest.approx(v["poses"][pose]["RP"], abs=1e-3)


def _scenario(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "sc.yaml"
    p.write_text(body)
    return p


GOOD = """name: small
poses:
  A: {x: 400, y: 0, z: 300, a: 180}
  B: {x: 420, y: 10, z: 290, a: 180}
cycles: 5
speed: 500 mm/s
tolerances:
  AP: {max: 1.0 mm}
  RP: {max: %s}
"""


def test_failed_tolerance_exits_1_with_report(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, GOOD % "0.001 mm")
    res = hb("run", str(sc), "--mode", "virtual", "--out", str(tmp_path / "o"), "-q")
    assert res.returncode == 1, res.stderr
    assert "verdict: FAIL" in res.stdout
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["verdict"] == "fail"
    assert {m["outcome"] for m in report["measurements"] if m["name"] == "RP"} == {"fail"}


@pytest.mark.parametrize("body,message", [
    (GOOD.replace("cycles: 5", "cycels: 5") % "0.1 mm", r"sc.yaml:\d+: cycels: unknown key"),
    (GOOD.replace("cycles: 5", "cycles: five") % "0.1 mm", r"sc.yaml:\d+: cycles: expected an int"),
    (GOOD % "0.1 furlong", r"sc.yaml:\d+: tolerances.RP.max: unit 'furlong'"),
    (GOOD.replace("x: 420", "x: 4200") % "0.1 mm", r"pose B .* outside the box workspace: x = 4200"),
    ("name: x\nposes: [1, 2\n", r"sc.yaml:\d+: YAML syntax error"),
])
def test_bad_input_is_one_line_exit_2_and_no_report(tmp_path: Path, body: str,
                                                     message: str) -> None:
    sc = _scenario(tmp_path, body)
    out = tmp_path / "o"
    res = hb("run", str(sc), "--out", str(out))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hil-bench: error: ")
    assert re.search(message, lines[0]), lines[0]
    assert not out.exists(), "no report may be written for bad input"


def test_bad_lab_file_names_file_and_key(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    text = (REPO / "hardware" / "sim.yaml").read_text().replace("timeout: 0.5 s", "timeout: fast")
    lab.write_text(text)
    res = hb("run", "--lab", str(lab), "--out", str(tmp_path / "o"))
    assert res.returncode == 2
    assert "lab.yaml:" in res.stderr and "robot.timeout" in res.stderr


def test_real_hardware_is_not_moved_unless_armed(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    lab.write_text((REPO / "hardware" / "sim.yaml").read_text()
                   .replace("simulate: true", "simulate: false"))
    res = hb("run", "--lab", str(lab), "--out", str(tmp_path / "o"))
    assert res.returncode == 2
    assert "needs --arm" in res.stderr and "Nothing was sent" in res.stderr


def test_unreachable_device_is_exit_3_with_partial_error_report(tmp_path: Path) -> None:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lab = tmp_path / "lab.yaml"
    lab.write_text((REPO / "hardware" / "sim.yaml").read_text()
                   .replace("simulate: true", "simulate: false")
                   .replace("port: 5020", f"port: {port}"))
    res = hb("run", "--lab", str(lab), "--arm", "--out", str(tmp_path / "o"))
    assert res.returncode == 3, res.stderr
    assert "cannot connect" in res.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["verdict"] == "error" and "cannot connect" in report["error"]


def test_help_teaches_exit_codes_and_examples() -> None:
    res = hb("run", "--help")
    assert res.returncode == 0
    assert "exit codes" in res.stdout and "iso9283" in res.stdout
    script = Path(sys.executable).parent / "hil-bench"   # the installed console script
    top = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert top.returncode == 0 and "run" in top.stdout and "sim" in top.stdout


def test_single_cycle_is_refused_when_rp_is_asked(tmp_path: Path) -> None:
    """RP needs at least two visits: one cycle cannot give it, so the run is refused before any
    motion (exit 2, one line naming the scenario's RP tolerance), never judged."""
    res = hb("run", "--cycles", "1", "--mode", "virtual", "--out", str(tmp_path / "o"), "-q")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "iso9283.yaml:" in lines[0] and "tolerances.RP" in lines[0]
    assert "at least 2 cycles (--cycles 1)" in lines[0]
    assert not (tmp_path / "o").exists()
