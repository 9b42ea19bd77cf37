"""`BenchModem`: the `Modem` a test gets from the `modem` fixture.

Every `read_link` is written to the test's traffic log (one decoded line: RAT, state, cell, signal)
and told to the observer as a "link" event (a session recorder files it under /modem/link); errors
are logged before they propagate. `connect`/`close` do nothing: the bench owns the connection.
"""
from __future__ import annotations

import time
from typing import Any

from bench.observer import RunObserver
from drivers.errors import BenchError
from drivers.modem.base import Modem
from drivers.modem.link import LinkState


class BenchModem(Modem):
    """Observed view of the session's connected modem, for one test."""

    def __init__(self, inner: Modem, observer: RunObserver) -> None:
        self.inner = inner
        self.name = inner.name
        self.observer = observer

    def connect(self) -> None:
        """The bench keeps the session's connection open; nothing to do."""

    def close(self) -> None:
        """The bench closes the connection at the end of the session; nothing to do."""

    def identify(self) -> dict[str, str]:
        return self.inner.identify()

    def set_wire_tap(self, tap: Any) -> bool:
        return self.inner.set_wire_tap(tap)

    def read_link(self) -> LinkState:
        try:
            link = self.inner.read_link()
        except BenchError as exc:
            self.observer.on_event(time.monotonic_ns(), "error",
                                   {"device": "modem", "call": "read_link",
                                    "error": type(exc).__name__, "message": str(exc)})
            raise
        self.observer.on_event(time.monotonic_ns(), "link", link.as_dict())
        return link
