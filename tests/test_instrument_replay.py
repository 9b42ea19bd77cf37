"""Replays compare instrument figures: a session recorded with a (simulated) NDI tracker is judged
from its recorded /instrument/measurement frames exactly as the run judged it, and the replay is
measured by the replay lab's tracker; a replay on a lab without one still shows the original's."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.cli.replay import print_comparison
from bench.instrument_replay import recorded_visits
from bench.session.replay import replay_session

SCENARIO = """name: tri
poses:
  A: {x: 420, y: 0, z: 300, a: 180}
  B: {x: 400, y: 30, z: 320, a: 180}
  C: {x: 380, y: -20, z: 290, a: 180}
cycles: 3
tolerances:
  AP: {max: 1 mm}
  RP: {max: 0.1 mm}
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("inst-replay")
    (d / "tri.yaml").write_text(SCENARIO)
    assert main(["run", str(d / "tri.yaml"), "--lab", "cobot-ndi", "--mode", "virtual",
                 "--network", "ideal", "--out", str(d / "run"), "-q", "--no-html"]) == 0
    return d / "run" / "session.mcap", json.loads((d / "run" / "report.json").read_text())


def test_original_is_judged_from_the_recorded_frames_as_the_run_was(recorded) -> None:
    session, report = recorded
    visits = recorded_visits(session, "tool")
    assert sorted(visits) == [(p, c) for p in "ABC" for c in (1, 2, 3)]
    assert all(v is not None and v.visible for v in visits.values())
    c = replay_session(session, mode="virtual")
    inst = c.instrument
    assert inst is not None and inst["original"]["measured"] == 9
    for row in inst["poses"]:
        ran = report["instrument"]["poses"][row["pose"]]
        # the same frames, the same registration: the run's own figures, to float precision
        assert row["AP_original"] == pytest.approx(ran["AP"], abs=1e-9)
        assert row["RP_original"] == pytest.approx(ran["RP"], abs=1e-9)
        # the replay's tracker watched the replayed arm: the same true error (~0.45 mm)
        assert row["AP_replay"] == pytest.approx(row["AP_original"], abs=0.02)
        assert inst["replay"]["self_reported"][row["pose"]]["AP"] < 0.03
    assert inst["original"]["verdict"] == inst["replay"]["verdict"] == "pass"
    out = io.StringIO()
    print_comparison(c, out)
    text = out.getvalue()
    assert "instrument, original: sim-tracker:polaris-vega (registration lab, 9 visits" in text
    a = next(r for r in inst["poses"] if r["pose"] == "A")
    assert f"A           {a['AP_original']:.4f}    {a['AP_replay']:.4f}" in text
    assert json.loads(json.dumps(c.as_dict()))["instrument"]["poses"] == inst["poses"]


def test_replay_on_a_lab_without_an_instrument_still_shows_the_original(recorded) -> None:
    session, report = recorded
    c = replay_session(session, mode="virtual", lab="cobot")
    inst = c.instrument
    assert inst is not None and "replay" not in inst
    assert inst["original"]["poses"]["B"]["AP"] == pytest.approx(
        report["instrument"]["poses"]["B"]["AP"], abs=1e-9)
    assert all(r["AP_replay"] is None for r in inst["poses"])
    out = io.StringIO()
    print_comparison(c, out)
    assert "instrument, replay: not measured by an instrument" in out.getvalue()
