"""Plots for report.html, drawn with matplotlib (Agg) and returned as inline SVG text.

Text is converted to paths (svg.fonttype = "path") so the SVG needs no font files, and nothing in
the output refers to any external resource. Each function returns None when it has no data.
"""
from __future__ import annotations

import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"svg.fonttype": "path", "figure.dpi": 96, "font.size": 9,
                     "svg.hashsalt": "hil-bench"})


def svg(fig: Any) -> str:
    """The figure as inline SVG text (closed afterwards). Its width follows the page (CSS)."""
    buf = io.StringIO()
    # no metadata: keeps the SVG free of RDF namespace URLs and dates (reproducible output)
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]          # drop the XML prolog and doctype for inlining



def pose_colours(poses: list[str]) -> dict[str, Any]:
    """One colour per pose, the same in every plot of the page."""
    cmap = plt.get_cmap("tab10")
    return {name: cmap(i % 10) for i, name in enumerate(poses)}


def _errors(samples: list[dict[str, Any]]) -> dict[str, list[tuple[int, float, float, int]]]:
    """Per pose: (cycle, error to the command, distance to the pose's barycentre, t_ns) in mm."""
    out: dict[str, list[tuple[int, float, float, int]]] = {}
    for name in dict.fromkeys(s["pose"] for s in samples):
        rows = [s for s in samples if s["pose"] == name]
        att = [[s["attained"][k] for k in ("x_mm", "y_mm", "z_mm")] for s in rows]
        cmd = [[s["commanded"][k] for k in ("x_mm", "y_mm", "z_mm")] for s in rows]
        bary = [sum(p[k] for p in att) / len(att) for k in range(3)]
        out[name] = [(s["cycle"], math.dist(p, c), math.dist(p, bary),
                      int(s.get("t_measured_ns") or 0)) for s, p, c in zip(rows, att, cmd)]
    return out


def _limit_lines(ax: Any, limits: list[tuple[str, float | None]], lo: float, hi: float) -> str:
    """Draw each limit inside [lo, hi] as a line; return a note naming those out of range."""
    styles = ["--", ":", "-."]
    out = []
    for k, (label, value) in enumerate(limits):
        if value is None:
            continue
        if lo <= value <= hi:
            ax.axhline(value, color="#b00020", ls=styles[k % 3], lw=1, label=label)
        else:
            out.append(f"{label} {'above' if value > hi else 'below'} this axis")
    return "; ".join(out)


def error_per_cycle(report: dict[str, Any]) -> str | None:
    """Two panels on axes fitted to the data, one line per pose: the error to the command per
    cycle (with the AP and worst-error limits: AP judges the mean of these) and the distance to
    the pose's barycentre per cycle (the l_j of ISO 9283 7.2.2, with each pose's RP and the RP
    limit). Limits outside the data's range are named in the panel instead of squashing it."""
    samples = report.get("samples") or []
    if not samples:
        return None
    errs = _errors(samples)
    colours = pose_colours(list(errs))
    tol = report.get("scenario", {}).get("tolerances", {})
    lim = {k: (tol.get(k) or {}).get("max") for k in ("AP", "RP", "worst")}
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 3.6))
    stats = report.get("poses") or {}
    for name, rows in errs.items():
        a1.plot([r[0] for r in rows], [r[1] for r in rows], marker="o", ms=3, lw=1,
                color=colours[name], label=name)
        a2.plot([r[0] for r in rows], [r[2] for r in rows], marker="o", ms=3, lw=1,
                color=colours[name], label=name)
        rp = (stats.get(name) or {}).get("RP")
        if isinstance(rp, (int, float)) and math.isfinite(rp):
            a2.axhline(rp, color=colours[name], ls=":", lw=0.8)
    for ax, values, limits, title, ylabel in (
            (a1, [r[1] for rows in errs.values() for r in rows],
             [(f"AP limit {lim['AP']:g} mm" if lim["AP"] is not None else "", lim["AP"]),
              (f"worst limit {lim['worst']:g} mm" if lim["worst"] is not None else "",
               lim["worst"])],
             "Error to the command per cycle", "|attained - commanded|, mm"),
            (a2, [r[2] for rows in errs.values() for r in rows],
             [(f"RP limit {lim['RP']:g} mm" if lim["RP"] is not None else "", lim["RP"])],
             "Distance to the pose's barycentre per cycle (dotted: the pose's RP)",
             "l_j = |attained - barycentre|, mm")):
        lo, hi = min(values), max(values)
        pad = max((hi - lo) * 0.15, 1e-4, hi * 0.02)
        lo, hi = max(0.0, lo - pad), hi + pad
        if ax is a2:
            rps = [v.get("RP") for v in stats.values() if isinstance(v.get("RP"), (int, float))]
            hi = max([hi] + [r * 1.1 for r in rps if math.isfinite(r)])
        note = _limit_lines(ax, limits, lo, hi * 1.5)
        top = max([hi] + [v * 1.08 for _, v in limits if v is not None and lo <= v <= hi * 1.5])
        ax.set_ylim(lo, top)
        ax.set_xlabel("cycle")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
        if note:
            ax.text(0.01, 0.98, note, transform=ax.transAxes, va="top", fontsize=7,
                    color="#b00020")
        ax.legend(fontsize=7, ncol=min(6, len(errs) + len(limits)), loc="lower right")
    fig.tight_layout()
    return svg(fig)


def trajectory(report: dict[str, Any]) -> str | None:
    """Distance to the commanded target against time for each pose's first approach."""
    traces = report.get("traces") or []
    if not traces:
        return None
    fig, ax = plt.subplots(figsize=(13, 3.6))
    for tr in traces:
        ax.plot(tr["t_s"], tr["error_mm"], lw=1, label=f"{tr['pose']} (cycle {tr['cycle']})")
    ax.set_yscale("symlog", linthresh=0.1)
    band = report.get("scenario", {}).get("band_mm")
    if band:
        ax.axhline(band, color="grey", ls=":", lw=1, label=f"band {band:g} mm")
    ax.set_xlabel("time since command, s")
    ax.set_ylabel("distance to target, mm")
    ax.set_title("Trajectory against target (first approach of each pose)", fontsize=9)
    ax.legend(fontsize=7, ncol=3, loc="upper right")
    ax.grid(alpha=0.3)
    return svg(fig)


def _gaps(pts: list[tuple[float, float]], gap_s: float = 1.0) -> list[tuple[float, float]]:
    """The points with a break (NaN) wherever no message passed for `gap_s`: a line across an
    idle link would show delays that no message had."""
    out: list[tuple[float, float]] = []
    for p in pts:
        if out and p[0] - out[-1][0] > gap_s:
            out.append((out[-1][0], float("nan")))
        out.append(p)
    return out


def network(report: dict[str, Any]) -> str | None:
    """Aligned panels on one time axis (s since the run started): the injected one-way delay per
    direction, the modem's RSRP and SINR (each on its own panel: dBm and dB are different
    quantities), and underneath the error of every measured visit per pose, so a reader can put
    a large error next to the delay or the signal that came with it."""
    delays = [d for d in report.get("delays") or [] if d[2] is not None]
    link = report.get("link") or []
    if isinstance(link, dict):
        link = link.get("samples") or []
    link = [r for r in link if isinstance(r, dict)]
    if not delays and not link:
        return None
    link_t = [r["t_ns"] / 1e9 if isinstance(r.get("t_ns"), int) else r.get("t_s", 0.0)
              for r in link]
    samples = report.get("samples") or []
    errs = _errors(samples)
    sample_t = [r[3] / 1e9 for rows in errs.values() for r in rows if r[3]]
    # times are on the run's monotonic clock: show them from the first event of the run
    t0 = min([d[0] for d in delays[:1]] + link_t[:1] + sample_t[:1])
    signals = [(key, label) for key, label in (("rsrp_dbm", "RSRP, dBm"), ("sinr_db", "SINR, dB"),
                                               ("rsrq_db", "RSRQ, dB"))
               if any(r.get(key) is not None for r in link)]
    panels = (["delay"] if delays else []) + [k for k, _ in signals] + (["error"] if errs else [])
    fig, axes = plt.subplots(len(panels), 1, figsize=(13, 1.9 * len(panels) + 0.6), sharex=True,
                             squeeze=False)
    ax_of = dict(zip(panels, (row[0] for row in axes)))
    if delays:
        ax = ax_of["delay"]
        for direction, label, colour in (("up", "uplink (bench to robot)", "#1f77b4"),
                                         ("down", "downlink (robot to bench)", "#ff7f0e")):
            pts = _gaps([(d[0] - t0, d[2]) for d in delays if d[1] == direction])
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=0.8, color=colour,
                        drawstyle="steps-post", label=label)
        ax.set_ylabel("one-way delay, ms")
        ax.set_title("Network and robot during the run", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
    for (key, label), colour in zip(signals, ("#2ca02c", "#9467bd", "#8c564b")):
        ax = ax_of[key]
        vals = [r.get(key) for r in link]
        ax.plot([t - t0 for t in link_t], [float("nan") if v is None else v for v in vals],
                lw=1, color=colour, drawstyle="steps-post", label=f"modem {label}")
        ax.set_ylabel(label)
        ax.legend(fontsize=7, loc="best")
    if errs:
        ax = ax_of["error"]
        colours = pose_colours(list(errs))
        for name, rows in errs.items():
            pts = [(r[3] / 1e9 - t0, r[1]) for r in rows if r[3]]
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", ms=3, ls="none",
                    color=colours[name], label=name)
        ax.set_ylabel("error to command, mm")
        ax.legend(fontsize=7, loc="upper right", ncol=min(8, len(errs)))
    for ax in ax_of.values():
        ax.grid(alpha=0.3)
    axes[-1][0].set_xlabel("time since the run started, s")
    fig.tight_layout()
    return svg(fig)


def sweep_error(result: dict[str, Any]) -> str | None:
    """Worst pose error, overshoot and AP against one-way delay, one colour per control mode."""
    points = result.get("points") or []
    if not points:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for mode in dict.fromkeys(p["control"] for p in points):
        pts = sorted((p for p in points if p["control"] == mode), key=lambda p: p["delay_ms"])
        for ax, key in zip(axes, ("AP", "worst", "overshoot")):
            ys = [p["figures"].get(key) for p in pts]
            ax.plot([p["delay_ms"] for p in pts], [float("nan") if y is None else y for y in ys],
                    marker="o", ms=3, label=mode)
    for ax, key in zip(axes, ("AP", "worst", "overshoot")):
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_xlabel("one-way delay, ms")
        ax.set_ylabel(f"{key}, mm")
        ax.set_title(f"{key} against delay")
        ax.grid(alpha=0.3)
    for b in (result.get("budget_ms") or {}).values():
        if b is not None:
            axes[1].axvline(b, ls=":", lw=1, color="grey")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return svg(fig)
