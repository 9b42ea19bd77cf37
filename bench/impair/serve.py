"""Proxy processes: build the link, serve until SIGINT/SIGTERM, print ready/stopped JSON lines.

Ready line (stdout, one JSON object), e.g. for the TCP proxy::

    {"event": "ready", "proxy": "tcp", "host": "127.0.0.1", "port": 40123,
     "upstream": "127.0.0.1:5020", "profile": "5g-urban", "seed": 1, "pid": 1234}

then ``{"event": "stopped", "chunks": N, "lost": N, "bytes": N}`` after a signal.
"""
from __future__ import annotations

import json
import os
import signal
import sys
from contextlib import ExitStack
from typing import Any, Callable, TextIO

from bench.impair.gate import background_log
from bench.impair.loop import WINDOW_S, PreciseLoop, proxy_loop, reduce_timer_slack, try_realtime
from drivers.errors import ConfigError


def parse_hostport(text: str, what: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port); ConfigError naming `what` otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"{what}: expected HOST:PORT, got {text!r}")
    return host, int(port)


def run_proxy(build: Callable[[PreciseLoop, TextIO | None], Any],
              ready: Callable[[Any], dict[str, Any]],
              events_path: str | None, spin_s: float, realtime: bool = False,
              window_s: float = WINDOW_S) -> None:
    """Build a proxy on a fresh loop, announce it, and serve until SIGINT/SIGTERM (then return:
    a stop is the proxy's normal end). ConfigError when the events file cannot be written.

    `realtime`: try SCHED_FIFO and then sleep precisely instead of spinning (falls back to the
    spin where the privilege is missing; the ready line says which). `window_s`: how long the
    loop naps after a delivery that will probably be answered at once (`loop.py`).
    """
    reduce_timer_slack()
    rt = realtime and try_realtime()
    loop = proxy_loop(rt, spin_s, window_s)
    with ExitStack() as stack:
        events = None
        if events_path:
            try:
                # written by a thread of its own (gate.EventLog), started after try_realtime
                events = background_log(open(events_path, "a", encoding="utf-8"))
                stack.callback(events.close)
            except OSError as exc:
                raise ConfigError(f"--events: cannot write {events_path}: {exc}") from None
        proxy = build(loop, events)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: loop.stop())
        print(json.dumps({"event": "ready", **ready(proxy), "realtime": rt,
                          "pid": os.getpid()}), flush=True)
        loop.run()
        proxy.close()
        print(json.dumps({"event": "stopped", **proxy.stats, **loop.usage()}), flush=True)
    sys.stdout.flush()
