#!/usr/bin/env python3
"""How precisely does the TCP impairment proxy inject a requested one-way delay?

Messages of 16 bytes (sequence number + send time, CLOCK_MONOTONIC ns, the same clock in every
process) go from a client through a proxy (its own process) to a sink, both in this process on
one thread. Error = arrival time at the sink - send time - requested delay, in milliseconds: it
includes the loopback hops and wake-ups, so it is what a driver would see. Messages are sent
every 3-7 ms (random) without waiting for earlier ones, so long delays do not take long.

Measured for 1, 5, 20, 100 and 300 ms with `hil-bench netem proxy` (default settings: SCHED_FIFO
where permitted, `proxy_realtime` says whether it was) and, in the same run, with a naive asyncio
proxy (await asyncio.sleep(delay) per chunk, then write) as the baseline, plus the direct path (no
proxy) for reference; `--spin` adds the proxy without real-time priority (sleep, then spin).

    python benchmarks/delay_precision.py            # table: median / p99 / max error per delay
    python benchmarks/delay_precision.py --short    # fewer messages (CI smoke)
    python benchmarks/delay_precision.py --json     # one JSON object; the naive proxy under "naive"
    python benchmarks/delay_precision.py --spin     # also the proxy with --no-realtime

Run it on an idle machine: on 2 shared vCPUs another busy process moves the tail by milliseconds.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DELAYS_MS = (1, 5, 20, 100, 300)
MSG = struct.Struct("!QQ")          # sequence, send time ns


# -- the naive baseline proxy (run as a child process) --------------------------------------------
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


# -- measurement ---------------------------------------------------------------------------------
def _start(cmd: list[str]) -> tuple[subprocess.Popen, int, dict]:
    # children must not inherit the instrument's real-time priority
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: os.sched_setscheduler(0, os.SCHED_OTHER,
                                                                     os.sched_param(0)))
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info["port"], info


def _measure(port_in: int, sink: socket.socket, n: int, delay_ms: float) -> np.ndarray:
    client = socket.create_connection(("127.0.0.1", port_in))
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn, _ = sink.accept()
    conn.setblocking(False)
    errors: list[float] = []
    buf = b""
    sent = 0
    next_send = time.monotonic_ns()
    rng = random.Random(1)
    while len(errors) < n:
        now = time.monotonic_ns()
        if sent < n and now >= next_send:
            client.sendall(MSG.pack(sent, time.monotonic_ns()))
            sent += 1
            next_send = now + int(rng.uniform(3e6, 7e6))
            continue
        timeout = max(0.0, (next_send - now) / 1e9) if sent < n else 5.0
        r, _, _ = select.select([conn], [], [], timeout)
        if not r:
            if sent >= n:
                raise RuntimeError("messages lost")
            continue
        t = time.monotonic_ns()
        buf += conn.recv(65536)
        while len(buf) >= MSG.size:
            _, t_send = MSG.unpack(buf[:MSG.size])
            buf = buf[MSG.size:]
            errors.append((t - t_send) / 1e6 - delay_ms)
    client.close()
    conn.close()
    return np.array(errors)


def _stats(e: np.ndarray) -> dict:
    return {"median": round(float(np.median(e)), 3), "p99": round(float(np.percentile(e, 99)), 3),
            "max": round(float(e.max()), 3), "n": int(len(e))}


def run(n: int, delays: tuple[int, ...], spin: bool = False) -> dict:
    # the instrument (sender and sink, this process) gets real-time priority where permitted, so
    # its own wake-ups on a busy machine do not pass for the proxies' errors; it never spins
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(20))
        instrument_rt = True
    except (OSError, AttributeError):
        instrument_rt = False
    sink = socket.create_server(("127.0.0.1", 0))
    sink_port = sink.getsockname()[1]
    out: dict = {"n_per_delay": n, "unit": "ms (arrival - send - requested)", "proxy": {},
                 "naive": {}, "proxy_spin": {}}
    out["direct"] = _stats(_measure(sink_port, sink, n, 0.0))
    with tempfile.TemporaryDirectory() as tmp:
        for d in delays:
            prof = Path(tmp) / f"d{d}.yaml"
            prof.write_text(f"name: bench-{d}ms\nuplink: {{delay: {d} ms}}\n")
            ours, port, info = _start([sys.executable, "-m", "bench", "netem", "proxy",
                                       "--upstream", f"127.0.0.1:{sink_port}", "--profile",
                                       str(prof)])
            out["proxy_realtime"] = bool(info.get("realtime"))
            try:
                out["proxy"][str(d)] = _stats(_measure(port, sink, n, d))
            finally:
                ours.terminate()
                ours.wait()
            if spin:
                sp, port, _ = _start([sys.executable, "-m", "bench", "netem", "proxy",
                                      "--upstream", f"127.0.0.1:{sink_port}", "--profile",
                                      str(prof), "--no-realtime"])
                try:
                    out["proxy_spin"][str(d)] = _stats(_measure(port, sink, n, d))
                finally:
                    sp.terminate()
                    sp.wait()
            naive, port, _ = _start([sys.executable, __file__, "--naive-proxy", str(sink_port),
                                     str(d / 1000.0)])
            try:
                out["naive"][str(d)] = _stats(_measure(port, sink, n, d))
            finally:
                naive.terminate()
                naive.wait()
    out["load_avg_1min"] = os.getloadavg()[0]
    out["instrument_realtime"] = instrument_rt
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--short", action="store_true", help="100 messages per delay instead of 400")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--spin", action="store_true",
                    help="also measure the proxy with --no-realtime (sleep + spin, no priority)")
    ap.add_argument("--naive-proxy", nargs=2, metavar=("UPSTREAM_PORT", "DELAY_S"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.naive_proxy:
        try:
            asyncio.run(_naive_main(int(args.naive_proxy[0]), float(args.naive_proxy[1])))
        except KeyboardInterrupt:
            pass
        return 0
    res = run(100 if args.short else 400, DELAYS_MS, args.spin)
    if args.json:
        print(json.dumps(res))
        return 0
    print(f"one-way delay error, ms (median / p99 / max), {res['n_per_delay']} messages each; "
          f"load average {res['load_avg_1min']:.2f}; instrument real-time: "
          f"{res['instrument_realtime']}")
    d = res["direct"]
    print(f"direct path, no proxy: {d['median']:.3f} / {d['p99']:.3f} / {d['max']:.3f}")
    rt = "SCHED_FIFO" if res.get("proxy_realtime") else "no real-time priority"
    cols = [(f"netem proxy ({rt})", "proxy"), ("naive asyncio proxy", "naive")]
    if res["proxy_spin"]:
        cols.insert(1, ("proxy --no-realtime", "proxy_spin"))
    print(f"{'requested':>10}" + "".join(f"  {title:>26}" for title, _ in cols))
    for k in res["proxy"]:
        row = f"{k + ' ms':>10}"
        for _, key in cols:
            a = res[key][k]
            row += f"  {a['median']:8.3f} {a['p99']:8.3f} {a['max']:8.3f}"
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
