"""CICV5G trace files: the one reader of their text layout, for the impairment engine (the
round-trip `delay(ms)` column, `bench/impair/traces.py`) and the modem simulator (serving cell,
SINR and RSRP, `drivers/sim/modem_profile.py`).

Layout (the dataset's README, `fixtures/traces/README.md`): one header line naming the columns,
then one whitespace-separated row per message; columns are found by header name because some
files carry extra trailing columns. Blank lines and ``#`` comment lines are skipped.
Failure mode: ConfigError ``<file>:<line>: <problem>`` for unreadable, empty or malformed files.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

TIME, DELAY, CELL, SINR, RSRP = "pub_time(ms)", "delay(ms)", "cellid(db)", "sinr(db)", "rsrp(db)"


@dataclass(frozen=True)
class Cicv5gTable:
    """A CICV5G file split into its header and numbered rows (text, not yet converted)."""

    source: str
    header_line: int
    header: list[str]
    rows: list[tuple[int, str]]

    def index(self, names: Sequence[str]) -> dict[str, int]:
        """Column positions of `names`; ConfigError naming every missing column."""
        from drivers.errors import ConfigError
        missing = [n for n in names if n not in self.header]
        if missing:
            raise ConfigError(f"{self.source}:{self.header_line}: not a CICV5G trace: header "
                              f"has no column {', '.join(repr(m) for m in missing)} "
                              f"(columns: {' '.join(self.header)})")
        return {n: self.header.index(n) for n in names}


def numbered_lines(path: str | Path) -> list[tuple[int, str]]:
    """The file's non-blank, non-comment lines with their 1-based numbers, stripped.
    ConfigError when it cannot be read."""
    from drivers.errors import ConfigError
    p = Path(path)
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"{p}: trace file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read trace: {exc}") from None
    return [(i, ln.strip()) for i, ln in enumerate(lines, 1)
            if ln.strip() and not ln.lstrip().startswith("#")]


def read_table(path: str | Path) -> Cicv5gTable:
    """Header and rows of a CICV5G file. ConfigError for an unreadable or empty file."""
    from drivers.errors import ConfigError
    rows = numbered_lines(path)
    if not rows:
        raise ConfigError(f"{path}: empty trace")
    return Cicv5gTable(str(path), rows[0][0], rows[0][1].split(), rows[1:])
