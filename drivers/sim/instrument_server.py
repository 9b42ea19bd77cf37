"""Start a simulated instrument (NDI on a pty or TCP, OpenIGTLink on TCP) watching a pose source.

Used by `hil-bench sim serve` (standing alone, or next to the simulated arm it watches) and by the
bench's device layer."""
from __future__ import annotations

import asyncio
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
    if protocol == "openigtlink":
        from drivers.sim.igtl import IgtlServer
        return IgtlServer(TrackerModel(params, source, clock), host, port).start()
    from drivers.sim.byteserver import PtyServer, TcpServer
    from drivers.sim.ndi import NdiResponder

    def make() -> NdiResponder:
        return NdiResponder(TrackerModel(params, source, clock))
    if transport == "tcp":
        return TcpServer(make, host, port).start()
    return PtyServer(make).start()


def true_pose_on_loop(loop: asyncio.AbstractEventLoop, arm: Any,
                      timeout_s: float = 1.0) -> Callable[[float], Pose | None]:
    """A source for an instrument served beside a simulated arm that an asyncio server drives:
    `arm.true_pose(now)` is evaluated on the arm's own loop thread (SimArm is not thread-safe)."""
    def source(now: float) -> Pose | None:
        try:
            if asyncio.get_running_loop() is loop:
                return arm.true_pose(now)
        except RuntimeError:
            pass                                    # no loop in this thread: hop over

        async def read() -> Pose:
            return arm.true_pose(now)
        try:
            return asyncio.run_coroutine_threadsafe(read(), loop).result(timeout_s)
        except Exception:  # noqa: BLE001 - the arm's loop is gone: nothing to see
            return None
    return source
