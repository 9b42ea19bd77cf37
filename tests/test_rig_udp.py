"""UDP streams and devices in the lab-devices layer: `Rig.udp_link` puts the UDP impairment proxy
(its own process) in front of a UDP receiver under the run's profile, `hil-bench run --udp-link`
does it for a run; every datagram's fate reaches the run's observer (the session)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.impair import load_profile
from bench.lab import load_lab
from bench.observer import RunObserver
from bench.rig import Rig
from drivers.endpoint import UdpEndpoint


class Events(RunObserver):
    def __init__(self) -> None:
        self.events: list[dict] = []

    def on_event(self, t_ns, kind, detail):
        if kind == "network":
            self.events.append(detail)


def test_rig_udp_link_impairs_a_stream_and_reports_every_datagram(tmp_path: Path):
    prof = tmp_path / "p.yaml"
    prof.write_text("name: stream-25\nuplink: {delay: 25 ms}\ndownlink: {delay: 5 ms}\n")
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(3)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.settimeout(3)
    obs = Events()
    with Rig(load_lab("sim"), "wire", seed=3, network=load_profile(str(prof)),
             observer=obs) as rig:
        link = rig.udp_link(UdpEndpoint(*receiver.getsockname()))
        pid = rig.proxies[0]["pid"]
        assert rig.proxies[0]["proxy"] == "udp"
        for i in range(5):
            t0 = time.monotonic()
            sender.sendto(b"frame %d" % i, link.endpoint)
            data, addr = receiver.recvfrom(64)
            receiver.sendto(b"ack " + data, addr)
            assert sender.recv(64) == b"ack frame %d" % i
            assert time.monotonic() - t0 >= 0.029            # 25 + 5 ms
        assert rig.drain() == 10
    with pytest.raises(ProcessLookupError):                  # stopped with the rig
        os.kill(pid, 0)
    assert [e["dir"] for e in obs.events] == ["up", "down"] * 5
    assert {e["delay_ms"] for e in obs.events if e["dir"] == "up"} == {25.0}
    assert len({e["peer"] for e in obs.events}) == 1


def test_run_udp_link_lists_the_proxy_and_bad_input_is_exit_2(tmp_path: Path):
    r = subprocess.run([sys.executable, "-m", "bench", "run", "--mode", "virtual", "--cycles",
                        "2", "-q", "--udp-link", "127.0.0.1:9", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1), r.stderr
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    udp = [p for p in report["proxies"] if p["proxy"] == "udp"]
    assert len(udp) == 1 and udp[0]["upstream"] == "127.0.0.1:9"
    with pytest.raises(ProcessLookupError):
        os.kill(udp[0]["pid"], 0)
    assert not list((tmp_path / "o").glob(".netem-*"))      # its events folder went with it
    from bench.cli import main
    assert main(["run", "--udp-link", "nowhere", "--out", str(tmp_path / "o2")]) == 2
