#!/usr/bin/env python3
"""What the namespace forwarder (`hil-bench netem ns`) costs in CPU: idle, and carrying UDP round
trips at a steady rate, with its answer window on (the default, 1 ms) and off (0).

A client inside the namespace sends one 16-byte datagram every 1/RATE s to an echo server on the
host (`delay_precision.py --echo`, at the namespace link's host address) and reads the replies
as they come; the uplink is delayed 20 ms and the downlink not, so every delivered request opens an
answer window (`bench/impair/loop.py`). Idle: the client sleeps as long without sending. CPU % =
the forwarder's CPU time while its loop ran / how long it ran (`cpu_s` / `run_s` of its stopped
line; 100 % = one CPU). Needs root and /dev/net/tun (says why and exits 0 otherwise).

    python benchmarks/netem_cpu.py                  # 10 s per cell, 100 and 500 round trips/s
    python benchmarks/netem_cpu.py --seconds 3 --rates 200 --json
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: the client inside the namespace: RATE round trips a second (0: none) for SECONDS
CLIENT = r"""
import os, select, socket, sys, time
rate, seconds, port = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
if rate <= 0:
    time.sleep(seconds); sys.exit(0)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.setblocking(False)
u.connect((os.environ["HIL_NS_HOST"], port))
now = time.monotonic(); end = now + seconds; nxt = now
while now < end + 0.1:              # the last replies take 20 ms
    if now >= nxt and now < end:
        u.send(b"x" * 16); nxt += 1.0 / rate
    elif select.select([u], [], [], max(0.0, min(nxt, end + 0.1) - now))[0]:
        while True:
            try:
                u.recv(64)
            except BlockingIOError:
                break
    now = time.monotonic()
"""


def measure(rate: float, window_ms: float, seconds: float, port: int, tmp: Path) -> dict:
    prof = tmp / "p.yaml"
    prof.write_text("name: cpu\nuplink: {delay: 20 ms}\n")
    r = subprocess.run([sys.executable, "-m", "bench", "netem", "ns", "--profile", str(prof),
                        "--answer-window", str(window_ms), "--", sys.executable, "-c", CLIENT,
                        str(rate), str(seconds), str(port)],
                       capture_output=True, text=True, timeout=seconds + 60)
    if r.returncode != 0:
        raise RuntimeError(f"netem ns failed: {r.stderr.strip()[-500:]}")
    stopped = json.loads(r.stderr.strip().splitlines()[-1])
    return {"rate_per_s": rate, "answer_window_ms": window_ms, "packets": stopped["packets"],
            "cpu_s": stopped["cpu_s"], "run_s": stopped["run_s"],
            "cpu_pct": round(100.0 * stopped["cpu_s"] / stopped["run_s"], 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="per cell (default 10)")
    ap.add_argument("--rates", default="100,500",
                    help="round trips a second, comma-separated (default 100,500: 200 and "
                         "1000 packets a second)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    from bench.impair.netns import support

    ok, why = support()
    if not ok:
        print(f"netem ns cannot run here: {why}")
        return 0
    echo = subprocess.Popen([sys.executable, str(HERE / "delay_precision.py"), "--echo", "0"],
                            stdout=subprocess.PIPE, text=True)
    assert echo.stdout is not None
    port = json.loads(echo.stdout.readline())["port"]
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for rate in (0.0, *(float(r) for r in args.rates.split(",") if r)):
                for window in (1.0, 0.0):
                    rows.append(measure(rate, window, args.seconds, port, Path(tmp)))
    finally:
        echo.terminate()
        echo.wait()
    out = {"load_avg_1min": round(os.getloadavg()[0], 2), "rows": rows}
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"netem ns forwarder CPU (100 % = one CPU), uplink 20 ms, downlink undelayed, "
          f"{args.seconds:g} s per cell, load average {out['load_avg_1min']}")
    print(f"{'round trips/s':>14} {'packets/s':>10} {'answer window':>14} {'CPU %':>7}")
    for row in rows:
        print(f"{row['rate_per_s']:>14g} {row['packets'] / row['run_s']:>10.0f} "
              f"{row['answer_window_ms']:>11g} ms {row['cpu_pct']:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
