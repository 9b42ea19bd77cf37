"""Latency-budget sweep of the built-in scenario in virtual time (few cycles, few points)."""
import json

import pytest

from bench.cli import main
from bench.sweep import budgets, parse_range


def test_parse_range():
    assert parse_range("0:100:50") == [0.0, 50.0, 100.0]
    assert parse_range("20 ms") == [20.0]
    for bad in ("10:0:5", "0:10:0", "a:b:c", "-5:10:5"):
        with pytest.raises(Exception, match="--delay"):
            parse_range(bad)


def test_budget_is_contiguous_from_the_smallest_delay():
    pts = [{"control": "m", "delay_ms": d, "verdict": v}
           for d, v in ((0, "pass"), (10, "marginal"), (20, "fail"), (30, "pass"))]
    assert budgets(pts) == {"m": 10}
    assert budgets([{"control": "m", "delay_ms": 0, "verdict": "fail"}]) == {"m": None}


def test_sweep_shows_supervisory_control_far_beyond_the_remote_loop(capsys, tmp_path):
    code = main(["sweep", "iso9283", "--delay", "0:150:75", "--cycles", "2",
                 "--control", "target,remote-loop", "--json", "--jobs", "2",
                 "--out", str(tmp_path)])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert {p["control"] for p in out["points"]} == {"target", "remote-loop"}
    assert len(out["points"]) == 6
    by = {(p["control"], p["delay_ms"]): p for p in out["points"]}
    assert all(by[("target", d)]["verdict"] == "pass" for d in (0, 75, 150))
    assert out["budget_ms"]["target"] == 150
    rl = out["budget_ms"]["remote-loop"]
    assert rl is not None and rl < 150                    # the remote loop passes at 0 only
    worst = by[("remote-loop", 150.0)]
    assert worst["verdict"] == "fail" and "overshoot" in worst["failed"]
    assert worst["gain_x_rtt"] == pytest.approx(4.0 * 0.3)
    assert by[("target", 150.0)]["figures"]["overshoot"] == pytest.approx(0, abs=1e-9)
    for name in ("report.json", "junit.xml", "report.html"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "report.json").read_text())["budget_ms"] == out["budget_ms"]


@pytest.mark.parametrize("args", [["--delay", "5:1:1"], ["--delay", "0:10:5", "--control", "x"],
                                  ["--delay", "0", "--mode", "wire"],
                                  ["--delay", "0", "--cycles", "1"]])
def test_sweep_bad_input_exits_2(args, capsys):
    assert main(["sweep", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hil-bench: error:")


def test_budget_details_say_at_least_when_the_largest_value_passes():
    from bench.sweep import budget_details
    pts = [{"control": "m", "delay_ms": 0, "loss": lo, "outage_s": 0.0, "verdict": v}
           for lo, v in ((0.0, "pass"), (0.01, "pass"), (0.02, "pass"))]
    assert budget_details(pts, "loss") == {"m": {"value": 0.02, "at_least": True}}
    pts[2]["verdict"] = "error"
    assert budget_details(pts, "loss") == {"m": {"value": 0.01, "at_least": False}}


def test_sweep_loss_and_outage_axes_on_a_tcp_link(capsys):
    # Modbus TCP (the sim lab): loss and a 4 s hole stall the link instead of losing commands
    code = main(["sweep", "iso9283", "--delay", "20", "--loss", "0:2:2 %", "--outage", "0:4:4",
                 "--cycles", "2", "--control", "target", "--json", "--jobs", "2"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["points"]) == 4 and all(p["tcp"] for p in out["points"])
    assert {(p["loss"], p["outage_s"]) for p in out["points"]} == {
        (0.0, 0.0), (0.0, 4.0), (0.02, 0.0), (0.02, 4.0)}
    assert all(p["verdict"] == "pass" for p in out["points"])
    assert out["budget"]["loss"]["target"] == {"value": 0.02, "at_least": True}
    assert out["budget"]["outage_s"]["target"] == {"value": 4.0, "at_least": True}
    assert out["budget_ms"] == {"target": 20.0}
    assert main(["sweep", "--delay", "0", "--loss", "0:150:50 %"]) == 2
