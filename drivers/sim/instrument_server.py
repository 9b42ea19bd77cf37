"""Start a simulated instrument (NDI on a pty or TCP, OpenIGTLink on TCP) watching a pose source.

Used by `hil-bench sim serve` (standing alone, or next to the simulated arm it watches) and by the
bench's device layer."""
from __future__ import annotations

import time
from typing import Any, Callable

from drivers.pose import Pose
from drivers.sim.tracker import TrackerModel, TrackerParams


def start_instrument_server(protocol: str, params: TrackerParams, transport: str,
                            source: Callable[[float], Pose | None],
                            clock: Callable[[], float] = time.monotonic,
                            host: str = "127.0.0.1", port: int = 0) -> Any:
    """Start a simulated instrument observing `source`; returns a server with `url`, `stop()`.
    OSError if it cannot bind."""
    from drivers.sim.byteserver import PtyServer, TcpServer
    from drivers.sim.ndi import NdiResponder

    def make() -> NdiResponder:
        return NdiResponder(TrackerModel(params, source, clock))
    if transport == "tcp":
        return TcpServer(make, host, port).start()
    return PtyServer(make).start()
