"""An observer that keeps what the report's plots need from a run's events: every injected network
delay (`"network"` events from `bench.impair`) and every modem link sample (`"link"` events).
Times are seconds on the run's clock; lost messages have delay None."""
from __future__ import annotations

from typing import Any

from bench.observer import RunObserver


class PlotData(RunObserver):
    """Collects [t_s, direction, delay_ms|None] delays and link-sample dicts (with t_s)."""

    def __init__(self, max_items: int = 20000) -> None:
        self.delays: list[list[Any]] = []
        self.link: list[dict[str, Any]] = []
        self.max_items = max_items       # bounded memory on long runs (later samples dropped)

    def on_event(self, t_ns: int, kind: str, detail: dict[str, Any]) -> None:
        if kind == "network" and len(self.delays) < self.max_items:
            self.delays.append([t_ns / 1e9, detail.get("dir"),
                                None if detail.get("lost") else detail.get("delay_ms")])
        elif kind == "link" and len(self.link) < self.max_items:
            self.link.append({"t_s": t_ns / 1e9, **detail})
