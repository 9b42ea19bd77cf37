"""Link profiles: what a simulated modem's link looks like over time (seconds since it started).

`FixedProfile`: one LinkState, optionally with timed steps (synthetic changes such as a handover,
clearly not measured). `TraceProfile`: the rows of a real CICV5G drive-test trace (serving cell id,
SINR and RSRP at about 20 Hz; see fixtures/traces/README.md for the data and its CC BY 4.0
attribution), held row by row: at time t the modem reports the last row at or before t.
Failure mode: ConfigError naming the trace file and line for unreadable rows or missing columns.
"""
from __future__ import annotations

import abc
import bisect
from dataclasses import dataclass, replace
from pathlib import Path

from drivers import cicv5g
from drivers.errors import ConfigError
from drivers.modem.link import LinkState, ServingCell

TRACE_COLUMNS = {"time": cicv5g.TIME, "cell": cicv5g.CELL, "sinr": cicv5g.SINR,
                 "rsrp": cicv5g.RSRP}


class LinkProfile(abc.ABC):
    """A LinkState as a function of time."""

    @abc.abstractmethod
    def state_at(self, t_s: float) -> LinkState:
        """The link at `t_s` seconds after the simulated modem started (t < 0 -> t = 0)."""

    def duration_s(self) -> float:
        """How long the profile has distinct content (0 for a constant one)."""
        return 0.0


@dataclass(frozen=True)
class Step:
    """From `at_s` on, the profile reports `link`."""

    at_s: float
    link: LinkState


class FixedProfile(LinkProfile):
    """A constant LinkState, or a list of steps (sorted by time; the first applies from 0)."""

    def __init__(self, link: LinkState, steps: list[Step] | None = None) -> None:
        self.steps = sorted([Step(0.0, link), *(steps or [])], key=lambda s: s.at_s)
        self._times = [s.at_s for s in self.steps]

    def state_at(self, t_s: float) -> LinkState:
        i = bisect.bisect_right(self._times, max(0.0, t_s)) - 1
        return self.steps[max(0, i)].link

    def duration_s(self) -> float:
        return self._times[-1]


@dataclass(frozen=True)
class TraceRow:
    t_s: float
    cell_id: str
    sinr_db: float
    rsrp_dbm: float


def read_cicv5g(path: str | Path) -> list[TraceRow]:
    """Rows of a CICV5G trace file (`drivers.cicv5g`), times relative to its first row, in
    seconds. ConfigError naming the file and line for anything unreadable."""
    table = cicv5g.read_table(path)
    p = table.source
    cols_at = table.index(list(TRACE_COLUMNS.values()))
    idx = {key: cols_at[name] for key, name in TRACE_COLUMNS.items()}
    rows: list[TraceRow] = []
    t0: float | None = None
    for n, line in table.rows:
        cols = line.split()
        try:
            t_ms = float(cols[idx["time"]])
            cell = cols[idx["cell"]].upper()
            int(cell, 16)
            row = (float(cols[idx["sinr"]]), float(cols[idx["rsrp"]]))
        except (IndexError, ValueError):
            raise ConfigError(f"{p}:{n}: unreadable trace row: {line[:80]!r}") from None
        t0 = t_ms if t0 is None else t0
        if rows and (t_ms - t0) / 1000.0 < rows[-1].t_s:
            raise ConfigError(f"{p}:{n}: time goes backwards")
        rows.append(TraceRow((t_ms - t0) / 1000.0, cell, row[0], row[1]))
    if not rows:
        raise ConfigError(f"{p}: trace has no rows")
    return rows


class TraceProfile(LinkProfile):
    """A modem whose serving cell, SINR and RSRP follow a CICV5G trace.

    The trace has no RAT, PCI, band or RSRQ: those come from `template` (a LinkState whose single
    cell supplies the constant fields; None stays None). `loop` replays the trace from the start
    after its last row; otherwise the last row holds. `start_s` skips into the trace.
    """

    def __init__(self, rows: list[TraceRow], template: LinkState, *, loop: bool = False,
                 start_s: float = 0.0, source: str = "") -> None:
        if not template.cells:
            raise ConfigError(f"{source}: a trace profile needs a cell template")
        self.rows = rows
        self.template = template
        self.loop = loop
        self.start_s = start_s
        self.source = source
        self._times = [r.t_s for r in rows]

    def row_at(self, t_s: float) -> TraceRow:
        t = max(0.0, t_s) + self.start_s
        end = self._times[-1]
        if self.loop and end > 0:
            t = t % (end + 0.05)          # one 20 Hz period after the last row, then restart
        i = bisect.bisect_right(self._times, t) - 1
        return self.rows[max(0, i)]

    def state_at(self, t_s: float) -> LinkState:
        row = self.row_at(t_s)
        cells = list(self.template.cells)
        cells[-1] = replace(cells[-1], cell_id=row.cell_id, sinr_db=row.sinr_db,
                            rsrp_dbm=row.rsrp_dbm)
        return replace(self.template, cells=tuple(cells))

    def duration_s(self) -> float:
        return self._times[-1] - self.start_s

    def cell_changes(self, t_from_s: float, t_to_s: float) -> list[tuple[float, str, str]]:
        """(time s since start, old cell, new cell) for each change of serving cell in the
        window, in profile time (without loop wrap-around)."""
        out = []
        prev = self.row_at(t_from_s).cell_id
        for r in self.rows:
            t = r.t_s - self.start_s
            if t_from_s < t <= t_to_s and r.cell_id != prev:
                out.append((t, prev, r.cell_id))
            if t_from_s < t <= t_to_s:
                prev = r.cell_id
        return out


def template_cell(rat: str) -> str:
    """The cell RAT for an overall RAT (the NR leg for NSA is added after the LTE anchor)."""
    return "LTE" if rat == "LTE" else "NR5G"


def default_anchor() -> ServingCell:
    """The LTE anchor an NSA template uses when the lab gives none (illustrative values)."""
    return ServingCell(rat="LTE", mcc="460", mnc="00", cell_id="1A2B3C4", pci=101, tac="1F4",
                       arfcn=1850, band="B3", rsrp_dbm=-95.0, rsrq_db=-10.0, sinr_db=10.0)
