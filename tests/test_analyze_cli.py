"""hil-bench analyze on small instrument files computed by hand."""
import json
import math

import pytest

from bench.cli import main

CSV = """pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z
P1,1,0,0,0,0,0,0
P1,2,0,0,0,2,0,0
P1,3,0,0,0,4,0,0
P2,1,100,0,0,100.1,0,0
P2,2,100,0,0,99.9,0,0
"""


def _run(capsys, *args):
    code = main(["analyze", *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_json_figures_by_hand(tmp_path, capsys):
    f = tmp_path / "m.csv"
    f.write_text(CSV)
    code, out, _ = _run(capsys, str(f), "--json")
    assert code == 0
    poses = json.loads(out)["poses"]
    s = math.sqrt((4 / 9 + 16 / 9 + 4 / 9) / 2)
    assert poses["P1"]["n"] == 3 and poses["P1"]["AP"] == pytest.approx(2.0)
    assert poses["P1"]["APx"] == pytest.approx(2.0) and poses["P1"]["APy"] == 0
    assert poses["P1"]["RP"] == pytest.approx(4 / 3 + 3 * s)
    assert poses["P2"]["AP"] == pytest.approx(0, abs=1e-12)
    assert poses["P2"]["RP"] == pytest.approx(0.1)
    assert "APa" not in poses["P1"]


def test_orientation_columns(tmp_path, capsys):
    f = tmp_path / "o.csv"
    f.write_text("pose,cycle,cmd_x,cmd_y,cmd_z,cmd_a,cmd_b,cmd_c,x,y,z,a,b,c,extra\n"
                 "P,1,0,0,0,180,0,0,0,0,0,179.9,0,0,ignored\n"
                 "P,2,0,0,0,180,0,0,0,0,0,-179.8,0,0,ignored\n")
    code, out, _ = _run(capsys, str(f), "--json")
    p = json.loads(out)["poses"]["P"]
    assert code == 0 and p["APa"] == pytest.approx(0.05, abs=1e-9)
    assert p["RPa"] == pytest.approx(3 * math.sqrt(0.045), abs=1e-9)
    assert {"APb", "APc", "RPb", "RPc"} <= set(p)


def test_judged_against_a_scenario(tmp_path, capsys):
    f = tmp_path / "m.csv"
    f.write_text(CSV)
    code, out, _ = _run(capsys, str(f), "--scenario", "iso9283", "--json")
    data = json.loads(out)
    assert code == 1 and data["verdict"] == "fail"               # P1: AP 2 mm > 1 mm
    # time-resolved approach traces and the link's events are not in a tracker's CSV
    assert data["not_judged"] == ["overshoot", "recovery_time"]
    fails = {(m["subject"], m["name"]) for m in data["measurements"] if m["outcome"] == "fail"}
    assert ("P1", "AP") in fails and ("P2", "AP") not in fails


@pytest.mark.parametrize("text,where", [
    ("pose,cycle,cmd_x,cmd_y,x,y,z\n", ":1: missing column(s) cmd_z"),
    ("pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z\nP1,1,0,0,0,0,zero,0\n", ":2: y: expected a number"),
    ("pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z\nP1,1,0,0,0,0,nan,0\n", ":2: y: not a finite number"),
    ("pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z\nP1,x,0,0,0,0,0,0\n", ":2: cycle"),
    ("pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z\n", "no measurement rows"),
    ("pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z,a\nP1,1,0,0,0,0,0,0,1\n", "orientation needs all"),
    ("pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z\nP1,1,0,0,0,0,0,0\nP1,2,1,0,0,0,0,0\n",
     ":3: pose P1 commanded at (1, 0, 0) here but at (0, 0, 0) on line 2"),
])
def test_bad_files_exit_2_with_one_line(tmp_path, capsys, text, where):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    code, out, err = _run(capsys, str(f), "--json")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(f) in lines[0] and where in lines[0]


def test_missing_file_exit_2(tmp_path, capsys):
    code, _, err = _run(capsys, str(tmp_path / "nope.csv"))
    assert code == 2 and "nope.csv" in err
