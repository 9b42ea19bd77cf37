"""What a modem reports about its radio link: `LinkState` with a list of `ServingCell`.

Field names are part of the bench's public vocabulary (JSON keys, report columns): rat, state and
cells; each cell has rat, mcc, mnc, cell_id, pci, tac, arfcn, band, rsrp_dbm, rsrq_db, sinr_db.
Units: dBm for RSRP, dB for RSRQ and SINR. Anything the modem did not report is None.
cell_id and tac are upper-case hex strings without leading zeros (modules pad them differently:
the value identifies the cell), mcc/mnc strings (leading zeros matter: "01" is not "1").

`warnings` names each field the modem printed but that could not be used (the field is None; the
rest of the reading is kept), e.g. ``NR5G-NSA SINR: 180 is outside -25..45``. `notes` says which
assumptions a reading rests on, e.g. the LTE SINR encoding assumed for an unknown model. Neither
takes part in equality: two readings of the same link are equal whatever was noted on the way.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: overall radio access technologies a LinkState can report ("" = none / not camped)
RATS = ("LTE", "NR5G-SA", "NR5G-NSA", "")
#: per-cell RATs
CELL_RATS = ("LTE", "NR5G")
#: link states, from worst to best
STATES = ("searching", "limited", "idle", "connected")


@dataclass(frozen=True, slots=True)
class ServingCell:
    """One serving cell (the LTE anchor and the NR leg of EN-DC are two cells)."""

    rat: str
    mcc: str | None = None
    mnc: str | None = None
    cell_id: str | None = None
    pci: int | None = None
    tac: str | None = None
    arfcn: int | None = None
    band: str | None = None
    rsrp_dbm: float | None = None
    rsrq_db: float | None = None
    sinr_db: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ServingCell":
        """Inverse of as_dict; unknown keys are ignored, missing ones are None."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True, slots=True)
class LinkState:
    """The modem's view of its link: overall RAT, state, and the serving cells (primary first)."""

    rat: str = ""
    state: str = "searching"
    cells: tuple[ServingCell, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def primary(self) -> ServingCell | None:
        """The cell that carries the data: the NR leg when there is one, else the first cell."""
        for c in self.cells:
            if c.rat == "NR5G":
                return c
        return self.cells[0] if self.cells else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: {"rat", "state", "cells": [{rat, mcc, ...}, ...], "warnings", "notes"}."""
        return {"rat": self.rat, "state": self.state, "cells": [c.as_dict() for c in self.cells],
                "warnings": list(self.warnings), "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LinkState":
        return cls(rat=data.get("rat", ""), state=data.get("state", "searching"),
                   cells=tuple(ServingCell.from_dict(c) for c in data.get("cells", [])),
                   warnings=tuple(data.get("warnings", ())), notes=tuple(data.get("notes", ())))

    def with_remarks(self, warnings: list[str] | tuple[str, ...] = (),
                     notes: list[str] | tuple[str, ...] = ()) -> "LinkState":
        """A copy with more warnings / notes appended (duplicates dropped, order kept)."""
        w = tuple(dict.fromkeys((*self.warnings, *warnings)))
        n = tuple(dict.fromkeys((*self.notes, *notes)))
        return LinkState(self.rat, self.state, self.cells, w, n)

    def summary(self) -> dict[str, Any]:
        """A flat sample for logs and reports: rat, state and the primary cell's main fields."""
        p = self.primary
        out: dict[str, Any] = {"rat": self.rat, "state": self.state}
        for key in ("cell_id", "pci", "band", "arfcn", "rsrp_dbm", "rsrq_db", "sinr_db"):
            out[key] = getattr(p, key) if p is not None else None
        return out

    def describe(self) -> str:
        """One human line, e.g. ``NR5G-SA connected cell 5C4225714 pci 452 band n78 RSRP -90 ...``."""
        s = self.summary()
        parts = [self.rat or "no-service", self.state]
        labels = (("cell_id", "cell"), ("pci", "pci"), ("band", "band"),
                  ("rsrp_dbm", "RSRP"), ("rsrq_db", "RSRQ"), ("sinr_db", "SINR"))
        units = {"rsrp_dbm": " dBm", "rsrq_db": " dB", "sinr_db": " dB"}
        for key, label in labels:
            if s[key] is not None:
                v = s[key]
                text = f"{v:g}" if isinstance(v, float) else str(v)
                parts.append(f"{label} {text}{units.get(key, '')}")
        parts += [f"warning: {w}" for w in self.warnings]
        return "  ".join(parts)
