"""Delay and capacity traces: CICV5G files, plain CSV `t_ms,delay_ms`, mahimahi link traces.

- CICV5G: whitespace columns with one header line, read by header name (`pub_time(ms)` and
  `delay(ms)`, the round-trip time); extra columns, named or not, are ignored.
- CSV: a header naming `t_ms` and `delay_ms` (any order, more columns allowed), `#` comments; the
  delay is a round-trip time unless the profile says `measure: one-way`.
- mahimahi: one integer millisecond per line, each a 1500-byte delivery opportunity (`rate.py`).

`TraceDelay` replays a delay trace in time: a message sent t seconds after the link started gets
the row in force at (start + t) modulo the trace's duration, times the direction's share of the
round trip (uplink `split`, downlink 1 - split; default 0.5 each way).
Failure mode: ConfigError ``<file>:<line>: <problem>`` for unreadable or malformed files.
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from drivers import cicv5g
from drivers.errors import ConfigError

CICV5G_TIME, CICV5G_DELAY = cicv5g.TIME, cicv5g.DELAY


@dataclass(frozen=True)
class Trace:
    """A loaded trace. Delay traces have `t_ms` and `delay_ms`; mahimahi ones `opportunities_ms`."""

    source: str
    format: str
    t_ms: np.ndarray
    delay_ms: np.ndarray
    opportunities_ms: tuple[int, ...] = ()

    @property
    def rows(self) -> int:
        return len(self.opportunities_ms) if self.format == "mahimahi" else len(self.delay_ms)

    def info(self) -> dict:
        """Summary for `hil-bench trace info`: rows, duration and RTT quantiles in ms."""
        out: dict = {"file": self.source, "format": self.format, "rows": self.rows}
        if self.format == "mahimahi":
            period = self.opportunities_ms[-1]
            out["period_ms"] = period
            out["rate_mbit_s"] = round(len(self.opportunities_ms) * 1500 * 8 / period / 1000, 3)
            out["rtt_ms"] = None
            return out
        d = self.delay_ms
        out["duration_s"] = round(float(self.t_ms[-1] - self.t_ms[0]) / 1000.0, 3)
        out["rtt_ms"] = {"median": float(np.median(d)), "p99": float(np.percentile(d, 99)),
                         "max": float(d.max()), "mean": round(float(d.mean()), 3)}
        return out


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{path}: trace file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read trace: {exc}") from None


def _numbered(lines: list[str]) -> list[tuple[int, str]]:
    return [(i, ln.strip()) for i, ln in enumerate(lines, 1)
            if ln.strip() and not ln.lstrip().startswith("#")]


def _columns(path: Path, rows: list[tuple[int, str]], header: list[str], time_col: str,
             delay_col: str, split: Callable[[str], list[str]]) -> Trace:
    for col in (time_col, delay_col):
        if col not in header:
            raise ConfigError(f"{path}:{rows[0][0]}: header has no column {col!r} "
                              f"(columns: {' '.join(header)})")
    ti, di = header.index(time_col), header.index(delay_col)
    t, d = [], []
    for lineno, text in rows[1:]:
        cells = split(text)
        try:
            t.append(float(cells[ti]))
            d.append(float(cells[di]))
        except (IndexError, ValueError):
            raise ConfigError(f"{path}:{lineno}: expected numbers in columns {time_col!r} and "
                              f"{delay_col!r}, got {text[:60]!r}") from None
        if not (math.isfinite(t[-1]) and math.isfinite(d[-1])):
            raise ConfigError(f"{path}:{lineno}: time and delay must be finite numbers, "
                              f"got {text[:60]!r}")
        if d[-1] < 0:
            raise ConfigError(f"{path}:{lineno}: negative delay {d[-1]}")
        if len(t) > 1 and t[-1] < t[-2]:
            raise ConfigError(f"{path}:{lineno}: time goes backwards ({t[-1]} after {t[-2]})")
    if not t:
        raise ConfigError(f"{path}: no data rows")
    return Trace(str(path), "", np.array(t), np.array(d))


def read_cicv5g(path: Path) -> Trace:
    table = cicv5g.read_table(path)          # the one reader of the CICV5G layout
    rows = [(table.header_line, "")] + table.rows
    tr = _columns(path, rows, table.header, CICV5G_TIME, CICV5G_DELAY, str.split)
    return Trace(tr.source, "cicv5g", tr.t_ms, tr.delay_ms)


def read_csv(path: Path) -> Trace:
    rows = _numbered(_lines(path))
    if not rows:
        raise ConfigError(f"{path}: empty trace")
    header = [c.strip() for c in rows[0][1].split(",")]
    tr = _columns(path, rows, header, "t_ms", "delay_ms",
                  lambda s: [c.strip() for c in s.split(",")])
    return Trace(tr.source, "csv", tr.t_ms, tr.delay_ms)


def read_mahimahi(path: Path) -> Trace:
    ops: list[int] = []
    for lineno, text in _numbered(_lines(path)):
        try:
            v = int(text)
        except ValueError:
            raise ConfigError(f"{path}:{lineno}: expected one integer millisecond, "
                              f"got {text[:40]!r}") from None
        if v < 0 or (ops and v < ops[-1]):
            raise ConfigError(f"{path}:{lineno}: timestamps must be >= 0 and non-decreasing")
        ops.append(v)
    if not ops or ops[-1] <= 0:
        raise ConfigError(f"{path}: a mahimahi trace needs lines and a last timestamp > 0")
    empty = np.zeros(0)
    return Trace(str(path), "mahimahi", empty, empty, tuple(ops))


#: trace formats by name
READERS: dict[str, Callable[[Path], Trace]] = {
    "cicv5g": read_cicv5g, "csv": read_csv, "mahimahi": read_mahimahi,
}


def detect_format(path: Path) -> str:
    """Guess the format from the first data line. Raises ConfigError when nothing fits."""
    rows = _numbered(_lines(path))
    if not rows:
        raise ConfigError(f"{path}: empty trace")
    first = rows[0][1]
    if CICV5G_DELAY in first.split():
        return "cicv5g"
    if "," in first:
        return "csv"
    if first.isdigit():
        return "mahimahi"
    raise ConfigError(f"{path}:{rows[0][0]}: cannot tell the trace format (expected a CICV5G "
                      f"header with {CICV5G_DELAY!r}, a CSV header 't_ms,delay_ms', or integers)")


def load_trace(path: str | Path, fmt: str = "auto") -> Trace:
    """Load a trace file in `fmt` (auto, cicv5g, csv, mahimahi). Raises ConfigError."""
    p = Path(path)
    if fmt == "auto":
        fmt = detect_format(p)
    if fmt not in READERS:
        raise ConfigError(f"unknown trace format {fmt!r} (known: auto, {', '.join(READERS)})")
    return READERS[fmt](p)


class TraceDelay:
    """One-way delays (seconds) from a delay trace, replayed in time, for one direction."""

    def __init__(self, trace: Trace, share: float, start_s: float = 0.0) -> None:
        if trace.format == "mahimahi":
            raise ValueError(f"{trace.source}: a mahimahi trace gives capacity, not delay")
        t = (trace.t_ms - trace.t_ms[0]) / 1000.0
        step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
        self.t_s = t.tolist()
        self.delay_s = (trace.delay_ms * share / 1000.0).tolist()
        self.duration_s = float(t[-1]) + step
        self.start_s = start_s

    def at(self, t: float) -> float:
        """The one-way delay for a message sent `t` seconds after the link started."""
        x = (self.start_s + t) % self.duration_s
        i = bisect.bisect_right(self.t_s, x) - 1
        return self.delay_s[max(i, 0)]
