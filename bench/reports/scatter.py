"""report.html: where the robot went, per pose, drawn to scale (ISO 9283 7.2 pictured).

For every pose, the attained positions relative to the command in the two most informative
planes: the command at the origin, each attained position, their barycentre, the AP vector from
the command to the barycentre, and the RP sphere (radius RP about the barycentre) cut through
its centre, all in mm with equal axes, so a reader sees at once whether a pose fails by offset
(AP) or by scatter (RP). The planes: the axis with the most AP plus scatter with each of the next
two. Returns inline SVG text, or None without samples.
"""
from __future__ import annotations

import math
from typing import Any

from matplotlib.lines import Line2D

from bench.reports.plots import plt, pose_colours, svg

AXES = ("x", "y", "z")
MAX_POSES = 8          # a wider page is unreadable; the table lists every pose anyway


def _planes(rel: list[tuple[float, float, float]]) -> tuple[tuple[int, int], tuple[int, int]]:
    """Axis index pairs of the two planes showing the most offset plus scatter."""
    n = len(rel)
    mean = [sum(p[k] for p in rel) / n for k in range(3)]
    spread = [mean[k] ** 2 + sum((p[k] - mean[k]) ** 2 for p in rel) / n for k in range(3)]
    order = sorted(range(3), key=lambda k: -spread[k])
    return (order[0], order[1]), (order[0], order[2])


def _panel(ax: Any, rel: list[tuple[float, ...]], bary: tuple[float, ...], rp: Any, i: int,
           j: int, colour: Any, name: str) -> None:
    """One plane of one pose, to scale (equal axes in mm), centred on the barycentre and sized
    to the scatter and the RP sphere; when the command lies outside that window the AP vector
    enters from the window's edge, labelled with its length in the plane."""
    has_rp = isinstance(rp, (int, float)) and math.isfinite(rp)
    bx, by = bary[i], bary[j]
    reach = max([math.hypot(p[i] - bx, p[j] - by) for p in rel] + [1e-4])
    half = max(1.3 * reach, 1.6 * rp if has_rp else 0.0)
    ax.scatter([p[i] for p in rel], [p[j] for p in rel], s=10, color=colour, alpha=0.75, zorder=2)
    ax.plot([bx], [by], marker="x", ms=8, mew=1.6, color="#b00020", ls="none", zorder=4)
    if has_rp:
        ax.add_patch(plt.Circle((bx, by), rp, fill=False, ls="--", lw=1, color="#444", zorder=1))
    dx, dy = -bx, -by                               # from the barycentre to the command
    ap_plane = math.hypot(dx, dy)
    if max(abs(dx), abs(dy)) <= 0.95 * half:        # the command is inside the window
        ax.plot([0], [0], marker="+", ms=12, mew=1.6, color="black", ls="none", zorder=4)
        start = (0.0, 0.0)
    else:
        t = 0.92 * half / max(abs(dx), abs(dy))
        start = (bx + t * dx, by + t * dy)
        ax.text(start[0], start[1], f"command {ap_plane:.3f} mm away", fontsize=6.5,
                ha="left" if dx < 0 else "right", va="bottom" if dy < 0 else "top",
                color="#b00020")
    if ap_plane > 0:
        ax.annotate("", xy=(bx, by), xytext=start, zorder=3,
                    arrowprops={"arrowstyle": "->", "color": "#b00020", "lw": 1.2})
    ax.set_xlim(bx - half, bx + half)
    ax.set_ylim(by - half, by + half)
    ax.set_aspect("equal")
    ax.set_xlabel(f"{AXES[i]} - {AXES[i]}_cmd, mm", fontsize=8)
    ax.set_ylabel(f"{AXES[j]} - {AXES[j]}_cmd, mm", fontsize=8)
    title = f"{name}: {AXES[i]}-{AXES[j]} plane"
    if has_rp:
        title += f"\nAP {math.dist(bary, (0.0, 0.0, 0.0)):.3f} mm, RP {rp:.3f} mm"
    ax.set_title(title, fontsize=8)
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=7)


def pose_scatter(report: dict[str, Any]) -> str | None:
    samples = report.get("samples") or []
    if not samples:
        return None
    poses = list(dict.fromkeys(s["pose"] for s in samples))[:MAX_POSES]
    stats = report.get("poses") or {}
    colours = pose_colours(poses)
    fig, axes = plt.subplots(2, len(poses), figsize=(max(7.0, 2.7 * len(poses)), 6.4),
                             squeeze=False)
    for col, name in enumerate(poses):
        rows = [s for s in samples if s["pose"] == name]
        rel = [tuple(s["attained"][f"{a}_mm"] - s["commanded"][f"{a}_mm"] for a in AXES)
               for s in rows]
        bary = tuple(sum(p[k] for p in rel) / len(rel) for k in range(3))
        rp = (stats.get(name) or {}).get("RP")
        for row, (i, j) in enumerate(_planes(rel)):
            _panel(axes[row][col], rel, bary, rp, i, j, colours[name], name)
    grey = "#777"
    handles = [Line2D([], [], marker="o", ls="none", color=grey, ms=4, label="attained positions"),
               Line2D([], [], marker="+", ls="none", color="black", ms=10, mew=1.6,
                      label="command"),
               Line2D([], [], marker="x", ls="none", color="#b00020", ms=8, mew=1.6,
                      label="barycentre"),
               Line2D([], [], color="#b00020", lw=1.2, label="AP vector (command to barycentre)"),
               Line2D([], [], color="#444", lw=1, ls="--",
                      label="RP sphere (radius RP about the barycentre)")]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return svg(fig)
