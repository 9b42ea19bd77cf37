"""The UDP impairment proxy: peers <-> proxy <-> upstream, each datagram delayed, lost,
duplicated, reordered or corrupted by the link built from a profile. Run it in its own process
(`hil-bench netem udp`).

Datagrams a peer sends to `listen` cross the link's uplink and leave towards `upstream` from a
socket of that peer's own (so the upstream's replies find their way back, as through a NAT);
what the upstream sends to that socket crosses the downlink back to the peer. Several peers share
one link whose time starts with the proxy (outages hit everyone at the same moment, as on one
radio link). A datagram's time is the kernel's receive stamp (SO_TIMESTAMPNS), so the proxy's
own wake-up does not add to its delay. Unlike the TCP proxy, datagrams may overtake each other:
a jittered delay reorders them as netem does, and `reorder` sends some without delay. Each
datagram's fate is decided and logged by `gate.py` and it is written at its arrival time by the
precise loop (`loop.py`).

Event line per datagram (``--events``): ``{"t_ns", "kind": "network", "dir", "lost",
"delay_ms" | "cause", "bytes", "peer": "127.0.0.1:40000"}``.
Failure modes: OSError from binding `listen` (the CLI turns it into exit 2); datagrams that
cannot be sent (a full socket buffer, an ICMP error from the upstream) are counted under
`send_errors`, never raised.
"""
from __future__ import annotations

import functools
import socket
from typing import TextIO

from bench.impair import rxstamp
from bench.impair.gate import Gate
from bench.impair.link import ImpairedLink
from bench.impair.loop import PreciseLoop

#: datagrams read per readiness event before the loop looks at its timers again
BATCH = 64


def _resolve(addr: tuple[str, int]) -> tuple[int, tuple]:
    family, _, _, _, sockaddr = socket.getaddrinfo(addr[0], addr[1], type=socket.SOCK_DGRAM)[0]
    return family, sockaddr


class _Peer:
    """One client address and the socket that speaks to the upstream for it."""

    def __init__(self, addr: tuple, family: int, upstream: tuple) -> None:
        self.addr = addr
        self.label = f"{addr[0]}:{addr[1]}"
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.sock.connect(upstream)
        rxstamp.enable(self.sock)


class UdpProxy:
    """Receives on `listen`, relays each peer's datagrams to `upstream` and back, impaired."""

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], link: ImpairedLink,
                 loop: PreciseLoop, events: TextIO | None = None, max_peers: int = 1024) -> None:
        self.loop = loop
        self.link = link
        family, sockaddr = _resolve(listen)
        self.up_family, self.upstream = _resolve(upstream)
        self.server = socket.socket(family, socket.SOCK_DGRAM)
        self.server.setblocking(False)
        self.server.bind(sockaddr)
        rxstamp.enable(self.server)
        self.port = self.server.getsockname()[1]
        self.max_peers = max_peers
        self.peers: dict[tuple, _Peer] = {}
        self.gate = Gate(link, loop, events, unit="datagrams")
        self.stats = self.gate.stats
        self.stats.update(peers=0, send_errors=0, refused_peers=0)
        loop.add_reader(self.server.fileno(), self._from_peers)

    def _peer(self, addr: tuple) -> _Peer | None:
        peer = self.peers.get(addr)
        if peer is None:
            if len(self.peers) >= self.max_peers:
                self.stats["refused_peers"] += 1
                return None
            peer = _Peer(addr, self.up_family, self.upstream)
            self.peers[addr] = peer
            self.stats["peers"] = len(self.peers)
            self.loop.add_reader(peer.sock.fileno(), functools.partial(self._from_upstream, peer))
        return peer

    def _from_peers(self) -> None:
        for _ in range(BATCH):
            try:
                data, addr, t = rxstamp.recv(self.server)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:                 # an ICMP error for an earlier reply: nothing to read
                continue
            peer = self._peer(addr)
            if peer is None:
                continue
            self.gate.forward(self.link.uplink, data, t, functools.partial(self._send_up, peer),
                              peer=peer.label)

    def _from_upstream(self, peer: _Peer) -> None:
        for _ in range(BATCH):
            try:
                data, _, t = rxstamp.recv(peer.sock)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:                 # ICMP port unreachable from the upstream
                continue
            self.gate.forward(self.link.downlink, data, t,
                              functools.partial(self._send_down, peer), peer=peer.label)

    def _send_up(self, peer: _Peer, data: bytes) -> None:
        try:
            peer.sock.send(data)
        except OSError:
            self.stats["send_errors"] += 1

    def _send_down(self, peer: _Peer, data: bytes) -> None:
        try:
            self.server.sendto(data, peer.addr)
        except OSError:
            self.stats["send_errors"] += 1

    def close(self) -> None:
        self.stats.update(self.gate.lateness())
        for peer in self.peers.values():
            self.loop.remove_reader(peer.sock.fileno())
            peer.sock.close()
        self.loop.remove_reader(self.server.fileno())
        self.server.close()
