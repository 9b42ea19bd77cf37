"""Registration and references for measurement files, by hand."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.instrument import InstrumentData, read_instrument_csv
from bench.instrument_analysis import load_registration, reference_data, register_data
from bench.metrics.iso9283 import pose_table
from drivers.errors import ConfigError
from drivers.instrument.frames import inverse, matrix_of
from drivers.pose import Pose

TRACKER = Pose(420.0, -30.0, 1700.0, 175.0, 3.0, 20.0)


def _data(offset: np.ndarray, tmp_path: Path) -> InstrumentData:
    """A measurement file in the tracker's frame, read back with the bench's strict reader."""
    rng = np.random.default_rng(2)
    names, cycles, cmd = [], [], []
    for c in range(1, 6):
        for i, p in enumerate([(400, 0, 300), (450, 50, 350), (350, -50, 250), (450, -50, 250),
                                (350, 50, 350)]):
            names.append(f"P{i + 1}")
            cycles.append(c)
            cmd.append(p)
    cmd_a = np.array(cmd, dtype=float)
    true = cmd_a + offset + rng.normal(0, 0.01, cmd_a.shape)
    t = inverse(matrix_of(TRACKER))
    measured = true @ t[:3, :3].T + t[:3, 3]                      # in the tracker's frame
    f = tmp_path / "m.csv"
    f.write_text("pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z\n" + "".join(
        f"{n},{c},{p[0]},{p[1]},{p[2]},{float(m[0])!r},{float(m[1])!r},{float(m[2])!r}\n"
        for n, c, p, m in zip(names, cycles, cmd, measured)))
    return read_instrument_csv(f)


def test_saved_registration_measures_the_offset(tmp_path: Path) -> None:
    f = tmp_path / "reg.yaml"
    f.write_text("pose: {x: 420 mm, y: -30 mm, z: 1700 mm, a: 175 deg, b: 3 deg, c: 20 deg}\n"
                 "fre: 0.05 mm\npoints: 9\n")
    offset = np.array([0.3, -0.2, 0.1])
    data, reg, origin = register_data(_data(offset, tmp_path), str(f))
    assert origin == str(f) and reg.fre_mm == 0.05 and reg.n == 9
    table = pose_table(data.poses, data.commanded, data.attained)
    for st in table.values():
        assert st.AP == pytest.approx(float(np.linalg.norm(offset)), abs=0.02)


def test_auto_registration_absorbs_a_rigid_offset(tmp_path: Path) -> None:
    data, reg, origin = register_data(_data(np.array([0.3, -0.2, 0.1]), tmp_path), "auto")
    assert origin == "auto" and reg.fre_mm < 0.03
    for st in pose_table(data.poses, data.commanded, data.attained).values():
        assert st.AP < 0.02


def test_lab_file_registration_and_errors(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    lab.write_text("name: x\ninstrument:\n  registration:\n    pose: {x: 1 mm}\n    fre: 0.1 mm\n")
    assert load_registration(lab).pose.x == pytest.approx(1.0)
    lab.write_text("name: x\ninstrument:\n  driver: ndi\n")
    with pytest.raises(ConfigError, match="registration"):
        load_registration(lab)


def test_reference_first_and_mean(tmp_path: Path) -> None:
    d = _data(np.zeros(3), tmp_path)
    first = reference_data(d, "first")
    p1 = [i for i, n in enumerate(d.poses) if n == "P1"]
    assert np.allclose(first.commanded[p1], d.attained[p1[0]])
    mean = reference_data(d, "mean")
    for st in pose_table(mean.poses, mean.commanded, mean.attained).values():
        assert st.AP == pytest.approx(0.0, abs=1e-9) and st.RP > 0
    with pytest.raises(ConfigError):
        reference_data(d, "median")


def test_analyze_cli_with_the_shipped_examples() -> None:
    import json
    import subprocess
    import sys
    repo = Path(__file__).resolve().parents[1]
    fx = repo / "fixtures" / "instruments"
    res = subprocess.run([sys.executable, "-m", "bench", "analyze", str(fx / "tracker-frame.csv"),
                          "--register", str(fx / "registration.yaml"), "--json"],
                         capture_output=True, text=True, cwd=repo, timeout=60)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["registration"]["origin"].endswith("registration.yaml")
    assert all(p["AP"] == pytest.approx(0.374, abs=0.02) for p in out["poses"].values())
    res = subprocess.run([sys.executable, "-m", "bench", "analyze", str(fx / "tracker-frame.csv"),
                          "--register", "nope.yaml"], capture_output=True, text=True, cwd=repo,
                         timeout=60)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_analyze_judges_a_guide_axis_from_orientation_columns(tmp_path: Path, capsys) -> None:
    """The scenario's guide figures from a measurement CSV with orientation, by hand: cycle 2's
    seat is 0.6 mm off in x and tilted 3 deg about x (tip 30 mm deep)."""
    import json
    import math

    from bench.cli import main
    sc = tmp_path / "g.yaml"
    sc.write_text("name: g\nposes:\n  seat: {x: 405.2, y: 10.2, z: 304.4, a: 180}\ncycles: 2\n"
                  "guide: {entry: seat, depth: 30 mm}\ntolerances:\n"
                  "  target_deviation: {max: 2.0 mm, marginal: 0.5 mm}\n"
                  "  angular_deviation: {max: 5 deg, marginal: 2.5 deg}\n")
    head = "pose,cycle,cmd_x,cmd_y,cmd_z,cmd_a,cmd_b,cmd_c,x,y,z,a,b,c\n"
    cmd = "405.2,10.2,304.4,180,0,0"
    f = tmp_path / "m.csv"
    f.write_text(head + f"seat,1,{cmd},{cmd}\nseat,2,{cmd},405.8,10.2,304.4,183,0,0\n")
    assert main(["analyze", str(f), "--scenario", str(sc), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    got = {m["name"]: m for m in out["measurements"] if m["subject"] == "seat+30mm"}
    s3, c3 = math.sin(math.radians(3.0)), math.cos(math.radians(3.0))
    assert got["target_deviation"]["value"] == pytest.approx(
        math.sqrt(0.6**2 + (30 * s3) ** 2 + (30 - 30 * c3) ** 2))
    assert got["angular_deviation"]["value"] == pytest.approx(3.0)
    assert got["angular_deviation"]["outcome"] == "marginal" and out["verdict"] == "marginal"
    assert out["trajectory"]["placements"] == 2 and out["not_judged"] == []
    # positions only: the tool axis is unknown, the figures are listed as not judged
    f.write_text("pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z\nseat,1,405.2,10.2,304.4,405.2,10.2,304.4\n"
                 "seat,2,405.2,10.2,304.4,405.8,10.2,304.4\n")
    assert main(["analyze", str(f), "--scenario", str(sc), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["not_judged"] == ["angular_deviation", "target_deviation"]
