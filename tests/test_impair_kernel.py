"""Kernel netem backend: profiles map onto netem arguments, what netem cannot express is refused,
and availability is detected at run time with a clear reason (no interface is touched)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.impair import load_profile
from bench.impair.kernel import available, netem_args, plan
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


def _everything(tmp_path: Path) -> Path:
    p = tmp_path / "all.yaml"
    p.write_text("name: all\nuplink: {delay: {base: 20 ms, jitter: 4 ms, distribution: normal,\n"
                 "  correlation: 25 %}, loss: {model: gilbert-elliott, p: 1 %, r: 30 %},\n"
                 "  rate: 10 Mbit/s, duplicate: 1 %, corrupt: 0.1 %, reorder: 5 %}\n"
                 "downlink: {delay: {base: 5 ms, jitter: 1 ms, distribution: pareto}, "
                 "loss: 0.5 %}\n")
    return p


def test_plan_impairs_both_directions_through_an_ifb(tmp_path: Path):
    p = plan("eth1", load_profile(str(_everything(tmp_path))))
    assert [" ".join(c) for c in p.setup] == [
        "ip link add ifb-eth1 type ifb",
        "ip link set ifb-eth1 up",
        "tc qdisc replace dev eth1 root netem delay 20.000ms 4.000ms 25% distribution normal "
        "loss gemodel 1% 30% 100% 0% rate 10000000bit duplicate 1% corrupt 0.1% reorder 5%",
        "tc qdisc replace dev eth1 handle ffff: ingress",
        "tc filter replace dev eth1 parent ffff: protocol all prio 1 u32 match u32 0 0 "
        "action mirred egress redirect dev ifb-eth1",
        "tc qdisc replace dev ifb-eth1 root netem delay 5.000ms 1.000ms distribution pareto "
        "loss random 0.5%"]
    assert p.changes == []
    assert [" ".join(c) for c in p.teardown] == [
        "tc qdisc del dev eth1 root", "tc qdisc del dev eth1 ingress", "ip link del ifb-eth1"]


def test_a_delay_trace_is_replayed_by_qdisc_changes_at_its_rows(tmp_path: Path):
    trace = tmp_path / "t.csv"
    trace.write_text("t_ms,delay_ms\n0,20\n50,40\n100,40\n150,10\n")
    prof = tmp_path / "p.yaml"
    prof.write_text(f"name: tr\ntrace: {{file: {trace}, split: 0.75}}\n")
    p = plan("eth1", load_profile(str(prof)), duration_s=0.4)
    assert p.setup[2][-2:] == ["delay", "15.000ms"] and p.setup[-1][-2:] == ["delay", "5.000ms"]
    # rows every 50 ms, the trace wraps after 200 ms; only changed values are sent, per qdisc
    got = [(t, c[4], c[-1]) for t, c in p.changes]
    assert got == [(0.05, "eth1", "30.000ms"), (0.05, "ifb-eth1", "10.000ms"),
                   (0.15, "eth1", "7.500ms"), (0.15, "ifb-eth1", "2.500ms"),
                   (0.2, "eth1", "15.000ms"), (0.2, "ifb-eth1", "5.000ms"),
                   (0.25, "eth1", "30.000ms"), (0.25, "ifb-eth1", "10.000ms"),
                   (0.35, "eth1", "7.500ms"), (0.35, "ifb-eth1", "2.500ms")]
    assert all(c[:3] == ["tc", "qdisc", "change"] for _, c in p.changes)


def test_outages_are_total_loss_between_their_edges():
    p = plan("eth1", load_profile("coverage-hole"), duration_s=10)
    edges = [(t, c[4], "100%" in c) for t, c in p.changes]
    assert edges == [(2.0, "eth1", True), (2.0, "ifb-eth1", True),
                     (5.0, "eth1", False), (5.0, "ifb-eth1", False)]


def test_delivery_traces_are_refused_with_the_way_out(tmp_path: Path):
    mm = tmp_path / "link.mahimahi"
    mm.write_text("1\n2\n")
    prof = tmp_path / "p.yaml"
    prof.write_text(f"name: mm\ndelivery: {mm}\n")
    with pytest.raises(ConfigError, match="mahimahi.*netem ns"):
        plan("eth1", load_profile(str(prof)))


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("tc") or not shutil.which("unshare"),
                    reason="needs root, tc and unshare for a throwaway network namespace")
def test_tc_parses_every_line_it_is_given(tmp_path: Path):
    """Each command runs in a throwaway network namespace on its `lo`: tc exits 1 when it cannot
    parse its arguments, before asking the kernel; a kernel without netem answers 2."""
    p = plan("lo", load_profile(str(_everything(tmp_path))))
    p2 = plan("lo", load_profile("coverage-hole"), duration_s=10)
    lines = [*p.setup, *(c for _, c in p2.changes), *p.teardown]
    script = "\n".join(" ".join(c) + ' 2>&1; echo "rc=$?"' for c in lines)
    out = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True,
                         timeout=60).stdout
    rcs = [int(x.split("=")[1]) for x in out.split() if x.startswith("rc=")]
    assert len(rcs) == len(lines), out
    netem_ok = available()[0]
    for cmd, rc in zip(lines, rcs):
        if "netem" in cmd and not netem_ok:
            assert rc == 2, (cmd, out)            # parsed; the kernel has no sch_netem
        elif cmd[:3] == ["tc", "qdisc", "del"] and cmd[-1] == "root" and not netem_ok:
            assert rc == 2                         # nothing was installed at the root
        else:
            assert rc == 0, (cmd, out)            # ifb, ingress, u32 + mirred really work
    assert "Illegal" not in out and "Usage" not in out
