"""GRBL 1.1 line protocol: parsing status reports and replies (no I/O here).

Facts from GRBL's interface document (gnea/grbl doc/markdown/interface.md): every line sent gets
``ok`` or ``error:N``; push messages ``ALARM:N`` and ``[MSG:...]``; the real-time ``?`` (no newline)
is answered with ``<State|MPos:x,y,z|...>`` where the position is ``MPos`` or ``WPos`` (mm),
``WCO:`` (work coordinate offset) appears only every 10-30 reports, ``WPos = MPos - WCO``, and
further fields (``Bf:``, ``Ln:``, ``F:``/``FS:``, ``Pn:``, ``Ov:``, ``A:``) may come in any order.
States: Idle, Run, Hold[:n], Jog, Alarm, Door[:n], Check, Home, Sleep.
Failure mode: ProtocolError for a line that is not a well-formed report.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.errors import ProtocolError

STATES = ("Idle", "Run", "Hold", "Jog", "Alarm", "Door", "Check", "Home", "Sleep")
#: a few error codes' meanings, for messages (GRBL 1.1 error table)
ERRORS = {1: "expected command letter", 2: "bad number format", 3: "invalid $ statement",
          9: "G-code locked out during alarm or jog", 15: "travel exceeded (soft limit)",
          20: "unsupported or invalid g-code command", 22: "feed rate has not yet been set",
          24: "two G-code commands that both require XYZ axis words"}
ALARMS = {1: "hard limit triggered", 2: "soft limit: target outside machine travel",
          3: "reset while in motion (position may be lost)", 4: "probe fail", 5: "probe fail",
          6: "homing fail: reset", 7: "homing fail: door", 8: "homing fail: pull off",
          9: "homing fail: no switch"}


@dataclass(frozen=True, slots=True)
class StatusReport:
    """One parsed ``<...>`` report. Positions in mm; `wco` None when the report had none."""

    state: str
    substate: int | None
    mpos: tuple[float, float, float] | None
    wpos: tuple[float, float, float] | None
    wco: tuple[float, float, float] | None
    fields: dict[str, str]


def _xyz(text: str, line: str) -> tuple[float, float, float]:
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ProtocolError(f"GRBL status {line!r}: bad number in {text!r}") from None
    if len(vals) < 3:
        raise ProtocolError(f"GRBL status {line!r}: need x,y,z in {text!r}")
    return vals[0], vals[1], vals[2]


def parse_status(line: str) -> StatusReport:
    """Parse ``<Idle|MPos:0.000,-10.000,5.000|FS:0,0>``. Raises ProtocolError."""
    line = line.strip()
    if not (line.startswith("<") and line.endswith(">")):
        raise ProtocolError(f"GRBL status {line!r}: not a <...> report")
    parts = line[1:-1].split("|")
    state, _, sub = parts[0].partition(":")
    if state not in STATES:
        raise ProtocolError(f"GRBL status {line!r}: unknown state {state!r}")
    fields: dict[str, str] = {}
    for p in parts[1:]:
        key, sep, value = p.partition(":")
        if not sep:
            raise ProtocolError(f"GRBL status {line!r}: field {p!r} has no ':'")
        fields[key] = value
    mpos = _xyz(fields["MPos"], line) if "MPos" in fields else None
    wpos = _xyz(fields["WPos"], line) if "WPos" in fields else None
    if mpos is None and wpos is None:
        raise ProtocolError(f"GRBL status {line!r}: neither MPos nor WPos")
    wco = _xyz(fields["WCO"], line) if "WCO" in fields else None
    return StatusReport(state, int(sub) if sub.isdigit() else None, mpos, wpos, wco, fields)


def work_position(report: StatusReport, wco: tuple[float, float, float] | None
                  ) -> tuple[float, float, float]:
    """Work coordinates (what G90 moves address): WPos, or MPos - WCO with the report's WCO or
    the last one seen (`wco`; 0 when GRBL never sent one)."""
    if report.wpos is not None:
        return report.wpos
    assert report.mpos is not None
    off = report.wco or wco or (0.0, 0.0, 0.0)
    return tuple(m - o for m, o in zip(report.mpos, off))  # type: ignore[return-value]


def parse_code(line: str, prefix: str) -> int | None:
    """N of ``error:N`` / ``ALARM:N`` lines (None if `line` is not one)."""
    if not line.startswith(prefix):
        return None
    try:
        return int(line[len(prefix):])
    except ValueError:
        raise ProtocolError(f"GRBL: bad {prefix} line {line!r}") from None


def gcode_move(x: float, y: float, z: float, feed_mm_min: float) -> str:
    """An absolute linear move line in mm (G90 G21 G1), 3 decimals (GRBL's own resolution)."""
    return f"G90 G21 G1 X{x:.3f} Y{y:.3f} Z{z:.3f} F{feed_mm_min:.1f}"
