"""ISO 9283:1998 clause 8.2: path accuracy AT and path repeatability RT.

m points C_i are taken along the command path; at each, the plane normal to the path is
intersected with each of the n attained paths, giving points P_ij. Then
  Ḡ_i  = (1/n) sum_j P_ij
  AT_p = max_i |Ḡ_i - C_i|                                  (mm)
  l_ij = |P_ij - Ḡ_i|,  RT_p = max_i (l̄_i + 3 S_li),  S with n - 1   (mm)
Association is geometric (normal planes), **not** by equal time index: a delayed or jittered run
shifts the time base, and comparing samples at equal times would report the delay as path error.
When an attained path crosses a normal plane several times, the crossing nearest C_i is used.
Failure modes: ValueError for a command path with fewer than 2 points; NaN figures when an
attained path never crosses a point's normal plane (a path that stops short fails any limit).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def polyline_length(poly: np.ndarray) -> float:
    """Arc length of a polyline (m, 3), mm."""
    return float(np.linalg.norm(np.diff(np.asarray(poly, dtype=float)[:, :3], axis=0), axis=1).sum())


def points_along(poly: np.ndarray, fractions: np.ndarray) -> np.ndarray:
    """Points (k, 3) at the given fractions (0..1) of a polyline's arc length, mm. Used for the m
    command points of AT/RT and for the setpoints a streamed path is sent as."""
    p = np.asarray(poly, dtype=float)[:, :3]
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))])
    t = np.clip(np.asarray(fractions, dtype=float), 0.0, 1.0) * s[-1]
    return np.stack([np.interp(t, s, p[:, i]) for i in range(3)], axis=1)


def _tangents(c: np.ndarray) -> np.ndarray:
    t = np.gradient(c, axis=0)
    n = np.linalg.norm(t, axis=1, keepdims=True)
    if np.any(n == 0):
        raise ValueError("the command path has repeated points (no direction)")
    return t / n


def normal_plane_hits(command: np.ndarray, attained: np.ndarray) -> np.ndarray:
    """(m, 3) intersections of one attained polyline (k, 3) with the command points' normal
    planes; rows of NaN where the attained path does not cross a plane."""
    c = np.asarray(command, dtype=float)[:, :3]
    a = np.asarray(attained, dtype=float)[:, :3]
    if len(c) < 2 or len(a) < 2:
        raise ValueError("command and attained paths need at least 2 points each")
    tan = _tangents(c)
    s = np.einsum("mkd,md->mk", a[None, :, :] - c[:, None, :], tan)     # signed distance
    s0, s1 = s[:, :-1], s[:, 1:]
    cross = (s0 * s1 <= 0) & (s0 != s1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(cross, s0 / (s0 - s1), np.nan)                      # fraction along segment
    pts = a[None, :-1, :] + f[..., None] * (a[None, 1:, :] - a[None, :-1, :])   # (m, k-1, 3)
    dist = np.linalg.norm(pts - c[:, None, :], axis=2)
    dist = np.where(cross, dist, np.inf)
    best = np.argmin(dist, axis=1)
    hits = pts[np.arange(len(c)), best]
    hits[~np.isfinite(dist[np.arange(len(c)), best])] = np.nan
    return hits


def path_stats(command: np.ndarray, attained_paths: Sequence[np.ndarray]) -> dict[str, float]:
    """AT_p and RT_p (mm) of n attained paths against the command points (m, 3)."""
    c = np.asarray(command, dtype=float)[:, :3]
    hits = np.stack([normal_plane_hits(c, a) for a in attained_paths])    # (n, m, 3)
    g = hits.mean(axis=0)
    at = np.linalg.norm(g - c, axis=1)
    l = np.linalg.norm(hits - g[None], axis=2)
    rt = l.mean(axis=0) + 3.0 * l.std(axis=0, ddof=1) if len(hits) > 1 else np.full(len(c), np.nan)
    bad = np.isnan(at).any() or np.isnan(rt).any()
    return {"AT": float("nan") if bad else float(at.max()),
            "RT": float("nan") if bad else float(rt.max()), "n": len(hits), "m": len(c)}
