"""Plots for report.html, drawn with matplotlib (Agg) and returned as inline SVG text.

Text is converted to paths (svg.fonttype = "path") so the SVG needs no font files, and nothing in
the output refers to any external resource. Each function returns None when it has no data.
"""
from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update({"svg.fonttype": "path", "figure.dpi": 96, "font.size": 9,
                     "svg.hashsalt": "hil-bench"})


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    # no metadata: keeps the SVG free of RDF namespace URLs and dates (reproducible output)
    fig.savefig(buf, format="svg", bbox_inches="tight",
                metadata={"Creator": None, "Date": None, "Format": None, "Type": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]          # drop the XML prolog and doctype for inlining


def error_per_pose(report: dict[str, Any]) -> str | None:
    """Position error |attained - commanded| (mm) per cycle, one line per pose, with the limit."""
    samples = report.get("samples") or []
    if not samples:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.2))
    poses = list(dict.fromkeys(s["pose"] for s in samples))
    for name in poses:
        rows = [s for s in samples if s["pose"] == name]
        err = [sum((s["attained"][k] - s["commanded"][k]) ** 2
                   for k in ("x_mm", "y_mm", "z_mm")) ** 0.5 for s in rows]
        ax.plot([s["cycle"] for s in rows], err, marker="o", ms=3, label=name)
    lim = (report.get("scenario", {}).get("tolerances", {}).get("worst") or {}).get("max")
    if lim is not None:
        ax.axhline(lim, color="red", ls="--", lw=1, label=f"worst limit {lim:g} mm")
    ax.set_xlabel("cycle")
    ax.set_ylabel("position error, mm")
    ax.set_title("Error per pose and cycle")
    ax.legend(fontsize=7, ncol=3)
    ax.grid(alpha=0.3)
    return _svg(fig)


def trajectory(report: dict[str, Any]) -> str | None:
    """Distance to the commanded target against time for each pose's first approach."""
    traces = report.get("traces") or []
    if not traces:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for tr in traces:
        ax.plot(tr["t_s"], tr["error_mm"], lw=1, label=f"{tr['pose']} (cycle {tr['cycle']})")
    ax.set_yscale("symlog", linthresh=0.1)
    band = report.get("scenario", {}).get("band_mm")
    if band:
        ax.axhline(band, color="grey", ls=":", lw=1, label=f"band {band:g} mm")
    ax.set_xlabel("time since command, s")
    ax.set_ylabel("distance to target, mm")
    ax.set_title("Trajectory against target")
    ax.legend(fontsize=7, ncol=3)
    ax.grid(alpha=0.3)
    return _svg(fig)


def network(report: dict[str, Any]) -> str | None:
    """Injected one-way delay (ms) and, when present, the modem's link signal during the run."""
    delays = report.get("delays") or []
    link = report.get("link") or []
    if isinstance(link, dict):
        link = link.get("samples") or []
    link = [r for r in link if isinstance(r, dict)]
    if not delays and not link:
        return None
    link_t = [r["t_ns"] / 1e9 if isinstance(r.get("t_ns"), int) else r.get("t_s", 0.0)
              for r in link]
    # times are on the run's monotonic clock: show them from the first event of the run
    t0 = min([d[0] for d in delays[:1]] + link_t[:1])
    fig, ax = plt.subplots(figsize=(7, 3.0))
    if delays:
        for direction in ("up", "down"):
            pts = [(d[0] - t0, d[2]) for d in delays if d[1] == direction and d[2] is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], lw=0.8, label=f"delay {direction}")
        ax.set_ylabel("one-way delay, ms")
    if link:
        ax2 = ax.twinx() if delays else ax
        t = [x - t0 for x in link_t]
        for key in ("rsrp_dbm", "sinr_db", "rsrq_db"):
            vals = [r.get(key) for r in link]
            if any(v is not None for v in vals):
                ax2.plot(t, [float("nan") if v is None else v for v in vals], lw=1, ls="--",
                         label=key)
        ax2.set_ylabel("link signal (dBm / dB)")
        ax2.legend(fontsize=7, loc="lower right")
    ax.set_xlabel("time since the run started, s")
    ax.set_title("Network delay and link signal during the run")
    if delays:
        ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    return _svg(fig)


def sweep_error(result: dict[str, Any]) -> str | None:
    """Worst pose error, overshoot and AP against one-way delay, one colour per control mode."""
    points = result.get("points") or []
    if not points:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
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
    return _svg(fig)
