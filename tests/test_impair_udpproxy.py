"""The UDP impairment proxy (its own process, `hil-bench netem udp`) between real UDP sockets on
loopback: both directions delayed by the profile, several peers each get their own replies,
loss/duplication/reordering/outages happen and every datagram's fate is in the event log.
Coarse timing facts only; precision is measured by benchmarks/delay_precision.py."""
from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.impair import load_profile
from bench.impair.link import ImpairedLink
from bench.impair.loop import PreciseLoop
from bench.impair.udpproxy import UdpProxy
from bench.impair.wire import udp_proxy
from bench.observer import RunObserver


class Events(RunObserver):
    def __init__(self) -> None:
        self.events: list[dict] = []

    def on_event(self, t_ns, kind, detail):
        self.events.append(detail)


class Echo:
    """A UDP echo server on loopback (a thread-free select loop driven by the test)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.addr = self.sock.getsockname()

    def serve_once(self) -> None:
        while True:
            try:
                data, addr = self.sock.recvfrom(65536)
            except BlockingIOError:
                return
            self.sock.sendto(b"echo:" + data, addr)


def _exchange(echo: Echo, clients: list[socket.socket], port: int, msgs: list[tuple[int, bytes]],
              wait_s: float) -> list[tuple[int, bytes, float]]:
    """Send each (client index, payload) 2 ms apart; return (client, reply, rtt s) as they come."""
    import select
    sent: dict[bytes, float] = {}
    got: list[tuple[int, bytes, float]] = []
    pending = list(msgs)
    next_send = time.monotonic()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        now = time.monotonic()
        if pending and now >= next_send:
            i, payload = pending.pop(0)
            sent[payload] = now
            clients[i].sendto(payload, ("127.0.0.1", port))
            next_send = now + 0.002
        r, _, _ = select.select([echo.sock, *clients], [], [], 0.001)
        if echo.sock in r:
            echo.serve_once()
        t = time.monotonic()
        for i, c in enumerate(clients):
            if c in r:
                while True:
                    try:
                        data = c.recv(65536)
                    except BlockingIOError:
                        break
                    got.append((i, data, t - sent[data[5:]]))
        if not pending and len(got) >= len(msgs) and t > next_send + 0.05:
            break
    return got


def _client() -> socket.socket:
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.bind(("127.0.0.1", 0))
    c.setblocking(False)
    return c


def test_both_directions_delayed_and_each_peer_gets_its_own_replies(tmp_path: Path):
    prof = tmp_path / "p.yaml"
    prof.write_text("name: udp-asym\nuplink: {delay: 30 ms}\ndownlink: {delay: 10 ms}\n")
    echo = Echo()
    obs = Events()
    clients = [_client(), _client(), _client()]
    with udp_proxy(echo.addr, load_profile(str(prof)), 1, obs) as px:
        assert px.info["proxy"] == "udp"
        msgs = [(k % 3, f"c{k % 3}-m{k}".encode()) for k in range(30)]
        got = _exchange(echo, clients, px.info["port"], msgs, 5.0)
        px.drain()
    assert len(got) == 30
    for i, data, rtt in got:
        assert data.startswith(f"echo:c{i}-".encode())      # each peer gets only its replies
        assert rtt >= 0.039                    # 30 + 10 ms (timers may fire 0.3 ms early)
    # loose: this test process has no priority on a loaded 2-core CI machine
    assert statistics.median(rtt for _, _, rtt in got) < 0.040 + 0.015
    assert {e["dir"] for e in obs.events} == {"up", "down"}
    assert len(obs.events) == 60
    assert len({e["peer"] for e in obs.events}) == 3
    ups = [e["delay_ms"] for e in obs.events if e["dir"] == "up"]
    downs = [e["delay_ms"] for e in obs.events if e["dir"] == "down"]
    assert ups == [30.0] * 30 and downs == [10.0] * 30
    for c in clients:
        c.close()


def test_loss_duplication_reordering_and_outage_in_process(tmp_path: Path):
    """The proxy object on a loop in this process: real sockets, the fates the engine chose."""
    prof = tmp_path / "p.yaml"
    prof.write_text("name: udp-mix\nuplink: {delay: {base: 20 ms, jitter: 15 ms}, loss: 20 %,\n"
                    "  duplicate: 20 %, reorder: 10 %}\ndownlink: {delay: 0 ms}\n"
                    "outage: {schedule: [{at: 0.25 s, duration: 0.1 s}]}\n")
    link: ImpairedLink = load_profile(str(prof)).link(7)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    loop = PreciseLoop(0.0005)
    events_path = tmp_path / "ev.jsonl"
    with open(events_path, "w") as events:
        px = UdpProxy(("127.0.0.1", 0), sink.getsockname(), link, loop, events)
        client = _client()
        received: list[int] = []
        t0 = time.monotonic()
        state = {"k": 0}

        def tick() -> None:
            k = state["k"]
            if k < 200:
                client.sendto(k.to_bytes(4, "big"), ("127.0.0.1", px.port))
                state["k"] += 1
                loop.call_at(time.monotonic_ns() + 2_000_000, tick, precise=False)
            else:
                loop.call_at(time.monotonic_ns() + 100_000_000, loop.stop, precise=False)

        def drain() -> None:
            while True:
                try:
                    received.append(int.from_bytes(sink.recv(64), "big"))
                except BlockingIOError:
                    return

        loop.add_reader(sink.fileno(), drain)
        loop.call_at(time.monotonic_ns(), tick, precise=False)
        loop.run()
        px.close()
    assert time.monotonic() - t0 < 5
    evs = [json.loads(line) for line in events_path.read_text().splitlines()]
    assert len(evs) == 200 and all(e["dir"] == "up" for e in evs)
    lost = [e for e in evs if e["lost"]]
    causes = {e["cause"] for e in lost}
    assert causes == {"loss", "outage"}
    dups = sum(1 for e in evs if e.get("duplicate"))
    reord = sum(1 for e in evs if e.get("reordered"))
    assert dups > 10 and reord > 5
    # what arrived is exactly what the log says: each delivered datagram once, duplicates twice
    assert len(received) == 200 - len(lost) + dups
    assert received != sorted(received)                       # jitter and reorder overtake
    assert px.stats["datagrams"] == 200 and px.stats["lost"] == len(lost)
    sink.close()
    client.close()


def test_cli_bad_input_is_one_line_exit_2(capsys):
    from bench.cli import main

    assert main(["netem", "udp", "--upstream", "nohost", "--profile", "ideal"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--upstream" in err
    assert main(["netem", "udp", "--upstream", "127.0.0.1:9", "--profile", "no-such"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_stopped_line_counts():
    """SIGTERM ends the proxy with a `stopped` line whose counts match what was sent."""
    proc = subprocess.Popen([sys.executable, "-m", "bench", "netem", "udp", "--upstream",
                             "127.0.0.1:9", "--profile", "ideal"], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    c = _client()
    for k in range(5):
        c.sendto(b"x" * (k + 1), ("127.0.0.1", ready["port"]))
    time.sleep(0.2)
    proc.terminate()
    stopped = json.loads(proc.stdout.readline())
    proc.wait(timeout=10)
    assert stopped["event"] == "stopped" and stopped["datagrams"] == 5
    assert stopped["bytes"] == 15 and stopped["peers"] == 1
    c.close()


def test_every_datagram_is_in_the_event_log_when_the_proxy_is_stopped(tmp_path: Path):
    """Undelayed datagrams are sent before their event line is queued, and the lines are written
    by a thread of their own (gate.EventLog): a stopped proxy (SIGTERM) still has every line on
    disk, in order, by the time it has printed its stopped line and exited."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.settimeout(5)
    events = tmp_path / "events.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "netem", "udp", "--upstream",
                             "127.0.0.1:%d" % sink.getsockname()[1], "--profile", "ideal",
                             "--events", str(events)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    c = _client()
    try:
        for k in range(30):
            c.sendto(b"d%02d" % k, ("127.0.0.1", ready["port"]))
            assert sink.recv(64) == b"d%02d" % k
    finally:
        proc.terminate()
        stopped = json.loads(proc.stdout.readline())
        proc.wait(timeout=10)
        c.close()
        sink.close()
    assert stopped["datagrams"] == 30
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["bytes"] for e in lines] == [3] * 30
    assert all(e["dir"] == "up" and not e["lost"] for e in lines)
    assert [e["t_ns"] for e in lines] == sorted(e["t_ns"] for e in lines)
