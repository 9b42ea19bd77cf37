"""`BenchInstrument`: the `Instrument` a test gets from the `instrument` fixture.

Every `read` is written to the test's traffic log (one line per tool: visible, position mm) and
told to the observer as "instrument" events (a session recorder files them under
/instrument/measurement); errors are logged before they propagate. `connect`/`close` do nothing:
the bench owns the connection.
"""
from __future__ import annotations

import time
from typing import Callable

from bench.observer import RunObserver
from drivers.errors import BenchError
from drivers.instrument.base import Instrument, ToolMeasurement


class BenchInstrument(Instrument):
    """Observed view of the session's connected instrument, for one test."""

    def __init__(self, inner: Instrument, observer: RunObserver) -> None:
        self.inner = inner
        self.name = inner.name
        self.kind = inner.kind
        self.observer = observer

    def connect(self) -> None:
        """The bench keeps the session's connection open; nothing to do."""

    def close(self) -> None:
        """The bench closes the connection at the end of the session; nothing to do."""

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        return self.inner.set_wire_tap(tap)

    def read(self) -> list[ToolMeasurement]:
        try:
            frames = self.inner.read()
        except BenchError as exc:
            self.observer.on_event(time.monotonic_ns(), "error",
                                   {"device": "instrument", "call": "read",
                                    "error": type(exc).__name__, "message": str(exc)})
            raise
        for f in frames:
            self.observer.on_event(f.t_ns, "instrument", f.as_dict())
        return frames
