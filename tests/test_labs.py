"""Every shipped lab passes its own default scenario, in virtual mode and on the wire, with the
same verdict: what a lab engineer meets first (`hil-bench run --lab NAME`) must work.

Virtual mode runs the scenario's default cycles in-process; wire mode runs 3 cycles of the same
scenario through `hil-bench run --mode wire` (simulator processes over the lab's real protocol,
behind the default 5g-urban impairment), three labs at a time in the background while the virtual
runs go on.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench.cli import main
from bench.lab import load_lab

REPO = Path(__file__).resolve().parent.parent
LABS = sorted(p.stem for p in (REPO / "hardware").glob("*.yaml"))
WIRE_CYCLES = 3
#: wire runs in flight at once (see `wire_runs`)
WIRE_AT_ONCE = 3


def _verdict(out: Path) -> dict:
    doc = json.loads((out / "report.json").read_text())
    return {"verdict": doc["verdict"], "scenario": doc["scenario"]["name"]
            if isinstance(doc.get("scenario"), dict) else doc.get("scenario")}


@pytest.fixture(scope="module")
def wire_runs(tmp_path_factory: pytest.TempPathFactory):
    """Every lab's wire run, started in the background while the virtual runs go on (a wire run
    waits mostly on real-time motion); a test collects its lab's run. At most WIRE_AT_ONCE run at
    a time: each starts two or three Python processes (bench, simulators, proxy), and starting all
    labs' at once on two cores once kept a simulator from becoming ready within its 20 s."""
    base = tmp_path_factory.mktemp("wire")
    results: dict[str, tuple[int, Path, str]] = {}
    done = {lab: threading.Event() for lab in LABS}
    slots = threading.Semaphore(WIRE_AT_ONCE)
    procs: list[subprocess.Popen] = []
    stopping = threading.Event()

    def one(lab: str) -> None:
        out = base / lab
        cmd = [sys.executable, "-m", "bench", "run", "--lab", lab, "--mode", "wire",
               "--cycles", str(WIRE_CYCLES), "-q", "--no-html", "--out", str(out)]
        with slots:
            if stopping.is_set():
                results[lab] = (-1, out, "not started: the module's tests ended")
            else:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
                procs.append(proc)
                text, _ = proc.communicate(timeout=300)
                results[lab] = (proc.returncode, out, text)
        done[lab].set()

    threads = [threading.Thread(target=one, args=(lab,), daemon=True) for lab in LABS]
    for t in threads:
        t.start()

    def collect(lab: str) -> tuple[int, Path, str]:
        assert done[lab].wait(timeout=600), f"wire run of lab {lab} did not end within 600 s"
        return results[lab]
    yield collect
    stopping.set()                          # a failed test must not leave runs behind
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
    for t in threads:
        t.join(timeout=10)


@pytest.mark.parametrize("lab", LABS)
def test_lab_passes_its_scenario_in_both_modes_alike(lab: str, wire_runs, tmp_path: Path) -> None:
    scenario = load_lab(lab).scenario
    out = tmp_path / "virtual"
    assert main(["run", "--lab", lab, "--mode", "virtual", "-q", "--no-html",
                 "--out", str(out)]) == 0
    assert not (out / "report.html").exists()
    virtual = _verdict(out)
    rc, wire_out, text = wire_runs(lab)
    assert rc == 0, f"wire run of lab {lab} (scenario {scenario}) exited {rc}:\n{text[-3000:]}"
    wire = _verdict(wire_out)
    assert virtual["verdict"] in ("pass", "marginal")
    assert wire["verdict"] == virtual["verdict"]
    assert wire["scenario"] == virtual["scenario"] == scenario


def test_every_shipped_lab_is_covered() -> None:
    assert {"sim", "iai_robocylinder", "igus_rebel", "xarm"} <= set(LABS) and len(LABS) >= 8


def test_a_scenario_the_robot_cannot_carry_is_refused_before_anything_moves(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the ISO cube on a single-axis actuator (it "failed by 342 mm" on the wire) and a commanded
    # scenario on a read-only map: both refused in one line, exit 2, nothing opened
    assert main(["run", "iso9283", "--lab", "iai_robocylinder", "--mode", "virtual",
                 "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "pose P1 gives z = 300 mm" in err and "carries only x" in err and "linear-axis" in err
    assert main(["run", "iso9283", "--lab", "igus_rebel", "--mode", "virtual",
                 "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "has no target registers" in err and "iso9283-follow" in err
    assert not (tmp_path / "a" / "report.json").exists()


def test_virtual_mode_reads_what_the_map_carries(tmp_path: Path) -> None:
    # ur's pose registers are int16 x 0.1 mm; iai_robocylinder's map carries x alone, in int32 x
    # 0.01 mm: in virtual mode the in-process arm reads exactly as its driver reads it on the wire
    for lab, step, carried in (("ur", 0.1, "xyz"), ("iai_robocylinder", 0.01, "x")):
        out = tmp_path / lab
        assert main(["run", "--lab", lab, "--mode", "virtual", "--cycles", "2", "-q",
                     "--no-html", "--out", str(out)]) == 0
        samples = json.loads((out / "report.json").read_text())["samples"]
        assert samples
        for s in samples:
            for axis in "xyz":
                v = s["attained"][f"{axis}_mm"]
                if axis in carried:
                    assert abs(v / step - round(v / step)) < 1e-6, (lab, axis, v)
                else:
                    assert v == 0.0, (lab, axis, v)
