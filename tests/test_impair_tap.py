"""The packet tap that stamps the namespace forwarder's packets (`bench/impair/tun.py` `Tap`): a
real AF_PACKET socket with its receive ring shared with the kernel, here on loopback. Every
datagram this test sends comes out of the ring once, in order, with a kernel stamp taken between
the send call's start and end; the ring is used round and round (more datagrams than it has
frames). Needs root (CAP_NET_RAW); skipped with the reason otherwise. Traffic: loopback only."""
from __future__ import annotations

import os
import socket
import time

import pytest

from bench.impair.tun import TAP_FRAMES, open_tap

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a packet tap needs root (CAP_NET_RAW)")


def test_every_datagram_comes_out_of_the_ring_once_in_order_with_its_send_time() -> None:
    tap = open_tap("lo")
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    marker = os.urandom(8).hex().encode()          # other tests' loopback traffic is ignored
    got: list[tuple[int, int]] = []
    windows: dict[int, tuple[int, int]] = {}
    try:
        for batch in range(TAP_FRAMES // 50 + 5):          # round the ring more than once
            for k in range(50):
                seq = batch * 50 + k
                before = time.time_ns()
                tx.sendto(marker + b"%06d" % seq, rx.getsockname())
                windows[seq] = (before, time.time_ns())
            while (copy := tap.take()) is not None:
                data, stamp = copy
                at = data.find(marker)
                if at >= 0:
                    got.append((int(data[at + len(marker):at + len(marker) + 6]), stamp))
    finally:
        tap.close()
        rx.close()
        tx.close()
    assert [seq for seq, _ in got] == sorted(windows)            # all of them, once, in order
    assert len(got) > TAP_FRAMES
    for seq, stamp in got:
        before, after = windows[seq]
        assert before <= stamp <= after
