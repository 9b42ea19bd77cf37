"""`hil-bench link qualify`: probes over the robot's own protocol, the measured link written as a
CICV5G trace that replays, and GO / NO-GO with margin and reason. Virtual mode for every shipped
profile (instant), wire mode through the real impairment proxy for a good and a broken link."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main
from bench.impair import load_profile
from bench.impair.traces import load_trace
from bench.paths import builtin_names
from bench.sweep import sweep
from drivers.sim.modem_profile import read_cicv5g as read_modem_rows
from tests.conftest import REPO

SCENARIO = str(REPO / "tests" / "data" / "qualify" / "two-poses.yaml")
#: the good links must be GO; the two the issue names must be NO-GO for their own reason
GOOD = ("ideal", "5g-urban", "5g-urban-model", "5g-urban-moving")
NO_GO_BECAUSE = {"coverage-hole": "longest outage", "telesurgery-300ms": "less one-way delay"}


@pytest.fixture(autouse=True)
def qualify_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_BENCH_QUALIFY_DIR", str(tmp_path / "qualified"))


def qualify(tmp: Path, *args: str) -> tuple[int, dict]:
    rc = main(["link", "qualify", "--scenario", SCENARIO, "--cycles", "2", "--step", "20 ms",
               "--out", str(tmp), "--json", *args])
    (site,) = json.loads((tmp / "qualify.json").read_text())["sites"]
    return rc, site


@pytest.mark.parametrize("network", builtin_names("network"))
def test_every_shipped_profile_gets_a_verdict_with_its_reason(tmp_path: Path, network: str,
                                                              capsys: pytest.CaptureFixture
                                                              ) -> None:
    rc, r = qualify(tmp_path, "--mode", "virtual", "--duration", "7 s", "--network", network,
                    "--control", "remote-loop", "--step", "40 ms")
    assert rc == (0 if r["verdict"] == "GO" else 1)
    assert (r["verdict"] == "GO") == (not r["reasons"])
    f = r["figures"]
    prof = load_profile(network)
    if prof.trace is None and prof.uplink.jitter.constant and prof.outages.empty:
        # a constant profile: every probe's round trip is exactly both one-way delays
        want = 1e3 * (prof.uplink.jitter.base_s + prof.downlink.jitter.base_s)
        assert f["rtt_ms"]["min"] == pytest.approx(want, abs=0.01)
        assert f["rtt_ms"]["max"] == pytest.approx(want, abs=0.01)
    if prof.trace is not None:
        rows = load_trace(prof.trace.path).delay_ms
        assert rows.min() - 0.01 <= f["rtt_ms"]["median"] <= rows.max() + 0.01
    if network in GOOD:
        assert r["verdict"] == "GO", r["reasons"]
        assert r["margin_ms"] > 0
    if network in NO_GO_BECAUSE:
        assert r["verdict"] == "NO-GO"
        assert any(NO_GO_BECAUSE[network] in why for why in r["reasons"]), r["reasons"]
    if network == "coverage-hole":          # the 3 s hole from 2 s to 5 s, seen by the probes
        assert 2.5 <= f["longest_outage_s"] <= 3.6
        assert r["margin_ms"] is None       # no amount of delay removed makes up for it
    if network == "telesurgery-300ms":
        assert r["margin_ms"] < 0


def test_measured_trace_replays_through_network_with_the_same_budget(tmp_path: Path) -> None:
    rc, first = qualify(tmp_path / "a", "--mode", "virtual", "--duration", "6 s",
                        "--network", "5g-urban-moving", "--control", "remote-loop")
    assert rc == 0 and first["verdict"] == "GO"
    # the trace reads as CICV5G for the impairment engine and for the modem simulator
    trace = load_trace(first["trace"])
    assert trace.format == "cicv5g" and trace.rows == first["figures"]["answered"]
    assert len(read_modem_rows(first["trace"])) == trace.rows
    # qualify the replayed trace: the same link figures and the same margin
    rc, again = qualify(tmp_path / "b", "--mode", "virtual", "--duration", "6 s",
                        "--network", first["profile"], "--control", "remote-loop")
    assert rc == 0
    for q in ("median", "p90", "max"):
        assert again["figures"]["rtt_ms"][q] == pytest.approx(first["figures"]["rtt_ms"][q],
                                                              abs=0.5)
    assert again["margin_ms"] == first["margin_ms"]
    # and a plain sweep on the measured link finds the margin as its budget
    res = sweep(SCENARIO, "sim", ["remote-loop"], [0, 20, 40, 60, 80, 100], cycles=2, jobs=1,
                network=first["profile"])
    assert res["budget_ms"]["remote-loop"] == first["margin_ms"]


def test_lost_probes_become_outages_of_the_replay(tmp_path: Path) -> None:
    rc, r = qualify(tmp_path, "--mode", "virtual", "--duration", "7 s",
                    "--network", "coverage-hole", "--control", "remote-loop")
    assert rc == 1
    doc = load_profile(r["profile"])
    ((at, dur),) = doc.outages.scheduled
    (run,) = r["figures"]["outages"]
    assert r["figures"]["rtt_ms"] and run["at_s"] > 0      # the first probe was answered
    assert at == pytest.approx(run["at_s"], abs=1e-3)      # so trace time 0 = probe time 0
    assert dur == pytest.approx(run["duration_s"], abs=1e-3)


def hb(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_wire_probe_through_the_proxy_sees_the_hole_and_the_modem(tmp_path: Path) -> None:
    res = hb("link", "qualify", "--lab", "sim5g", "--network", "coverage-hole", "--duration",
             "6.5 s", "--timeout", "0.5 s", "--scenario", SCENARIO, "--cycles", "2", "--step",
             "40 ms", "--control", "remote-loop", "--out", "q", cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    last = [ln for ln in res.stdout.splitlines() if ln.startswith("NO-GO")]
    assert last and "longest outage" in last[0]
    (r,) = json.loads((tmp_path / "q" / "qualify.json").read_text())["sites"]
    assert r["mode"] == "wire" and r["network"] == "coverage-hole" and r["link_samples"] >= 5
    f = r["figures"]
    # the proxy's 3 s hole, 2 s after start, and TCP's recovery after it: a request stalled in
    # the hole is resent with Linux's back-off (tcp.py), the last resend up to ~1 s after the end
    assert 2.4 <= f["longest_outage_s"] <= 4.3
    assert f["rtt_ms"]["min"] >= 5.0                     # the profile's delay is in every RTT
    assert f["probes"] >= 50                             # about 20 per s outside the hole
    rows = read_modem_rows(tmp_path / r["trace"])
    assert len(rows) == f["answered"]
    assert rows[0].cell_id == "5C4225714"               # the modem simulator's CICV5G cell


@pytest.mark.parametrize("args, message", [
    (["--duration", "0 s"], "--duration"),
    (["--interval", "1 ms"], "--interval"),
    (["--site", "nowhere"], "--site nowhere"),
    (["--control", "telepathy"], "--control"),
])
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str,
                                          capsys: pytest.CaptureFixture) -> None:
    assert main(["link", "qualify", "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


class _Echo:
    """A real echo service on loopback (UDP or TCP), counting what it answered."""

    def __init__(self, kind: str) -> None:
        import socket
        import threading
        self.kind, self.count = kind, 0
        self.sock = socket.socket(socket.AF_INET,
                                  socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        if kind == "tcp":
            self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        import socket
        self.sock.settimeout(0.1)
        while not self.stop:
            try:
                if self.kind == "udp":
                    data, peer = self.sock.recvfrom(2048)
                    self.sock.sendto(data, peer)
                    self.count += 1
                    continue
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                while data := conn.recv(2048):
                    conn.sendall(data)
                    self.count += 1


@pytest.mark.parametrize("kind", ["udp", "tcp"])
def test_echo_probes_go_only_to_the_declared_echo(tmp_path: Path, kind: str) -> None:
    import socket
    echo = _Echo(kind)
    robot = socket.socket()                  # the lab's real robot address: must stay untouched
    robot.bind(("127.0.0.1", 0))
    robot.listen(1)
    robot.settimeout(0.01)
    lab = tmp_path / "lab.yaml"
    lab.write_text(
        "name: remote\nrobot: {driver: modbus, map: native, transport: tcp, host: 127.0.0.1, "
        f"port: {robot.getsockname()[1]}}}\nqualify: {{echo: '{kind}://127.0.0.1:{echo.port}', "
        "control: remote-loop}\n")
    rc, r = qualify(tmp_path / "q", "--lab", str(lab), "--duration", "1 s", "--step", "40 ms")
    echo.stop = True
    assert rc == 0 and r["verdict"] == "GO"
    assert r["endpoint"] == f"{kind}://127.0.0.1:{echo.port}" and r["network"] is None
    assert r["criteria"]["control"] == "remote-loop" and r["sweep_lab"] == "sim"
    assert r["figures"]["answered"] == r["figures"]["probes"] == echo.count >= 15
    with pytest.raises(socket.timeout):
        robot.accept()                       # nothing ever connected to the robot
    robot.close()
