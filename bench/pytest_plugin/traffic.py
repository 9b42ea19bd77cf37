"""Per-test traffic logs: every device call and every raw frame, timestamped, in one text file.

Line format (one event per line, written and flushed as it happens so a crash keeps it):

    2026-11-28T09:10:11.123456Z  +0.001234 robot  tx   00 01 00 00 00 06 01 03 00 14 00 02
    2026-11-28T09:10:11.125010Z  +0.002788 robot  rx   00 01 00 00 00 07 01 03 04 00 02 00 05
    2026-11-28T09:10:11.125100Z  +0.002878 robot  status arrived seq=5 fault=0

UTC wall time (microseconds), then seconds since the log was opened (monotonic clock), the
device, and the event: `tx`/`rx` with the bytes in hex for binary protocols (Modbus) or quoted
text for AT ports (``"AT+QENG="servingcell"\r"``), or a decoded call
(move, pose, stat, stop, error), or a network message's fate (device `net`, `up`/`down`,
the bytes or call it carried, the injected delay or the loss and its cause, dated when the
message was sent). Lines are in the order they were written; a proxy's events arrive after the
call they belong to, so sort by the second column to interleave them exactly.
"""
from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

from bench.observer import RunObserver
from drivers.modem.link import LinkState
from drivers.pose import Pose
from drivers.robot import ArmStatus


def log_name(nodeid: str) -> str:
    """A file name for a test id: path separators and odd characters become `_`."""
    name = re.sub(r"[^A-Za-z0-9_.\-\[\]]+", "_", nodeid.replace("::", "__")).strip("_")
    return (name[:180] or "test") + ".log"


def _fmt_pose(p: Pose) -> str:
    return (f"x={p.x:.3f} y={p.y:.3f} z={p.z:.3f} mm a={p.a:.3f} b={p.b:.3f} "
            f"c={p.c:.3f} deg")


class TrafficLog(RunObserver):
    """One test's traffic log file. Thread-safe; never raises from a hook once open."""

    def __init__(self, path: Path, title: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._f: TextIO | None = open(path, "w", encoding="utf-8")
        self._lock = threading.Lock()
        self._t0 = time.monotonic_ns()
        self.lines = 0
        self._f.write(f"# hil-bench traffic log: {title}\n"
                      f"# columns: UTC time, seconds since start, device, event\n")
        self._f.flush()

    def write(self, device: str, event: str, text: str = "", t_ns: int | None = None) -> None:
        """Append one line now. `t_ns` (CLOCK_MONOTONIC ns) dates an event that happened
        earlier (e.g. reported by a proxy process); by default the line is dated now."""
        now_mono = time.monotonic_ns()
        at = now_mono if t_ns is None else t_ns
        wall = datetime.fromtimestamp(time.time() - (now_mono - at) / 1e9, timezone.utc)
        rel = (at - self._t0) / 1e9
        line = (f"{wall.strftime('%Y-%m-%dT%H:%M:%S.%fZ')} {rel:+10.6f} {device:<6} {event:<4} "
                f"{text}").rstrip() + "\n"
        with self._lock:
            if self._f is None:
                return
            try:
                self._f.write(line)
                self._f.flush()
                self.lines += 1
            except (OSError, ValueError):
                pass

    def wire(self, device: str, text: bool = False) -> Callable[[str, bytes], None]:
        """A wire tap for a driver: raw frames as hex, or (`text`, for AT ports) as quoted
        ASCII with \\r and \\n shown."""
        def tap(direction: str, data: bytes) -> None:
            if text:
                shown = data.decode("ascii", errors="backslashreplace")
                self.write(device, direction, '"' + shown.replace("\r", "\\r")
                           .replace("\n", "\\n") + '"')
            else:
                self.write(device, direction, data.hex(" "))
        return tap

    def tail(self, n: int = 20) -> list[str]:
        """The last `n` lines written (for failure reports)."""
        try:
            return self.path.read_text(encoding="utf-8").splitlines()[-n:]
        except OSError:
            return []

    def close(self) -> None:
        with self._lock:
            if self._f is not None:
                self._f.close()
                self._f = None

    # -- RunObserver hooks (the robot's decoded calls) ---------------------------------------
    def on_command(self, t_ns: int, seq: int, label: str, target: Pose, speed_mm_s: float) -> None:
        self.write("robot", "move", f"seq={seq} {_fmt_pose(target)} speed={speed_mm_s:g} mm/s"
                   + (f" ({label})" if label else ""))

    def on_pose(self, t_ns: int, pose: Pose, label: str = "") -> None:
        self.write("robot", "pose", _fmt_pose(pose) + (f" ({label})" if label else ""))

    def on_status(self, t_ns: int, status: ArmStatus) -> None:
        self.write("robot", "stat", f"{status.state.value} seq={status.seq} "
                                    f"fault={status.fault_code}")

    def on_event(self, t_ns: int, kind: str, detail: dict[str, Any]) -> None:
        if kind == "network":       # one message's fate on the impaired link (bench/impair)
            fate = (f"lost ({detail.get('cause')})" if detail.get("lost")
                    else f"delay {detail.get('delay_ms')} ms")
            attempt = detail.get("attempt", 1)
            what = detail.get("call") or f"{detail.get('bytes', '?')} B"
            self.write("net", str(detail.get("dir", "?")), f"{what} {fate}"
                       + (f" (attempt {attempt})" if attempt != 1 else ""), t_ns=t_ns)
            return
        if kind == "link":          # a modem's link state (drivers.modem.LinkState.as_dict)
            self.write("modem", "link", LinkState.from_dict(detail).describe())
            return
        if kind == "instrument":    # one tool in one instrument frame (ToolMeasurement.as_dict)
            pos = detail.get("position_mm")
            seen = ("at " + ", ".join(f"{v:.3f}" for v in pos) + " mm") if pos else \
                f"not seen ({detail.get('status')})"
            self.write("instrument", str(detail.get("tool", "?")), seen)
            return
        detail = dict(detail)
        device = str(detail.pop("device", "bench"))
        self.write(device, kind, " ".join(f"{k}={v}" for k, v in detail.items()))
