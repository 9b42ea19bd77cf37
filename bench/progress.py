"""Progress for long runs: one redrawn status line on a terminal, plain lines otherwise.

`Progress.update(done, total, note)` shows done/total, the elapsed time and an estimate of the
time left (from the mean time per step so far). When the stream is not a TTY (CI logs, pipes) each
update is a separate line, at most one every `min_interval_s` plus the last one, so logs stay short.

`TimeProgress` is the same display as a run observer, for work whose length is known in session
time (replays, streams, follow recordings): it counts the seconds of the clock the observer is
told about (virtual or real) against the total.
"""
from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from bench.observer import RunObserver
from drivers.pose import Pose
from drivers.robot import ArmStatus


class Progress:
    """Progress display on `stream` (stderr by default); quiet=True shows nothing."""

    def __init__(self, label: str, stream: TextIO | None = None, quiet: bool = False,
                 min_interval_s: float = 1.0, width: int = 0, fmt: str = "",
                 unit: str = "") -> None:
        self.label = label
        self.width = width              # right-align the done count (stable columns in logs)
        self.fmt = fmt                  # format of done and total (".1f" for seconds)
        self.unit = unit
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.t0 = time.monotonic()
        self.min_interval_s = min_interval_s
        self._last = float("-inf")
        self._reached = False
        self._drawn = False

    def line(self, done: float, total: float, note: str = "") -> str:
        """The text of one update: 'label 3/10 (30%)  elapsed 4.2 s  left ~9.8 s  note'."""
        elapsed = time.monotonic() - self.t0
        pct = 100.0 * done / total if total else 100.0
        # no estimate from the first percent: one slow start would predict hours
        known = done > 0 and (not total or done / total >= 0.01)
        eta = f"left ~{elapsed / done * (total - done):.1f} s" if known else "left ?"
        unit = f" {self.unit}" if self.unit else ""
        return (f"{self.label} {done:>{self.width}{self.fmt}}/{total:{self.fmt}}{unit} ({pct:.0f}%)"
                f"  elapsed {elapsed:.1f} s  {eta}" + (f"  {note}" if note else ""))

    def update(self, done: float, total: float, note: str = "") -> None:
        if self.quiet:
            return
        text = self.line(done, total, note)
        if self.tty:
            self.stream.write("\r\x1b[2K" + text)
            self._drawn = True
        else:
            now = time.monotonic()
            reached = done >= total and not self._reached   # the first update at the total
            if now - self._last < self.min_interval_s and not reached:
                return
            self._reached = self._reached or done >= total
            self._last = now
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the redrawn line (terminal only)."""
        if self.tty and self._drawn and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()
        self._drawn = False


class TimeProgress(RunObserver):
    """Progress of observed work: by session seconds (`total_s`, streams and follow recordings,
    whose length is known in time) or by commands (`total_commands`, replays, whose timing
    stretches with every wait for an arrival).

    Updated on every command, pose and status it is told about (cheap: at most 10 updates per
    observed second reach the display, which rate-limits itself further off a terminal),
    counting from `on_start` or the first call; `finish()` draws the last state and ends the line.
    Units: seconds of the observed clock (virtual or real). A total <= 0 shows no percentage.
    """

    def __init__(self, label: str, total_s: float = 0.0, stream: TextIO | None = None,
                 quiet: bool = False, what: str = "commands",
                 total_commands: int = 0) -> None:
        by_commands = total_commands > 0
        self.bar = Progress(label, stream=stream, quiet=quiet, fmt="" if by_commands else ".1f",
                            unit="commands" if by_commands else "s")
        self.total = float(total_commands) if by_commands else total_s
        self.by_commands = by_commands
        self.what = what
        self.count = 0
        self._t0: int | None = None
        self._last_ns = 0
        self._finished = False

    def _tick(self, t_ns: int, force: bool = False) -> None:
        if self._t0 is None:
            self._t0 = t_ns
        if t_ns - self._last_ns < 100_000_000 and not force:   # <= 10 per observed second
            return
        self._last_ns = t_ns
        if force:
            self.bar._last = float("-inf")      # the closing line is always shown
        elapsed_s = (t_ns - self._t0) / 1e9
        if self.by_commands:
            self.bar.update(min(self.count, int(self.total)), int(self.total),
                            f"session time {elapsed_s:.1f} s")
        else:
            done = min(elapsed_s, self.total) if self.total > 0 else elapsed_s
            self.bar.update(done, self.total if self.total > 0 else done,
                            f"{self.count} {self.what}")

    def on_start(self, t_ns: int, meta: dict[str, Any]) -> None:
        self._t0 = t_ns
        self.bar.t0 = time.monotonic()          # elapsed counts from the start, not the set-up

    def on_command(self, t_ns: int, seq: int, label: str, target: Pose, speed_mm_s: float) -> None:
        self.count += 1
        self._tick(t_ns)

    def on_pose(self, t_ns: int, pose: Pose, label: str = "") -> None:
        if self.what == "samples":
            self.count += 1
        self._tick(t_ns)

    def on_status(self, t_ns: int, status: ArmStatus) -> None:
        self._tick(t_ns)

    def on_end(self, t_ns: int, verdict: str, error: str | None) -> None:
        self.finish(t_ns)

    def finish(self, t_ns: int | None = None) -> None:
        """Draw the state at `t_ns` (default: the last time seen) and end the line."""
        if self._t0 is not None and not self._finished:
            self._tick(self._last_ns if t_ns is None else t_ns, force=True)
        self._finished = True
        self.bar.close()
