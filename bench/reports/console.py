"""The console summary of a run, read from its `RunReport`: a table per pose, every judged value
next to its limit, the figures without a tolerance, and the link-loss line."""
from __future__ import annotations

from typing import Any, TextIO

from bench.limits import Outcome
from bench.reports.record import RunReport

#: per-pose figures the pose table already shows (not repeated under "not judged")
_SHOWN = {"AP", "APx", "APy", "APz", "RP", "worst", "overshoot"}


def _fmt(v: Any) -> str:
    """A figure with four decimals; "nan" for one that could not be computed (None)."""
    return f"{v:.4f}" if v is not None else "nan"


def print_table(report: RunReport, out: TextIO) -> None:
    """The console summary: one row per pose (n, AP with its components, RP, outcome), then every
    judged value next to its limit in one form (value unit, <= limit unit, marginal above, outcome).
    Columns are as wide as their longest entry, so long pose names keep the table aligned."""
    rows = [["pose", "n", "AP mm", "APx", "APy", "APz", "RP mm", "outcome"]]
    for name, st in report.poses.items():
        outcomes = [Outcome(m.outcome) for m in report.judged if m.subject == name]
        rows.append([name, str(st["n"]), *(_fmt(st.get(k)) for k in ("AP", "APx", "APy", "APz",
                                                                       "RP")),
                     Outcome.worst(outcomes).value.upper()])
    out.write("\n" + _columns(rows, left=(0, 7)))
    judged = [["judged", "value", "limit", "marginal above", "outcome"]]
    for m in report.judged:
        unit = f" {m.unit}" if m.unit else ""
        judged.append([f"{m.subject} {m.name}".strip(), f"{_fmt(m.value)}{unit}",
                       f"<= {m.limit:g}{unit}",
                       "-" if m.marginal is None else f"{m.marginal:g}{unit}",
                       m.outcome.upper()])
    if len(judged) > 1:
        out.write("\n" + _columns(judged, left=(0, 4)))
    figures = [["not judged", "value"]]         # vAP, dAP/dRP, AT/RT, ... without a tolerance
    for m in report.measurements:
        if m.limit is None and m.name not in _SHOWN:
            unit = f" {m.unit}" if m.unit else ""
            figures.append([f"{m.subject} {m.name}".strip(), f"{_fmt(m.value)}{unit}"])
    if len(figures) > 1:
        out.write("\n" + _columns(figures))
    if report.link_loss is not None:
        out.write("\n" + link_loss_line(report.link_loss) + "\n")


def _columns(rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    """Rows as aligned text columns (two spaces apart); columns in `left` flush left."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(c.ljust(w) if i in left else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths))).rstrip() + "\n"
                   for r in rows)


def link_loss_line(link_loss: dict[str, Any]) -> str:
    """One line with the run's link-loss figures (report.json's `link_loss`) and the poses that
    went through an outage."""
    r = link_loss["run"]
    through = [name for name, p in link_loss.get("poses", {}).items()
               if p.get("visits_through_outage")]
    return (f"link: {r['outages']:.0f} outages, {r['link_down_time']:.3f} s without link "
            f"(longest {r['longest_outage']:.3f} s), recovery {r['recovery_time']:.3f} s, "
            f"{r['protective_stops']:.0f} protective stops, {r['reconnects']:.0f} reconnects, "
            f"{r['retransmissions']:.0f} retransmissions, {r['lost_setpoints']:.0f} lost / "
            f"{r['late_setpoints']:.0f} late setpoints"
            + (f"; through an outage: {', '.join(through)}" if through else ""))
