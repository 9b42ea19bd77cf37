"""Network profile files: every built-in loads, bad files fail with file, line and key."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.impair import load_profile, profile_names
from drivers.errors import ConfigError

REQUIRED = {"ideal", "5g-urban", "5g-urban-moving", "5g-weak-to-strong", "coverage-hole",
            "lindbergh-155ms", "telesurgery-300ms", "lossy-bursty"}


def test_every_named_profile_loads_and_builds():
    names = set(profile_names())
    assert REQUIRED <= names
    for name in names:
        p = load_profile(name)
        assert p.name == name
        f = p.link(1).uplink.send(0.1, 12)
        assert f.lost or f.delay_s >= 0


def test_weak_to_strong_is_trace_driven_with_the_cicv5g_tail():
    p = load_profile("5g-weak-to-strong")
    assert p.trace is not None and "cicv5g" in p.trace.path.name
    link = p.link(0)
    rtt = [link.uplink.send(t, 12).delay_s + link.downlink.send(t, 12).delay_s
           for t in np.arange(0, 97, 0.01)]
    assert 250 <= np.percentile(rtt, 99) * 1000 <= 310        # "p99 RTT near 280 ms"


def test_constant_profiles_split_the_round_trip():
    for name, rtt in (("telesurgery-300ms", 0.300), ("lindbergh-155ms", 0.155)):
        link = load_profile(name).link(0)
        assert link.uplink.send(1.0).delay_s + link.downlink.send(1.0).delay_s == \
            pytest.approx(rtt)
    assert load_profile("ideal").ideal and not load_profile("5g-urban").ideal


def _write(tmp_path: Path, text: str) -> str:
    p = tmp_path / "net.yaml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("text, where", [
    ("name: x\ndelay: {base: 5 ms, jiter: 1 ms}\n", ":2: delay.jiter: unknown key"),
    ("name: x\nloss: 150 %\n", ":2: loss: a probability must be between 0 and 1"),
    ("name: x\ndelay: {base: 5 ms, distribution: gauss}\n", ":2: delay.distribution:"),
    ("name: x\ndelay: 5 kg\n", ":2: delay: unit 'kg'"),
    ("name: x\nloss: {model: gilbert-elliott, p: 1 %}\n", ":2: loss.r:"),
    ("name: x\nuplink: {delay: 5 ms, lose: 1 %}\n", ":2: uplink.lose: unknown key"),
    ("name: x\ntrace: {file: nowhere.txt}\n", ":2: trace.file: file not found"),
    ("name: x\noutage: {schedule: [{at: 1 s}]}\n", "outage.schedule[0].duration: required"),
    ("name: x\nrate: 10 furlongs\n", ":2: rate:"),
])
def test_bad_profiles_name_file_line_and_key(tmp_path, text, where):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_profile(path)
    assert str(exc.value).startswith(path) and where in str(exc.value)


def test_trace_and_delay_model_together_is_refused(tmp_path):
    trace = Path(__file__).resolve().parents[1] / "fixtures/traces/cicv5g_urban_n78_v0_run01.txt"
    path = _write(tmp_path, f"name: x\ndelay: 5 ms\ntrace: {{file: {trace}}}\n")
    with pytest.raises(ConfigError, match="not both"):
        load_profile(path)


def test_per_direction_overrides(tmp_path):
    path = _write(tmp_path, "name: asym\ndelay: 10 ms\nloss: 0.5\n"
                            "downlink: {delay: 30 ms, loss: 0}\n")
    p = load_profile(path)
    assert p.uplink.jitter.base_s == pytest.approx(0.010)
    assert p.downlink.jitter.base_s == pytest.approx(0.030)
    assert p.uplink.loss.p == 0.5 and p.downlink.loss.model == "none"


@pytest.mark.parametrize("text, up, down", [
    ("name: t\nuplink: {delay: 20 ms}\n", False, True),          # only the uplink delayed
    ("name: t\ndownlink: {loss: 1 %}\n", True, False),
    ("name: t\n", True, True),                                    # nothing at all
    ("name: t\ndelay: 0 ms\nduplicate: 1 %\n", False, False),     # a change without delay
    ("name: t\nuplink: {delay: 5 ms}\noutage: {schedule: [{at: 9 s, duration: 1 s}]}\n",
     False, False),                                                # outages take both
    ("name: t\ntrace: {file: cicv5g_urban_n78_v0_run01}\n", False, False),
])
def test_a_direction_is_transparent_only_when_nothing_can_befall_it(tmp_path, text, up, down):
    link = load_profile(_write(tmp_path, text)).link(0)
    assert (link.uplink.transparent, link.downlink.transparent) == (up, down)


def test_run_with_a_bad_network_file_exits_2_with_one_line(tmp_path):
    path = _write(tmp_path, "name: x\nloss: lots\n")
    r = subprocess.run([sys.executable, "-m", "bench", "run", "--mode", "virtual", "--network",
                        path, "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and f"{path}:2: loss:" in r.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_run_virtual_under_a_profile_records_it_in_the_report(tmp_path):
    r = subprocess.run([sys.executable, "-m", "bench", "run", "--mode", "virtual", "--network",
                        "telesurgery-300ms", "--cycles", "2", "-q", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["network"]["name"] == "telesurgery-300ms"
    # move_to, at least one status poll and read_pose each cost a 300 ms round trip
    for s in report["samples"]:
        assert s["t_measured_ns"] - s["t_command_ns"] >= 0.9e9


def test_trace_info_json_for_each_format(tmp_path):
    def info(path: Path, *extra: str) -> dict:
        r = subprocess.run([sys.executable, "-m", "bench", "trace", "info", str(path), "--json",
                            *extra], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    cic = Path(__file__).resolve().parents[1] / "fixtures/traces/cicv5g_urban_n78_v0_run01.txt"
    out = info(cic)
    assert out["format"] == "cicv5g" and out["rows"] == 1094
    assert out["rtt_ms"]["median"] == 15 and out["rtt_ms"]["max"] == 253
    csv = tmp_path / "t.csv"
    csv.write_text("# my trace\nt_ms,delay_ms\n0,10\n50,30\n100,20\n")
    assert info(csv)["rtt_ms"] == {"median": 20.0, "p99": pytest.approx(29.8), "max": 30.0,
                                   "mean": 20.0}
    mm = tmp_path / "link.trace"
    mm.write_text("1\n1\n2\n4\n")
    out = info(mm, "--format", "mahimahi")
    assert out["rows"] == 4 and out["rtt_ms"] is None and out["rate_mbit_s"] == 12.0
    bad = tmp_path / "bad.csv"
    bad.write_text("t_ms,delay_ms\n0,10\n5,x\n")
    r = subprocess.run([sys.executable, "-m", "bench", "trace", "info", str(bad)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and f"{bad}:3:" in r.stderr
