"""Session files: what the recorder writes reads back (our reader and the mcap library's own),
the summary/index of a finished file, truncation at any byte, info and export."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcap.reader import make_reader

from bench.session import SessionReader, SessionRecorder, session_info
from bench.session.info import export_csv, export_jsonl
from bench.session.schema import T_COMMAND, T_EVENT, T_LINK, T_META, T_NETWORK, T_POSE, T_STATUS
from drivers.errors import ConfigError
from drivers.pose import Pose
from drivers.robot import ArmState, ArmStatus


def _record(path: Path, n: int = 50) -> None:
    rec = SessionRecorder(path)
    rec.on_start(0, {"mode": "virtual", "seed": 3, "scenario": "unit"})
    for i in range(n):
        t = (i + 1) * 10_000_000
        rec.on_command(t, i + 1, f"T{i % 3}", Pose(400 + i, 0, 300, 180, 0, 0), 100.0)
        rec.on_status(t + 1, ArmStatus(ArmState.MOVING, i + 1))
        rec.on_pose(t + 2, Pose(400 + i + 0.01, 0, 300, 180, 0, 0), "" if i % 2 else f"T{i % 3}")
        rec.on_event(t + 3, "network", {"dir": "up", "call": "move_to", "delay_ms": 7.5})
    rec.on_event(n * 10_000_000 + 5, "link", {"rsrp_dbm": -90, "sinr_db": 12.0})
    rec.on_event(n * 10_000_000 + 6, "verdict", {"verdict": "pass", "AP": float("nan")})
    rec.on_end(n * 10_000_000 + 7, "pass", None)


def test_round_trip_every_topic_and_mcap_library_agrees(tmp_path: Path) -> None:
    f = tmp_path / "s.mcap"
    _record(f)
    with SessionReader(f) as r:
        msgs = list(r.messages())
        assert r.finished and not r.truncated
    by_topic: dict[str, list] = {}
    for m in msgs:
        by_topic.setdefault(m.topic, []).append(m)
    assert [len(by_topic[t]) for t in (T_META, T_COMMAND, T_STATUS, T_POSE, T_NETWORK, T_LINK)] \
        == [1, 50, 50, 50, 50, 1]
    assert len(by_topic[T_EVENT]) == 2                     # verdict + end
    c = by_topic[T_COMMAND][7]
    assert c.t_ns == 80_000_000 and isinstance(c.t_ns, int)
    assert c.data["target"]["x_mm"] == 407.0 and c.data["seq"] == 8 and c.data["label"] == "T1"
    assert by_topic[T_EVENT][0].data["detail"]["AP"] is None     # NaN is written as null
    assert by_topic[T_META][0].data["format"] == "hil-bench/session/1"
    # the mcap library itself: summary with statistics, one schema per topic, chunk indexes
    with open(f, "rb") as fh:
        reader = make_reader(fh)
        summary = reader.get_summary()
        assert summary is not None and summary.statistics.message_count == len(msgs)
        assert summary.chunk_indexes, "a finished file has chunk indexes"
        assert {s.encoding for s in summary.schemas.values()} == {"jsonschema"}
        assert {c.message_encoding for c in summary.channels.values()} == {"json"}
        schema = json.loads(next(s for s in summary.schemas.values()
                                 if s.name == "hil_bench.RobotCommand").data)
        assert "target" in schema["required"]
        lib = [(ch.topic, m.log_time, json.loads(m.data)) for _, ch, m in reader.iter_messages(
            log_time_order=False)]
    assert sorted(lib, key=lambda x: (x[1], x[0])) == sorted(
        [(m.topic, m.t_ns, m.data) for m in msgs], key=lambda x: (x[1], x[0]))


def test_cut_at_any_byte_reads_back_as_truncated_prefix(tmp_path: Path) -> None:
    """Every prefix of a file is readable: no exception, `truncated`, counts never decrease."""
    full = tmp_path / "full.mcap"
    # small chunks so there are many of them, as a 100 ms flush gives on a slow run
    rec = SessionRecorder(full, chunk_size=2000, background_flush=False)
    rec.on_start(0, {"mode": "virtual"})
    for i in range(400):
        rec.on_pose(i * 1000, Pose(i, 0, 0), "")
    rec.close()
    data = full.read_bytes()
    total = session_info(full)["messages"]
    last = 0
    cuts = sorted(set(range(8, len(data), max(1, len(data) // 97))) | {len(data) - 1})
    for cut in cuts:
        part = tmp_path / "cut.mcap"
        part.write_bytes(data[:cut])
        info = session_info(part)
        assert info["truncated"] is True, cut
        assert last <= info["messages"] <= total, cut
        last = info["messages"]
    assert last > total * 0.8           # the tail holds only the summary and the last chunk
    assert session_info(full)["truncated"] is False


def test_corrupted_chunk_ends_the_readable_data(tmp_path: Path) -> None:
    f = tmp_path / "s.mcap"
    rec = SessionRecorder(f, chunk_size=1500, background_flush=False)
    rec.on_start(0, {})
    for i in range(300):
        rec.on_pose(i, Pose(i, 0, 0), "")
    rec.close()
    with open(f, "rb") as fh:
        chunks = make_reader(fh).get_summary().chunk_indexes
    mid = chunks[len(chunks) // 2]
    data = bytearray(f.read_bytes())
    data[mid.chunk_start_offset + mid.chunk_length - 3] ^= 0xFF     # inside its compressed data
    f.write_bytes(bytes(data))
    info = session_info(f)
    assert info["truncated"] is True and 0 < info["messages"] < 301


def test_info_and_export(tmp_path: Path) -> None:
    f = tmp_path / "s.mcap"
    _record(f, n=20)
    info = session_info(f)
    assert info["topics"][T_COMMAND] == 20 and info["topics"][T_POSE] == 20
    assert info["messages"] == sum(info["topics"].values()) == 1 + 4 * 20 + 1 + 2
    assert info["duration_s"] == pytest.approx(20 * 0.01 + 7e-9)
    assert info["truncated"] is False
    buf = io.StringIO()
    assert export_jsonl(f, buf) == info["messages"]
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert lines[1]["topic"] == T_COMMAND and lines[1]["data"]["target"]["x_mm"] == 400.0
    buf = io.StringIO()
    assert export_csv(f, buf, [T_COMMAND]) == 20
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert float(rows[3]["target.x_mm"]) == 403.0 and rows[3]["t_ns"] == "40000000"


def test_cli_info_json_and_bad_files(tmp_path: Path) -> None:
    f = tmp_path / "s.mcap"
    _record(f, n=5)
    hb = [sys.executable, "-m", "bench", "session"]
    res = subprocess.run(hb + ["info", str(f), "--json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert {"topics", "messages", "duration_s", "truncated"} <= set(data)
    assert data["topics"][T_POSE] == 5 and data["truncated"] is False
    res = subprocess.run(hb + ["export", str(f), "--format", "csv"], capture_output=True,
                         text=True)
    assert res.returncode == 0 and res.stdout.startswith("topic,t_ns,")
    bad = tmp_path / "bad.mcap"
    bad.write_text("hello")
    for path in (bad, tmp_path / "missing.mcap"):
        res = subprocess.run(hb + ["info", str(path)], capture_output=True, text=True)
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert res.stderr.strip().startswith(f"hil-bench: error: {path}")
    with pytest.raises(ConfigError):
        session_info(bad)


def test_encoder_round_trips_values_and_writes_null_for_non_finite() -> None:
    import numpy as np

    from bench.session.schema import command_msg, pose_from_fields, pose_msg
    from bench.session.writer import encode
    poses = [Pose(400.123, 1.5, 300.25, 180.0, 0.0, 0.0),
             Pose(1e-5, -0.1, 3, float(np.float64(2.5)), 1e300, -0.0),
             Pose(np.float64(0.1), np.float32(0.2), 7, 0, 0, 0)]       # type: ignore[arg-type]
    for p in poses:
        for label in ("", "P1", 'odd "label" \\ ü'):
            back = json.loads(encode(pose_msg(p, label)))
            assert back["label"] == label
            # every float comes back bit for bit (numpy scalars as their plain values)
            assert pose_from_fields(back) == Pose(*(float(v) for v in
                                                     (p.x, p.y, p.z, p.a, p.b, p.c)))
            cmd = json.loads(encode(command_msg(7, label, p, 250)))
            assert cmd["seq"] == 7 and cmd["speed_mm_s"] == 250
            assert pose_from_fields(cmd["target"]) == pose_from_fields(back)
    # non-finite values are not JSON: written as null, also inside numpy arrays
    assert json.loads(encode(pose_msg(Pose(float("nan")), "x")))["x_mm"] is None
    assert json.loads(encode(command_msg(1, "a", Pose(), float("inf"))))["speed_mm_s"] is None
    assert json.loads(encode({"v": np.array([1.0, np.inf])})) == {"v": [1.0, None]}
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        encode({"x": object()})


def test_scenario_round_trips_through_the_metadata() -> None:
    import dataclasses

    from bench.scenario import load_scenario
    from bench.session.recorder import scenario_from_dict, scenario_to_dict
    for name in ("iso9283", "screw-guide"):
        sc = load_scenario(name)
        back = scenario_from_dict(json.loads(json.dumps(scenario_to_dict(sc))))
        for f in dataclasses.fields(sc):
            a, b = getattr(sc, f.name), getattr(back, f.name)
            assert a == b or (isinstance(a, tuple) and list(a) == b), f.name
