"""report.html: one self-contained page (inline CSS and SVG, no scripts, no external resources).

A Content-Security-Policy meta tag forbids every fetch except inline styles and data: images, so
even a stray reference could not reach the network; the favicon is an inline data: URL because
browsers otherwise request /favicon.ico on their own.
"""
from __future__ import annotations

import html
from typing import Any

from bench.metrics import catalogue
from bench.reports import accuracy
from bench.reports.record import MeasurementRow, RunReport


# the page uses its width (plots scale with it); long texts (a failed run's error, long pose
# names) wrap instead of running off the page
_CSS = """body{font-family:sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;
text-align:right}th{background:#f2f2f2}td:first-child,td.name{text-align:left;
overflow-wrap:anywhere}.pass{color:#176b1d}.marginal{color:#a06000}
.fail,.error{color:#b00020;font-weight:bold}p.error{white-space:pre-wrap;overflow-wrap:anywhere}
figure{margin:1em 0;width:100%}figure svg{width:100%;height:auto}
figcaption{font-size:90%;color:#555}"""

_HEAD = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
         '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
         'style-src \'unsafe-inline\'; img-src data:">'
         '<link rel="icon" href="data:,"><title>{title}</title><style>{css}</style></head><body>')


def _e(v: Any) -> str:
    return html.escape(str(v))


def _num(v: Any, digits: int = 4) -> str:
    return "-" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else _e(v)


def _figure(plot_id: str, svg: str | None, caption: str) -> str:
    if svg is None:
        return ""
    return (f'<figure class="plot" id="{plot_id}">{svg}<figcaption>{_e(caption)}</figcaption>'
            f"</figure>")


def _measurements(ms: list[MeasurementRow]) -> str:
    rows = "".join(
        f"<tr><td>{_e(m.subject)}</td><td>{_e(m.name)}</td>"
        f"<td>{_e(m.clause or '-')}</td>"
        f"<td>{_num(m.value)}</td><td>{_e(m.unit)}</td>"
        f"<td>{_num(m.limit)}</td><td>{_num(m.marginal)}</td>"
        f"<td class=\"{_e(m.outcome)}\">{_e(m.outcome.upper())}</td></tr>" for m in ms)
    return ("<table><tr><th>subject</th><th>measurement</th><th>ISO 9283</th><th>value</th>"
            "<th>unit</th>"
            f"<th>limit</th><th>marginal above</th><th>outcome</th></tr>{rows}</table>")


def _pose_columns(report: RunReport) -> list[str]:
    """Per-pose columns, in catalogue order: headline figures, figures with a tolerance, and the
    ISO 9283 figures the run produced."""
    poses = report.poses
    tol = report.scenario.tolerances
    present = {k for st in poses.values() for k, v in st.items() if v is not None}
    return [m.name for m in catalogue.CATALOGUE if m.scope == "pose" and m.name in present
            and (m.headline or m.name in tol or m.iso)]


def _definitions(names: list[str]) -> str:
    """What each shown figure is, from the measurement catalogue (as docs/report-format.md)."""
    items = "".join(
        f"<li><b>{_e(m.name)}</b> ({_e(m.unit or 'count')}, "
        f"{_e('ISO 9283 ' + m.clause if m.clause else 'not ISO 9283')}): {_e(m.description)}</li>"
        for m in (catalogue.BY_NAME[n] for n in names if n in catalogue.BY_NAME))
    return f"<details><summary>Definitions</summary><ul>{items}</ul></details>"


def _link_loss(ll: dict[str, Any] | None) -> str:
    """The link-loss figures (bench.linkloss) of the run and the poses that went through an
    outage."""
    if not ll:
        return ""
    run = "".join(f"<tr><td>{_e(k)}</td><td>{_num(v)}</td></tr>"
                  for k, v in ll.get("run", {}).items())
    poses = "".join(
        f"<tr><td>{_e(name)}</td><td>{_num(p.get('recovery_time'))}</td>"
        f"<td>{_e(', '.join(str(c) for c in p.get('visits_through_outage', [])) or '-')}</td>"
        "</tr>" for name, p in ll.get("poses", {}).items())
    return ("<h2>Link loss</h2><table><tr><th>figure (s or count)</th><th>value</th></tr>"
            f"{run}</table><table><tr><th>pose</th><th>recovery time s</th>"
            f"<th>cycles through an outage</th></tr>{poses}</table>")


def run_html(report: RunReport) -> str:
    """The page for one run's report."""
    from bench.reports import plots, scatter   # matplotlib: imported only when drawn
    sc, run, verdict = report.scenario, report.run, report.verdict
    figs = _pose_columns(report)
    keys = ["n", *figs]
    prow = "".join(f"<tr><td>{_e(name)}</td>" + "".join(
        f"<td>{_num(st.get(k))}</td>" for k in keys) + "</tr>"
        for name, st in report.poses.items())
    data = report.as_json()                      # the plots draw what report.json holds
    parts = [_HEAD.format(title=_e(f"hil-bench: {sc.name}"), css=_CSS),
             f"<h1>{_e(sc.name)}: <span class=\"{_e(verdict)}\">"
             f"{_e(verdict.upper())}</span></h1>",
             f"<p>control {_e(sc.control)}, {_e(sc.cycles)} cycles, "
             f"seed {_e(run.seed)}, mode {_e(run.mode)}, lab "
             f"{_e(run.lab.name)}, started "
             f"{_e(run.started_utc)}</p>"]
    if report.error:
        parts.append(f"<p class=\"error\">run stopped: {_e(report.error)}</p>")
    parts += [accuracy.html_section(data),
              "<h2>Measurements</h2>", _measurements(report.measurements),
              _link_loss(report.link_loss),
              "<h2>Per pose</h2><table><tr><th>pose</th><th>n</th>"
              + "".join(f"<th title=\"{_e(catalogue.BY_NAME[k].description)}\">{_e(k)}"
                        f"{' ' + _e(catalogue.BY_NAME[k].unit) if catalogue.BY_NAME[k].unit else ''}"
                        "</th>" for k in figs) + f"</tr>{prow}</table>",
              _definitions(list(dict.fromkeys(figs + [m.name for m in report.measurements]))),
              "<h2>Plots</h2>",
              _figure("plot-scatter", scatter.pose_scatter(data),
                      "Attained positions per pose relative to the command, to scale, in the two "
                      "planes showing the most offset and scatter: the barycentre, the AP vector "
                      "from the command to it and the RP sphere (radius RP about the barycentre, "
                      "cut through its centre)."),
              _figure("plot-error", plots.error_per_cycle(data),
                      "Per pose and cycle: the error to the command (AP judges its mean, worst "
                      "its largest) and the distance to the pose's barycentre (RP judges its mean "
                      "+ 3 standard deviations), on axes fitted to the data; limits outside the "
                      "data's range are named instead of drawn."),
              _figure("plot-trajectory", plots.trajectory(data),
                      "Distance to the commanded target during each pose's first approach."),
              _figure("plot-network", plots.network(data),
                      "On one time axis: the injected one-way network delay per direction, the "
                      "modem's link signal, and the error of every measured visit per pose."),
              "</body></html>"]
    return "".join(parts)


def sweep_html(result: dict[str, Any]) -> str:
    """The page for a sweep result."""
    from bench.reports import plots
    rows = "".join(
        f"<tr><td>{_e(p['control'])}</td><td>{_num(p['delay_ms'], 1)}</td>"
        + "".join(f"<td>{_num(p['figures'].get(k))}</td>"
                  for k in ("AP", "RP", "worst", "overshoot", "settling"))
        + f"<td class=\"{_e(p['verdict'])}\">{_e(p['verdict'].upper())}</td></tr>"
        for p in result.get("points", []))
    budget = "".join(f"<li>{_e(m)}: {'none' if b is None else _e(f'{b:g} ms')}</li>"
                     for m, b in (result.get("budget_ms") or {}).items())
    return "".join([
        _HEAD.format(title=_e(f"hil-bench sweep: {result.get('scenario', '')}"), css=_CSS),
        f"<h1>Latency budget: {_e(result.get('scenario', ''))}</h1>",
        "<p>Largest one-way delay (each direction) at which every tolerance passes:</p>",
        f"<ul>{budget}</ul>",
        _figure("plot-sweep", plots.sweep_error(result),
                "AP, worst single error and overshoot against one-way delay per control mode."),
        "<table><tr><th>control</th><th>delay ms</th><th>AP</th><th>RP</th><th>worst</th>"
        f"<th>overshoot</th><th>settling s</th><th>verdict</th></tr>{rows}</table>",
        "</body></html>"])
