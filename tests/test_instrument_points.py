"""`hil-bench analyze` on point files (SpatialAnalyzer ASCII exports and laser-tracker point
exports: name x y z), as measurements and as registrations, on real published data
(tests/data/lasertracker/README.md):

* KIT course IVR 2024/25: a laser tracker measured three reflectors on a robot's tool, ten
  visits of each of two poses; the authors' own ISO 9283 evaluation gives each reflector's pose
  repeatability, which `analyze --reference mean` must reproduce;
* TU Wien AKIG 2019: a Leica tracker's SpatialAnalyzer export of a reflector on a UR arm at 15
  poses; with the reflector's commanded positions (the arm's TCP poses and the authors' lever
  arm) as a scenario, `--register auto` and `--register <the export>` must give the same rigid
  registration as fitting the points directly (FRE a few tenths of a millimetre)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.point_files import read_points
from bench.registration import register_points
from drivers.rotation import matrix_from_rotvec

DATA = Path(__file__).parent / "data" / "lasertracker"
#: the authors' results files (data/results/pose{1,2}_results.txt): "Pos. repeat. targ. N"
KIT_RP = {"kit_pose1.txt": (0.0130, 0.0154, 0.0173), "kit_pose2.txt": (0.0215, 0.0174, 0.0116)}
LEVER = np.array([74.883, 60.617, 98.285])      # the AKIG authors' lever arm (mm)


def _analyze(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    rc = main(["analyze", *args, "--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out) if rc == 0 else {}


@pytest.mark.parametrize("name", sorted(KIT_RP))
def test_repeatability_of_real_tracker_points_matches_the_authors(
        capsys: pytest.CaptureFixture[str], name: str) -> None:
    rc, out = _analyze(capsys, str(DATA / name), "--reference", "mean")
    assert rc == 0 and out["format"] == "points" and not out["orientation"]
    assert list(out["poses"]) == ["1", "2", "3"]
    for target, rp in zip(("1", "2", "3"), KIT_RP[name]):
        st = out["poses"][target]
        assert st["n"] == 10 and st["AP"] == pytest.approx(0.0, abs=1e-9)
        assert st["RP"] == pytest.approx(rp, abs=5e-5)       # published to 0.1 um


def test_point_file_needs_commanded_poses_or_a_reference(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(DATA / "kit_pose1.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no commanded poses" in err[0] and "--reference" in err[0]
    assert main(["analyze", str(DATA / "kit_pose1.txt"), "--format", "csv"]) == 2
    assert "missing column(s) pose, cycle" in capsys.readouterr().err


def _reflector_scenario(tmp_path: Path, tolerances: str = "") -> tuple[Path, dict]:
    """The AKIG arm's reflector positions (TCP pose and the published lever arm) as poses."""
    rows = {}
    for line in (DATA / "akig_191117_pose.txt").read_text().splitlines():
        f = [float(v) for v in line.split(",")]
        r = np.array(matrix_from_rotvec(*f[4:7]))
        rows[str(int(f[0]))] = np.array(f[1:4]) * 1000.0 + r @ LEVER
    text = "name: akig\ncycles: 1\nposes:\n" + "".join(
        f'  "{n}": {{x: {p[0]:.6f} mm, y: {p[1]:.6f} mm, z: {p[2]:.6f} mm}}\n'
        for n, p in rows.items()) + tolerances
    path = tmp_path / "akig.yaml"
    path.write_text(text)
    return path, rows


def test_spatialanalyzer_export_registers_onto_the_commanded_poses(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc, rows = _reflector_scenario(tmp_path)
    sa = str(DATA / "akig_LTbezugUR_ausSA.txt")
    pts = read_points(sa).by_name()
    direct = register_points(np.array([pts[n] for n in rows]), np.array(list(rows.values())))
    assert 0.05 < direct.fre_mm < 0.5
    for how in ("auto", sa):
        rc, out = _analyze(capsys, sa, "--scenario", str(sc), "--register", how)
        assert rc == 0 and out["registration"]["origin"] == how
        assert out["registration"]["fre_mm"] == pytest.approx(direct.fre_mm, abs=1e-5)  # rounded
        assert len(out["poses"]) == 15 and all(st["n"] == 1 for st in out["poses"].values())
        # AP of a single visit: the point's residual after the registration
        q = direct.to_base(pts["7"][None, :])[0]
        assert out["poses"]["7"]["AP"] == pytest.approx(float(np.linalg.norm(q - rows["7"])),
                                                        abs=1e-6)
    # a tolerance tighter than the FRE: refused, one line, exit 2
    sc, _ = _reflector_scenario(tmp_path, "tolerances:\n  AP: {max: 0.1 mm}\n")
    assert main(["analyze", sa, "--scenario", str(sc), "--register", sa]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "FRE" in err[0]


def test_registration_points_must_be_poses_of_the_scenario(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc, _ = _reflector_scenario(tmp_path)
    bad = tmp_path / "pattern.txt"
    bad.write_text("// SA export\n1, 1975.5, -310.2, -257.9\nP99, 1.0, 2.0, 3.0\n")
    assert main(["analyze", str(DATA / "akig_LTbezugUR_ausSA.txt"), "--scenario", str(sc),
                 "--register", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3: point 'P99' is not a pose of scenario akig" in err
