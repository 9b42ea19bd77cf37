"""Progress lines where long work happens: replays (by commands), streams and follow recordings
(by session seconds), on stderr, so --json output on stdout stays clean."""
from __future__ import annotations

import io
import json
import re

import pytest

from bench.cli import main
from bench.progress import TimeProgress
from drivers.pose import Pose


def test_replay_shows_commands_done_out_of_the_sessions_total(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "iso-cube", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["commands"] == 150           # stdout is the JSON alone
    lines = [ln for ln in err.splitlines() if ln.strip().startswith("replay ")]
    assert re.match(r"replay [1-9]\d?/150 commands \(\d+%\)", lines[0].strip()), lines[0]
    assert re.search(r"replay 150/150 commands \(100%\).*session time 3\d\.\d s", lines[-1])
    assert main(["replay", "iso-cube", "--json", "-q"]) == 0
    assert "replay " not in capsys.readouterr().err


def test_stream_recording_shows_session_seconds(tmp_path, capsys) -> None:
    assert main(["record", "--stream", "--mode", "virtual", "--duration", "2", "--network",
                 "ideal", "-o", str(tmp_path / "s.mcap")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"stream 2\.0/2\.0 s \(100%\).* 201 commands", err), err


def test_time_progress_counts_observed_time_not_calls() -> None:
    out = io.StringIO()                 # not a terminal: plain lines, rate-limited
    p = TimeProgress("  follow", total_s=10.0, stream=out, what="samples")
    p.bar.min_interval_s = 0.0
    p.on_start(0, {})
    for i in range(1, 501):             # 50 Hz for 10 s of observed (virtual) time
        p.on_pose(i * 20_000_000, Pose(0, 0, 0, 0, 0, 0))
    p.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) <= 102            # at most 10 per observed second, plus the last
    assert lines[-1].strip().startswith("follow 10.0/10.0 s (100%)") and "500 samples" in lines[-1]
    assert "follow 5.0/10.0 s (50%)" in out.getvalue()
