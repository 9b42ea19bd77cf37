"""Registration and the point-file reader on real measurements: a Leica laser tracker measuring a
reflector on a UR arm's tool (tests/data/lasertracker/README.md), compared with the authors' own
least-squares adjustment of the same data."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.point_files import read_points
from bench.registration import RegistrationError, register_points, register_with_lever_arm
from drivers.errors import ConfigError
from drivers.instrument.frames import inverse
from drivers.rotation import matrix_from_rotvec

DATA = Path(__file__).parent / "data" / "lasertracker"
# the authors' Gauss-Helmert result: lever arm (mm) and its standard deviation, base origin in
# the tracker frame (mm) and its standard deviation
LEVER, LEVER_STD = np.array([74.883, 60.617, 98.285]), np.array([0.114, 0.152, 0.219])
ORIGIN, ORIGIN_STD = np.array([2426.662, 209.853, -597.970]), np.array([0.159, 0.137, 0.220])


def _robot() -> tuple[list[str], list[np.ndarray]]:
    names, poses = [], []
    for line in (DATA / "akig_191117_pose.txt").read_text().splitlines():
        f = [float(v) for v in line.split(",")]
        t = np.eye(4)
        t[:3, :3] = matrix_from_rotvec(*f[4:7])
        t[:3, 3] = np.array(f[1:4]) * 1000.0                     # m -> mm
        names.append(str(int(f[0])))
        poses.append(t)
    return names, poses


def test_spatialanalyzer_export_reads_as_named_points() -> None:
    pts = read_points(DATA / "akig_LTbezugUR_ausSA.txt")
    assert pts.unit == "mm" and len(pts.names) == 15
    assert pts.names[:3] == ["1", "3", "4"]                       # point 2 was not measured
    assert pts.xyz[0] == pytest.approx([1975.568420, -310.198889, -257.870805])
    assert read_points(DATA / "akig_LTbezugUR_ausSA.txt", unit="m").xyz[0, 0] == \
        pytest.approx(1975568.42)


def test_lever_arm_registration_agrees_with_the_published_adjustment() -> None:
    pts = read_points(DATA / "akig_LTbezugUR_ausSA.txt").by_name()
    names, poses = _robot()
    lt = np.array([pts[n] for n in names])
    lever, reg = register_with_lever_arm(lt, poses)
    # the same least-squares problem as the authors' Gauss-Helmert adjustment: the estimates
    # agree far inside its standard deviations (0.002 mm and 0.04 mm here)
    assert np.all(np.abs(lever - LEVER) < 0.1 * LEVER_STD)
    origin = inverse(reg.matrix)[:3, 3]                     # robot base origin, tracker frame
    assert np.all(np.abs(origin - ORIGIN) < 0.5 * ORIGIN_STD)
    # a UR arm measured by a laser tracker: FRE of a few tenths of a millimetre
    assert 0.05 < reg.fre_mm < 0.5 and reg.scale == pytest.approx(1.0, abs=2e-4)
    reg.check(0.5)
    # ignoring the lever arm leaves centimetres of residual: the check refuses to judge
    plain = register_points(lt, np.array([t[:3, 3] for t in poses]))
    assert plain.fre_mm > 10
    with pytest.raises(RegistrationError):
        plain.check(1.0)


def test_units_mixed_up_are_caught_by_the_scale() -> None:
    pts = read_points(DATA / "akig_LTbezugUR_ausSA.txt").by_name()
    names, poses = _robot()
    metres = np.array([t[:3, 3] / 1000.0 for t in poses])        # robot left in metres
    reg = register_points(np.array([pts[n] for n in names]), metres)
    assert reg.scale == pytest.approx(0.001, rel=0.05)
    with pytest.raises(RegistrationError, match="units"):
        reg.check(1000.0)


@pytest.mark.parametrize("text,decimal,expect", [
    ("// SA export\n// units: m\nP1 1.5 2 3\nP2 4 5 6\n", ".", ("P1", 1500.0)),
    ("Name;X;Y;Z\nA;1,5;2;3\n", ",", ("A", 1.5)),
    ("pt,x [mm],Y,z\nA,1.5,2,3\n", ".", ("A", 1.5)),
    ("Coll Grp T1 1.5 2 3\n", ".", ("Coll::Grp::T1", 1.5)),
    ("X\tY\tZ\n1.5\t2\t3\n", ".", ("1", 1.5)),
])
def test_formats(tmp_path: Path, text: str, decimal: str, expect: tuple[str, float]) -> None:
    f = tmp_path / "p.txt"
    f.write_text(text)
    pts = read_points(f, decimal=decimal)
    assert (pts.names[0], pts.xyz[0, 0]) == expect


@pytest.mark.parametrize("text,match", [
    ("", "no points"), ("x,y\n1,2\n", "Z"), ("a,b,c,d\n1,2,x,3\n", "expected a number"),
    ("P1 1 2 nan\n", "finite"), ("Name;X;Y;Z\nA;1,5;2;3\n", "expected a number"),
])
def test_bad_files_name_the_line(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(ConfigError, match=match) as info:
        read_points(f)
    assert str(f) in str(info.value)
