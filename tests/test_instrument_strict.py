"""`hil-bench analyze` reads instrument files strictly: every defect is one line naming the file
and line, exit 2; and real published tracker data gives the authors' own figures."""
import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.instrument import read_instrument_csv

HEAD = "pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z\n"
DATA = Path(__file__).parent / "data" / "tracker"


def _analyze(capsys, path, *args):
    code = main(["analyze", str(path), "--json", *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _one_line_error(capsys, path, where, *args):
    code, out, err = _analyze(capsys, path, *args)
    lines = err.strip().splitlines()
    assert code == 2 and out == ""
    assert len(lines) == 1 and f"{path}:" in lines[0] and where in lines[0], lines
    return lines[0]


@pytest.mark.parametrize("text,where", [
    ("pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z,x\nP,1,0,0,0,0,0,0,0\n",
     ":1: duplicated column 'x' (columns 6 and 9)"),
    (HEAD + "P,1,0,0,0,0,0,0\nP,2,0,0,0,0,0,0\nP,1,0,0,0,0.1,0,0\n",
     ":4: pose P cycle 1 measured twice (first on line 2)"),
    (HEAD + "P,1,0,0,0,0,0,0\nQ,1,5,0,0,5,0,0\nP,2,0,0,1,0,0,1\n",
     ":4: pose P commanded at (0, 0, 1) here but at (0, 0, 0) on line 2"),
    (HEAD + "P,1,0,0,0,0,0,0\nP,0,0,0,0,0,0,0\n", ":3: cycle: must be at least 1"),
    (HEAD + "P,1,0,0,0,0,0,0,7\n", ":2: 9 fields, the header has 8"),
])
def test_defects_are_one_line_with_the_line_number(tmp_path, capsys, text, where):
    f = tmp_path / "m.csv"
    f.write_text(text)
    _one_line_error(capsys, f, where)


def test_angles_180_and_minus_180_are_one_command(tmp_path, capsys):
    f = tmp_path / "o.csv"
    f.write_text("pose,cycle,cmd_x,cmd_y,cmd_z,cmd_a,cmd_b,cmd_c,x,y,z,a,b,c\n"
                 "P,1,0,0,0,180,0,0,0,0,0,179.9,0,0\nP,2,0,0,0,-180,0,0,0,0,0,-179.9,0,0\n")
    code, out, _ = _analyze(capsys, f)
    assert code == 0 and json.loads(out)["poses"]["P"]["APa"] == pytest.approx(0, abs=1e-9)


@pytest.mark.parametrize("blob,line", [
    (HEAD.encode() + b"P,1,0,0,0,0,0,0\n\x00\x01\x02garbage", 3),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3),         # after two newlines
    (HEAD.encode() + b"P,1,0,0,0,0,0,\xff\xfe\n", 2),
])
def test_binary_file_is_refused_with_its_line(tmp_path, capsys, blob, line):
    f = tmp_path / "m.csv"
    f.write_bytes(blob)
    msg = _one_line_error(capsys, f, f"m.csv:{line}: ")
    assert "expected a CSV text file" in msg


def test_single_cycle_is_refused_only_where_rp_is_judged(tmp_path, capsys):
    f = tmp_path / "m.csv"
    f.write_text(HEAD + "P,1,0,0,0,0,0,0\nP,2,0,0,0,0.1,0,0\nQ,1,9,0,0,9,0,0\n")
    msg = _one_line_error(capsys, f, "m.csv:4: pose Q: 1 cycle, but RP needs at least 2",
                          "--scenario", "iso9283")
    assert "iso9283.yaml:" in msg                     # where the RP tolerance is
    code, out, _ = _analyze(capsys, f)                # not judged: RP of Q is simply null
    assert code == 0 and json.loads(out)["poses"]["Q"]["RP"] is None
    nofit = tmp_path / "ap.yaml"
    nofit.write_text("name: ap\nposes:\n  P: {x: 0}\ntolerances:\n  AP: {max: 1 mm}\n")
    code, out, _ = _analyze(capsys, f, "--scenario", str(nofit))
    assert code == 0 and json.loads(out)["verdict"] == "pass"


def test_reader_keeps_line_numbers(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text(HEAD + "\nP,1,0,0,0,0,0,0\n\nP,2,0,0,0,0,0,0\n")
    data = read_instrument_csv(f)
    assert data.lines.tolist() == [3, 5]
    assert data.cycles_of() == {"P": (2, 3)}


def test_real_tracker_data_gives_the_authors_rp(tmp_path, capsys):
    """KIT IVR_Ue3 pose2: 10 visits, three reflectors (see tests/data/tracker/README.md). The
    authors' ISO 9283 RP per reflector: 0.0215, 0.0174, 0.0116 mm."""
    rows, seen = [], {}
    for raw in (DATA / "kit-ivr-ue3-pose2.txt").read_text().splitlines():
        t, x, y, z = (v.strip() for v in raw.split(","))
        seen[t] = seen.get(t, 0) + 1
        rows.append(f"T{t},{seen[t]},0,0,0,{x},{y},{z}")   # no commanded pose in the data
    f = tmp_path / "kit.csv"
    f.write_text(HEAD + "\n".join(rows) + "\n")
    code, out, _ = _analyze(capsys, f)
    poses = json.loads(out)["poses"]
    assert code == 0 and [poses[t]["n"] for t in ("T1", "T2", "T3")] == [10, 10, 10]
    assert [round(poses[t]["RP"], 4) for t in ("T1", "T2", "T3")] == [0.0215, 0.0174, 0.0116]


def test_folder_is_refused(tmp_path, capsys):
    code, out, err = _analyze(capsys, tmp_path)
    assert code == 2 and out == "" and "is a folder" in err and len(err.strip().splitlines()) == 1
