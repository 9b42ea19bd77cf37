"""Kernel netem backend: profiles map onto netem arguments, what netem cannot express is refused,
and availability is detected at run time with a clear reason (no interface is touched)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.impair import load_profile
from bench.impair.kernel import available, netem_args
from drivers.errors import ConfigError


def test_profiles_map_onto_netem_arguments(tmp_path: Path):
    assert netem_args(load_profile("telesurgery-300ms")) == ["netem", "delay", "150.000ms"]
    assert netem_args(load_profile("lossy-bursty")) == [
        "netem", "delay", "7.700ms", "2.600ms", "50%", "distribution", "paretonormal",
        "loss", "gemodel", "1%", "30%", "100%", "0%"]
    p = tmp_path / "p.yaml"
    p.write_text("name: x\ndelay: {base: 20 ms, jitter: 5 ms}\nloss: 0.5 %\nrate: 10 Mbit/s\n"
                 "duplicate: 1 %\ncorrupt: 0.1 %\n")
    assert netem_args(load_profile(str(p))) == [
        "netem", "delay", "20.000ms", "5.000ms", "loss", "random", "0.5%",
        "rate", "10000000bit", "duplicate", "1%", "corrupt", "0.1%"]   # uniform: netem default


@pytest.mark.parametrize("name", ["5g-weak-to-strong", "coverage-hole"])
def test_what_netem_cannot_express_is_refused(name):
    with pytest.raises(ConfigError, match="netem (cannot replay a delay trace|has no outages)"):
        netem_args(load_profile(name))


def test_availability_is_detected_with_a_reason():
    ok, reason = available()
    r = subprocess.run([sys.executable, "-m", "bench", "netem", "kernel"],
                       capture_output=True, text=True)
    if ok:
        assert r.returncode == 0 and "available" in r.stdout
    else:
        assert reason and r.returncode == 3 and reason in r.stdout
    # applying to an interface that does not exist fails cleanly either way (exit 3, one line)
    r = subprocess.run([sys.executable, "-m", "bench", "netem", "kernel", "--profile",
                        "telesurgery-300ms", "--dev", "hilbench-none0", "--apply"],
                       capture_output=True, text=True)
    assert r.returncode == 3 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
