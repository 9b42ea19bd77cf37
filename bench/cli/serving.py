"""Serving a threaded simulator from `hil-bench sim serve` until SIGINT/SIGTERM: the ready line,
the wait, the stop, and the closing ``{"event": "stopped"}`` line (the modem's AT simulator and
the instrument simulators; the Modbus servers run on asyncio and wait on their loop instead)."""
from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Protocol

from bench.cli.exitcodes import EXIT_PASS


class Stoppable(Protocol):
    def stop(self) -> None: ...


def serve_until_signalled(server: Stoppable, ready: str) -> int:
    """Print `ready` (one JSON line), block until SIGINT or SIGTERM, stop `server`, print
    ``{"event": "stopped"}``; returns exit code 0. The server is stopped even when the wait
    ends with an exception."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(ready, flush=True)
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
    print(json.dumps({"event": "stopped"}), flush=True)
    sys.stdout.flush()
    return EXIT_PASS
