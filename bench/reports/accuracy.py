"""What measured a run, for report.html and junit.xml (report.json has it as `accuracy_source`,
`instrument` and `self_reported`; the terminal prints `bench.instrument_report.instrument_lines`).

With an instrument in the lab the verdict's figures are the instrument's (ISO 9283 measurements);
each judged static figure (AP, RP, worst, APa..., the guide's trajectory figures) is shown with the
robot controller's self-reported value beside it and the difference, the error the robot cannot
see. Without one, the reports say plainly that AP/RP are the robot's self-reported figures, not
ISO 9283 measurements (`accuracy_source.note`). Reads the report.json dict only.
"""
from __future__ import annotations

import html
from typing import Any


def _e(v: Any) -> str:
    return html.escape(str(v))


def _n(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}" if isinstance(v, float) else _e(v)


def suite_properties(report: dict[str, Any]) -> dict[str, Any]:
    """JUnit suite properties: accuracy_source (instrument | robot), accuracy_iso9283 (whether
    the judged figures are ISO 9283 measurements), accuracy_note, and the instrument's name,
    registration origin and FRE (mm) when one measured the run."""
    src = report.get("accuracy_source") or {}
    out: dict[str, Any] = {}
    if src:
        out["accuracy_source"] = src.get("source")
        out["accuracy_iso9283"] = str(bool(src.get("iso9283"))).lower()
        if src.get("note"):
            out["accuracy_note"] = src["note"]
    inst = report.get("instrument")
    if inst:
        reg = inst.get("registration") or {}
        out["instrument"] = inst.get("name")
        out["instrument_registration"] = reg.get("origin")
        out["instrument_fre_mm"] = reg.get("fre_mm")
        if reg.get("note"):
            out["instrument_registration_note"] = reg["note"]
    return out


def case_properties(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(subject, measurement name) -> {self_reported, unseen_by_robot} for the JUnit test cases
    of the figures an instrument measured (empty without an instrument)."""
    rows = (report.get("instrument") or {}).get("beside") or []
    return {(r["subject"], r["name"]): {"self_reported": r.get("self_reported"),
                                        "unseen_by_robot": r.get("unseen_by_robot")}
            for r in rows}


def html_section(report: dict[str, Any]) -> str:
    """report.html's "What measured this run" section."""
    src = report.get("accuracy_source") or {}
    inst = report.get("instrument")
    if not inst:
        if not src:
            return ""
        return ('<h2>What measured this run</h2><p class="note" id="accuracy-source">'
                f"{_e(src.get('note') or 'the robot controller (self-reported)')}</p>")
    reg = inst.get("registration") or {}
    rows = "".join(
        f"<tr><td>{_e(r['subject'])}</td><td>{_e(r['name'])}</td><td>{_n(r.get('value'))}</td>"
        f"<td>{_n(r.get('self_reported'))}</td><td>{_n(r.get('unseen_by_robot'))}</td>"
        f"<td>{_e(r.get('unit', ''))}</td></tr>" for r in inst.get("beside") or [])
    note = f" {_e(reg['note'])}." if reg.get("note") else ""
    tr = inst.get("tracking")
    if tr:
        i, r = tr["instrument"], tr.get("self_reported") or {}
        rows += (f"<tr><td>stream</td><td>tracking RMS ({_e(i.get('n'))} frames)</td>"
                 f"<td>{_n(i.get('rms_mm'))}</td><td>{_n(r.get('rms_mm'))}</td><td>-</td>"
                 f"<td>mm</td></tr><tr><td>stream</td><td>tracking max</td>"
                 f"<td>{_n(i.get('max_mm'))}</td><td>{_n(r.get('max_mm'))}</td><td>-</td>"
                 "<td>mm</td></tr>")
    return ('<h2>What measured this run</h2><p id="accuracy-source">The verdict\'s figures are '
            f"ISO 9283 measurements by the instrument <b>{_e(inst.get('name'))}</b> (tool "
            f"{_e(inst.get('tool'))}; registration: {_e(reg.get('origin'))}, FRE "
            f"{_n(reg.get('fre_mm'))} mm; {_e(inst.get('measured'))} of "
            f"{_e(inst.get('visits'))} visits seen). Beside them, the robot controller's "
            "self-reported figures (its encoders through its nominal kinematics) and the "
            f"difference: the error the robot cannot see.{note}</p>"
            "<table><tr><th>subject</th><th>measurement</th><th>instrument</th>"
            "<th>self-reported by the robot</th><th>unseen by the robot</th><th>unit</th></tr>"
            f"{rows}</table>")
