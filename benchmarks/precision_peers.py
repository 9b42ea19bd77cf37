#!/usr/bin/env python3
"""The peer programs `delay_precision.py` starts as child processes (through its hidden flags):
the naive asyncio TCP proxy and the whole-millisecond UDP relay it compares the bench's paths
with, and the echo server of the namespace round trips. Each prints one JSON ready line with its
port and serves until killed. Failure modes: socket errors end the process (the benchmark sees
its child exit)."""
from __future__ import annotations

import asyncio
import json
import os
import select
import socket
import time


def _realtime(priority: int = 20) -> bool:
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        return True
    except (OSError, AttributeError):
        return False


# -- the naive baseline TCP proxy (child process) -------------------------------------------------
async def _naive_pipe(reader, writer, delay_s: float) -> None:
    queue: asyncio.Queue = asyncio.Queue()

    async def release() -> None:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(release())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay_s, data))
    finally:
        task.cancel()


async def _naive_main(upstream_port: int, delay_s: float) -> None:
    async def handle(cr, cw):
        ur, uw = await asyncio.open_connection("127.0.0.1", upstream_port)
        await asyncio.gather(_naive_pipe(cr, uw, delay_s), _naive_pipe(ur, cw, 0.0))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(json.dumps({"event": "ready", "port": server.sockets[0].getsockname()[1]}), flush=True)
    await server.serve_forever()


# -- the whole-millisecond UDP relay (child process): mahimahi's DelayQueue scheduling ----------
def _ms_relay(upstream_port: int, delay_ms: int) -> None:
    """Timestamps are whole milliseconds (mahimahi src/util/timestamp.cc), a datagram is due at
    arrival_ms + delay_ms and released once the ms clock reaches it; waits are ms poll timeouts."""
    _realtime(10)                   # real-time, as the bench's proxies (which now run at 40)
    t0 = time.monotonic_ns()

    def ms() -> int:
        return (time.monotonic_ns() - t0) // 1_000_000

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    print(json.dumps({"event": "ready", "port": sock.getsockname()[1]}), flush=True)
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    queue: list[tuple[int, bytes]] = []
    while True:
        now = ms()
        while queue and queue[0][0] <= now:
            out.sendto(queue.pop(0)[1], ("127.0.0.1", upstream_port))
        timeout = max(0, queue[0][0] - now) if queue else 1000
        if poller.poll(timeout):
            data = sock.recv(65536)
            queue.append((ms() + delay_ms, data))


# -- echo server (child process) for the namespace path --------------------------------------------
def _echo(port: int) -> None:
    _realtime()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", port))
    tcp = socket.create_server(("0.0.0.0", udp.getsockname()[1]))
    print(json.dumps({"event": "ready", "port": udp.getsockname()[1]}), flush=True)
    conns: list[socket.socket] = []
    while True:
        r, _, _ = select.select([udp, tcp, *conns], [], [])
        for s in r:
            if s is udp:
                data, addr = udp.recvfrom(65536)
                udp.sendto(data, addr)
            elif s is tcp:
                c = tcp.accept()[0]
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conns.append(c)
            else:
                data = s.recv(65536)
                if data:
                    s.sendall(data)
                else:
                    conns.remove(s)
                    s.close()
