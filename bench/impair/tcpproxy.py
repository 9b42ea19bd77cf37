"""The TCP impairment proxy: client <-> proxy <-> upstream, each chunk delayed, lost or held back
by the link built from a profile. Run it in its own process (`hil-bench netem proxy`).

Client-to-upstream data crosses the link's uplink, upstream-to-client its downlink. Each chunk
read from a socket is one message: its time is when its last segment arrived (the kernel's
receive stamp, `rxstamp.py`: the proxy's own wake-up is not part of the delay), its fate comes
from the engine (`link.py`), and it is written to the other side at its arrival time by a
precise timer set early by the learnt wake-up lateness (`gate.OnTime`, as the UDP proxy and the
namespace forwarder do); a chunk due at once is written before its event line, and after a
delivery whose answer will come back undelayed the loop naps for it (`gate.answer_due`). Both
connections of a pair share one link whose time starts when the proxy starts, so outages in a
profile happen at the same moments for every connection. Streams stay in order.
With `tcp` (a `TcpSpec`, the default of `hil-bench netem proxy`) each connection is a TCP
connection over the link (`tcp.py`): a chunk the link loses (loss model or outage) is
retransmitted after the RTO with exponential back-off, so the application sees it late, and the
bytes behind it wait (head-of-line blocking); a stall beyond the spec's `reset_after` resets the
connection (both sockets are closed, the client's with an RST). Without `tcp`, lost chunks are
dropped (the message-level model). Connection setup and close are not delayed.

Each chunk's fate is written as one JSON line to `events` (if given): ``{"t_ns": <monotonic ns
when read>, "kind": "network", "dir": "up", "lost": false, "delay_ms": 20.004, "bytes": 12,
"conn": 1}``; t_ns is on the same clock as the bench's RealClock.
"""
from __future__ import annotations

import json
import socket
import struct
from collections import deque
from typing import TextIO

from bench.impair import rxstamp
from bench.impair.gate import OnTime, answer_due
from bench.impair.link import Direction, ImpairedLink
from bench.impair.loop import PreciseLoop, now_ns
from bench.impair.tcp import TcpConnection, TcpSender, TcpSpec


class _Side:
    """One socket with its pending output."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.out: deque[bytes] = deque()
        self.closed = False


class TcpProxy:
    """Accepts on `listen`, connects each client to `upstream`, impairs both directions."""

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], link: ImpairedLink,
                 loop: PreciseLoop, events: TextIO | None = None,
                 tcp: TcpSpec | None = None) -> None:
        self.upstream = upstream
        self.link = link
        self.tcp = tcp
        self.loop = loop
        self.events = events
        self.server = socket.create_server(listen, reuse_port=False)
        self.server.setblocking(False)
        self.port = self.server.getsockname()[1]
        self.t0_ns = now_ns()
        self.conns = 0
        self.stats: dict[str, float] = {"chunks": 0, "lost": 0, "bytes": 0, "retransmits": 0,
                                        "resets": 0}
        self.on_time = OnTime(loop)
        # per direction ("up", "down"): when it last carried a chunk and that chunk's delay
        self._recent: dict[str, tuple[int, int]] = {}
        loop.add_reader(self.server.fileno(), self._accept)

    # -- connections ---------------------------------------------------------------------------
    def _accept(self) -> None:
        try:
            client, _ = self.server.accept()
        except BlockingIOError:
            return
        try:
            up = socket.create_connection(self.upstream, timeout=2.0)
        except OSError:
            client.close()
            return
        self.conns += 1
        cid = self.conns
        pair = []
        for s in (client, up):
            s.setblocking(False)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            rxstamp.enable(s)
            pair.append(_Side(s))
        c, u = pair
        last = {"up": 0, "down": 0, "wake_up": 0, "wake_down": 0}
        ways: ImpairedLink | TcpConnection = self.link
        if self.tcp is not None:
            ways = TcpConnection(self.link, self.tcp)
        up_dir, down_dir = ways.uplink, ways.downlink
        self.loop.add_reader(c.fd, lambda: self._read(c, u, up_dir, cid, last, "up"))
        self.loop.add_reader(u.fd, lambda: self._read(u, c, down_dir, cid, last, "down"))

    def _read(self, src: _Side, dst: _Side, direction: Direction | TcpSender, cid: int,
              last: dict, key: str) -> None:
        try:
            data, _, t = rxstamp.recv(src.sock)
        except BlockingIOError:
            return
        except OSError:
            data, t = b"", now_ns()
        if not data:                 # EOF: close the other side once its data has gone out
            self.loop.remove_reader(src.fd)
            self.loop.call_at(max(t, last[key]), lambda: self._close(dst, src), precise=False)
            return
        fate = direction.send((t - self.t0_ns) / 1e9, len(data))
        self.stats["chunks"] += 1
        self.stats["bytes"] += len(data)
        self.stats["retransmits"] += fate.retransmits
        if fate.lost:
            self.stats["lost"] += 1
            reset_at = direction.reset_at if isinstance(direction, TcpSender) else None
            if reset_at is not None and fate.cause == "stall" and not src.closed:
                # the TCP stack gives up on the connection: both ends see it go
                when = self.t0_ns + int(round(reset_at * 1e9))
                self.loop.call_at(when, lambda: self._reset(src, dst, cid), precise=False)
        else:
            release = self.t0_ns + int(round(fate.t_arrive_s * 1e9))
            last[key] = release
            self._recent[key] = (t, release - t)
            # a chunk due at once is written here, before its event line (gate.Gate.forward)
            last["wake_" + key] = self.on_time.at(
                release, lambda: self._deliver(dst, data, src, key), not_before=last["wake_" + key])
        if self.events is not None:
            ev = {"t_ns": t, "kind": "network", **fate.as_event(), "bytes": len(data),
                  "conn": cid}
            self.events.write(json.dumps(ev) + "\n")
            self.events.flush()

    def _deliver(self, dst: _Side, data: bytes, other: _Side, key: str) -> None:
        self._write(dst, data, other)
        # the answer to it, on the other direction, comes soon: read it awake (gate.py)
        if answer_due(self._recent.get("down" if key == "up" else "up"), now_ns()):
            self.loop.expect_soon()

    def _write(self, dst: _Side, data: bytes, other: _Side) -> None:
        if dst.closed:
            return
        if dst.out:
            dst.out.append(data)
            return
        try:
            n = dst.sock.send(data)
        except BlockingIOError:
            n = 0
        except OSError:
            self._close(dst, other)
            return
        if n < len(data):
            dst.out.append(data[n:])
            self.loop.add_writer(dst.fd, lambda: self._flush(dst, other))

    def _flush(self, dst: _Side, other: _Side) -> None:
        while dst.out:
            data = dst.out[0]
            try:
                n = dst.sock.send(data)
            except BlockingIOError:
                return
            except OSError:
                self._close(dst, other)
                return
            if n < len(data):
                dst.out[0] = data[n:]
                return
            dst.out.popleft()
        self.loop.remove_writer(dst.fd)

    def _close(self, a: _Side, b: _Side) -> None:
        for side in (a, b):
            if not side.closed:
                side.closed = True
                self.loop.remove_reader(side.fd)
                self.loop.remove_writer(side.fd)
                try:
                    side.sock.close()
                except OSError:
                    pass

    def _reset(self, a: _Side, b: _Side, cid: int) -> None:
        if a.closed and b.closed:
            return
        self.stats["resets"] += 1
        if self.events is not None:
            ev = {"t_ns": now_ns(), "kind": "network", "dir": "both", "lost": True,
                  "cause": "reset", "conn": cid, "bytes": 0}
            self.events.write(json.dumps(ev) + "\n")
            self.events.flush()
        for side in (a, b):           # SO_LINGER 0: close() sends an RST, as a reset does
            try:
                side.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self._close(a, b)

    def close(self) -> None:
        self.stats.update(self.on_time.lateness())
        self.loop.remove_reader(self.server.fileno())
        self.server.close()
