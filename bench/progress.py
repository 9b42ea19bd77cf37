"""Progress for long runs: one redrawn status line on a terminal, plain lines otherwise.

`Progress.update(done, total, note)` shows done/total, the elapsed time and an estimate of the
time left (from the mean time per step so far). When the stream is not a TTY (CI logs, pipes) each
update is a separate line, at most one every `min_interval_s` plus the last one, so logs stay short.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Progress display on `stream` (stderr by default); quiet=True shows nothing."""

    def __init__(self, label: str, stream: TextIO | None = None, quiet: bool = False,
                 min_interval_s: float = 1.0, width: int = 0) -> None:
        self.label = label
        self.width = width              # right-align the done count (stable columns in logs)
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.monotonic()
        self.min_interval_s = min_interval_s
        self._last = float("-inf")
        self._drawn = False

    def line(self, done: int, total: int, note: str = "") -> str:
        """The text of one update: 'label 3/10 (30%)  elapsed 4.2 s  left ~9.8 s  note'."""
        elapsed = time.monotonic() - self.t0
        left = elapsed / done * (total - done) if done else float("nan")
        pct = 100.0 * done / total if total else 100.0
        eta = f"left ~{left:.1f} s" if done else "left ?"
        return (f"{self.label} {done:>{self.width}}/{total} ({pct:.0f}%)  elapsed {elapsed:.1f} s  {eta}"
                + (f"  {note}" if note else ""))

    def update(self, done: int, total: int, note: str = "") -> None:
        if self.quiet:
            return
        text = self.line(done, total, note)
        if self.tty:
            self.stream.write("\r\x1b[2K" + text)
            self._drawn = True
        else:
            now = time.monotonic()
            if now - self._last < self.min_interval_s and done < total:
                return
            self._last = now
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the redrawn line (terminal only)."""
        if self.tty and self._drawn and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = False
