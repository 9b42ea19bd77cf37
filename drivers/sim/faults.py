"""Fault injection for simulators: tell a simulated device to misbehave like broken hardware.

A fault plan is a list of faults, each becoming active after a number of move commands (or a time
since the simulator started) for a duration (forever by default). Kinds:

- ``silent``: stop answering (requests are held, no reply is sent),
- ``late``: answer every request `delay` seconds late,
- ``exception``: answer with Modbus exception `code` (default 4, server device failure),
- ``corrupt``: send replies with damaged bytes (a broken MBAP header on TCP, a bad CRC on RTU),
- ``drop``: close the client's connection,
- ``protective_stop``: the arm halts and reports a fault with fault code `code` (default 3),
- ``at_error`` (modems): every command after ``AT`` / ``ATE0`` / ``ATI`` answers ``ERROR`` (or
  ``+CME ERROR: code`` after ``AT+CMEE=1``); ``silent`` also applies to modems.

For a modem, `after_moves: N` counts AT commands instead of move commands.

Lab files carry them in the robot's ``simulator:`` section, e.g.
``faults: [{kind: silent, after_moves: 3}]``. Times in seconds.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.config import Section

KINDS = ("silent", "late", "exception", "corrupt", "drop", "protective_stop", "at_error")


@dataclass(frozen=True)
class Fault:
    """One scheduled misbehaviour."""

    kind: str
    after_moves: int = 0
    after_s: float | None = None
    duration_s: float | None = None
    delay_s: float = 1.0
    code: int | None = None

    def start(self, moves_at: dict[int, float], t_start: float) -> float | None:
        """When this fault starts (simulator clock, s), or None if not yet triggered."""
        if self.after_s is not None:
            return t_start + self.after_s
        if self.after_moves == 0:
            return t_start
        return moves_at.get(self.after_moves)


class FaultPlan:
    """The faults of one simulator and the bookkeeping to know which are active."""

    def __init__(self, faults: list[Fault], t_start: float) -> None:
        self.faults = faults
        self.t_start = t_start
        self.moves = 0
        self._moves_at: dict[int, float] = {}
        self.fired: set[int] = set()

    def note_move(self, now: float) -> None:
        """Count a received move command (faults `after_moves: N` start after the Nth)."""
        self.moves += 1
        self._moves_at[self.moves] = now

    def active(self, now: float) -> list[Fault]:
        """Faults in force at `now`."""
        out = []
        for f in self.faults:
            t0 = f.start(self._moves_at, self.t_start)
            if t0 is None or now < t0:
                continue
            if f.duration_s is not None and now >= t0 + f.duration_s:
                continue
            out.append(f)
        return out

    def first(self, now: float, kind: str) -> Fault | None:
        for f in self.active(now):
            if f.kind == kind:
                return f
        return None

    def once(self, now: float, kind: str) -> Fault | None:
        """Like `first`, but each fault is returned only the first time (one-shot effects)."""
        for i, f in enumerate(self.faults):
            if f.kind == kind and i not in self.fired and f in self.active(now):
                self.fired.add(i)
                return f
        return None


def faults_from_list(items: list, section: Section, key: str = "faults") -> list[Fault]:
    """Parse the `faults:` list of a simulator section. ConfigError names file, line, index."""
    out = []
    for i, item in enumerate(items):
        s = Section(item, section.source, f"{section.key_path(key)}[{i}]",
                    getattr(items, "item_lines", [section.line] * len(items))[i])
        f = Fault(
            kind=s.get("kind", str, choices=KINDS),
            after_moves=s.get("after_moves", int, 0),
            after_s=s.quantity("after", "s", None, min=0.0),
            duration_s=s.quantity("duration", "s", None, min=0.0),
            delay_s=s.quantity("delay", "s", 1.0, min=0.0),
            code=s.get("code", int, None),
        )
        s.done()
        if f.after_moves < 0:
            raise s.error("after_moves", "must be >= 0")
        if f.code is not None and not 1 <= f.code <= 255:
            raise s.error("code", "must be 1..255")
        out.append(f)
    return out


def faults_from_section(section: Section) -> list[Fault]:
    """The faults listed under `faults:` of a simulator section (empty if none)."""
    items = section.sequence("faults", [])
    return faults_from_list(items, section)
