"""The latest link qualification of each site, kept where the next run finds it.

`hil-bench link qualify` saves each site's result as ``<dir>/<lab>/<site>.json`` (``dir`` is
``$HIL_BENCH_QUALIFY_DIR``, default ``runs/qualify`` under the working directory, like `runs/`);
`hil-bench run` shows it beside the site's verdict, and refuses to start when the lab asks for a
fresh one (``qualify: {max_age: 10 min}``) and the site's latest is missing, NO-GO or older.
Failure mode: SafetyError (exit 2, nothing sent) from `require_fresh`.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from drivers.errors import SafetyError

ENV = "HIL_BENCH_QUALIFY_DIR"


def qualify_dir() -> Path:
    return Path(os.environ.get(ENV) or Path("runs") / "qualify")


def _where(lab_name: str) -> tuple[str, str]:
    """(lab, site) of a lab name: ``three-sites#yantai`` or ``sim`` (its own single site)."""
    base, _, site = lab_name.partition("#")
    return base, site or base


def save(result: dict[str, Any], lab_name: str) -> Path:
    """Keep `result` as the latest qualification of `lab_name`'s site; returns the file."""
    lab, site = _where(lab_name)
    path = qualify_dir() / lab / f"{site}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({**result, "saved_epoch_s": time.time()}, indent=2) + "\n",
                   encoding="utf-8")
    tmp.replace(path)
    return path


def latest(lab_name: str) -> dict[str, Any] | None:
    """The latest saved qualification of the site, or None (also for an unreadable file)."""
    lab, site = _where(lab_name)
    try:
        return json.loads((qualify_dir() / lab / f"{site}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def summary(q: dict[str, Any] | None, now_s: float | None = None) -> dict[str, Any] | None:
    """What a report shows of a qualification: verdict, margin, reasons, age."""
    if q is None:
        return None
    now = time.time() if now_s is None else now_s
    f = q.get("figures") or {}
    return {"verdict": q.get("verdict"), "margin_ms": q.get("margin_ms"),
            "margin_at_least": q.get("margin_at_least", False),
            "reasons": q.get("reasons", []), "started_utc": q.get("started_utc"),
            "age_s": round(now - float(q.get("saved_epoch_s", now)), 1),
            "network": q.get("network"), "mode": q.get("mode"),
            "control": (q.get("criteria") or {}).get("control"),
            "rtt_p99_ms": (f.get("rtt_ms") or {}).get("p99"), "loss": f.get("loss"),
            "longest_outage_s": f.get("longest_outage_s")}


def require_fresh(lab_name: str, max_age_s: float | None) -> dict[str, Any] | None:
    """The site's latest qualification; with `max_age_s`, SafetyError unless it is a GO at most
    that old."""
    q = summary(latest(lab_name))
    if max_age_s is None:
        return q
    hint = f"run `hil-bench link qualify --lab {lab_name}` first"
    if q is None:
        raise SafetyError(f"{lab_name}: the lab asks for a link qualification at most "
                          f"{max_age_s:g} s old and there is none ({hint}). Nothing was sent.")
    if q["verdict"] != "GO":
        raise SafetyError(f"{lab_name}: the latest link qualification is {q['verdict']} "
                          f"({'; '.join(q['reasons'])}). Nothing was sent.")
    if q["age_s"] > max_age_s:
        raise SafetyError(f"{lab_name}: the latest link qualification is {q['age_s']:g} s old, "
                          f"more than the lab's max_age {max_age_s:g} s ({hint}). "
                          f"Nothing was sent.")
    return q
