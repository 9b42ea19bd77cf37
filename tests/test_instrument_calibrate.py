"""`hil-bench instrument calibrate`: hand-eye calibration as a lab procedure, on a simulated arm
(no calibration error of its own) carrying the tracker's marker at an offset the lab does not
know, watched by a simulated Polaris at a pose the lab does not know either. The procedure must
recover both (marker on the tool, tracker in the robot base frame) and save them in the lab file
without touching anything else in it."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.instrument_calibrate import registration_pattern
from bench.lab import load_lab
from drivers.instrument.frames import inverse, matrix_of
from drivers.pose import Pose

REPO = Path(__file__).resolve().parents[1]
TRACKER = Pose(380.0, 40.0, 1700.0, 175.0, 3.0, 20.0)
MARKER = Pose(25.0, -15.0, 40.0, 0.0, 0.0, 30.0)

LAB = """# a lab whose tracker was never registered  (this comment must survive)
name: he
robot:
  driver: modbus
  map: native
  transport: tcp
  host: 127.0.0.1
  port: 5020
  device_id: 1
  simulate: true
  simulator:
    repeatability: 0.002 mm
    home: {x: 400 mm, y: 0 mm, z: 300 mm, a: 180 deg, b: 0 deg, c: 0 deg}
    seed: 1
  workspace:
    box: {min: [100, -300, 50], max: [700, 300, 600]}
instrument:
  driver: ndi
  reply: bx
  tools: {tool: "01"}
  tool: tool
  marker: {x: 0 mm, y: 0 mm, z: 0 mm}    # unknown yet
  samples: 5
  simulator:
    model: polaris-vega
    noise: 0.01 mm
    pose: {x: 380 mm, y: 40 mm, z: 1700 mm, a: 175 deg, b: 3 deg, c: 20 deg}
    marker: {x: 25 mm, y: -15 mm, z: 40 mm, c: 30 deg}
    seed: 3
# after the instrument (must survive too)
"""


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    r = a[:3, :3].T @ b[:3, :3]
    return float(np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1))))


def test_pattern_tilts_about_every_tool_axis() -> None:
    p = registration_pattern(Pose(400, 0, 300, 180, 0, 0), 60.0, 10.0)
    assert len(p) == 9 and p["C"] == Pose(400, 0, 300, 180, 0, 0)
    k1 = p["K1"]
    assert (k1.x, k1.y, k1.z, k1.a, k1.b, k1.c) == (370, -30, 270, 170, -10, -20)
    assert {round(q.a) for q in p.values()} == {170, 180, 190}
    assert np.allclose(np.mean([q.position for q in p.values()], axis=0), [400, 0, 300])


def test_calibration_recovers_marker_and_tracker_and_saves_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lab = tmp_path / "he.yaml"
    lab.write_text(LAB)
    assert main(["instrument", "calibrate", "--lab", str(lab), "--mode", "virtual", "--write",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["seen"] == out["poses"] == 9 and out["written"] == str(lab)
    assert out["registration"]["fre_mm"] < 0.05
    saved = load_lab(str(lab)).instrument
    assert saved is not None and saved.registration is not None
    # the tracker's pose in the robot base frame and the marker on the tool, as simulated
    got = saved.registration.matrix
    assert np.abs(got[:3, 3] - TRACKER.position).max() < 0.05
    assert _angle_deg(got, matrix_of(TRACKER)) < 0.01
    assert np.abs(saved.marker.position - MARKER.position).max() < 0.05
    assert _angle_deg(matrix_of(saved.marker), matrix_of(MARKER)) < 0.01
    text = lab.read_text()
    assert "(this comment must survive)" in text and "# after the instrument" in text
    assert text.count("registration:") == 1 and text.count("\n  marker:") == 1
    assert "noise: 0.01 mm" in text                       # the simulator section untouched
    # calibrating again replaces the saved values, never adds a second block
    assert main(["instrument", "calibrate", "--lab", str(lab), "--mode", "virtual", "--write",
                 "--seed", "2"]) == 0
    assert "saved in" in capsys.readouterr().out
    text = lab.read_text()
    assert text.count("registration:") == 1 and text.count("\n  marker:") == 1
    again = load_lab(str(lab)).instrument
    assert again is not None and again.registration is not None
    assert np.abs(again.registration.matrix[:3, 3] - TRACKER.position).max() < 0.05
    # what a tool pose looks like through the saved calibration: the tracker's own view of the
    # marker maps back onto the robot's tool pose
    tool = matrix_of(Pose(410, 10, 290, 180, 5, 15))
    seen = inverse(matrix_of(TRACKER)) @ tool @ matrix_of(MARKER)
    back = again.registration.matrix @ seen @ inverse(matrix_of(again.marker))
    assert np.abs(back[:3, 3] - tool[:3, 3]).max() < 0.1


def test_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["instrument", "calibrate", "--lab", "cobot-ndi", "--mode", "virtual",
                 "--write"]) == 2
    assert "built-in lab" in capsys.readouterr().err
    assert main(["instrument", "calibrate", "--lab", "sim", "--mode", "virtual"]) == 2
    assert "no instrument" in capsys.readouterr().err
    real = tmp_path / "real.yaml"
    real.write_text(LAB.replace("simulate: true", "simulate: false"))
    assert main(["instrument", "calibrate", "--lab", str(real)]) == 2
    assert "needs --arm" in capsys.readouterr().err
