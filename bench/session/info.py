"""Summaries and exports of a session file, computed in one streaming pass.

`session_info` counts messages per topic and the time span (ns -> s); `export_jsonl` and
`export_csv` write one line/row per message with its topic and time. Failure modes: ConfigError
for a missing or non-MCAP file; a truncated file is reported (``truncated: true``), not refused.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, TextIO

import orjson

from bench.session.reader import SessionReader
from bench.session.schema import TOPICS


def session_info(path: str | Path) -> dict[str, Any]:
    """``{topics: {topic: count}, messages, duration_s, truncated, finished, truncation,
    damaged, damaged_messages, damage, format, start_ns, end_ns, scenario, mode, network}`` for
    the file at `path`. Truncated (cut short: the end is missing) and damaged (records or
    messages that cannot be read, skipped and listed in `damage`) are separate findings."""
    counts: dict[str, int] = {}
    first: int | None = None
    last: int | None = None
    meta: dict[str, Any] = {}
    with SessionReader(path) as r:
        for topic, t, payload in r.raw():
            counts[topic] = counts.get(topic, 0) + 1
            if first is None or t < first:
                first = t
            if last is None or t > last:
                last = t
            if not meta and topic == "/session/metadata":
                try:
                    meta = json.loads(payload)
                except ValueError:
                    r._damaged(f"{topic} message at t_ns {t}: not JSON")
                if not isinstance(meta, dict):
                    r._damaged(f"{topic} message at t_ns {t}: not a JSON object")
                    meta = {}
        truncated, finished, why = r.truncated, r.finished, r.truncation
        damage, damaged_count = list(r.damage), r.damaged_count
    for name in TOPICS:
        counts.setdefault(name, 0)
    sc = meta.get("scenario")
    return {
        "topics": dict(sorted(counts.items())),
        "messages": sum(counts.values()),
        "duration_s": round((last - first) / 1e9, 9) \
            if first is not None and last is not None else 0.0,
        "truncated": truncated,
        "finished": finished,
        "truncation": why or None,
        "damaged": damaged_count > 0,
        "damaged_messages": damaged_count,
        "damage": damage,
        "format": meta.get("format"),
        "start_ns": first, "end_ns": last,
        "scenario": sc.get("name") if isinstance(sc, dict) else sc,
        "mode": meta.get("mode"),
        "network": meta.get("network"),
    }


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, list):
            out[key] = json.dumps(v)
        else:
            out[key] = v
    return out


def export_jsonl(path: str | Path, out: TextIO, topics: list[str] | None = None,
                 damage: list[str] | None = None) -> int:
    """One JSON object per line: ``{"topic", "t_ns", "data"}`` (optionally only `topics`).
    Damaged messages are skipped and described in `damage`. Returns the message count."""
    n = 0
    with SessionReader(path) as r:
        for m in r.messages(topics):
            out.write(f'{{"topic":{json.dumps(m.topic)},"t_ns":{m.t_ns},'
                      f'"data":{orjson.dumps(m.data).decode()}}}\n')
            n += 1
        if damage is not None:
            damage += r.damage
    return n


def export_csv(path: str | Path, out: TextIO, topics: list[str] | None = None,
               damage: list[str] | None = None) -> int:
    """CSV with columns topic, t_ns and every flattened field (``target.x_mm``...).

    The header is the union of the fields of the selected topics, found in a first pass so the
    second pass can stream rows; fields a message lacks are empty. Returns the row count.
    """
    fields: dict[str, None] = {}
    with SessionReader(path) as r:
        for m in r.messages(topics):
            for k in _flatten(m.data):
                fields.setdefault(k, None)
    writer = csv.DictWriter(out, fieldnames=["topic", "t_ns", *fields], extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    n = 0
    with SessionReader(path) as r:
        for m in r.messages(topics):
            writer.writerow({"topic": m.topic, "t_ns": m.t_ns, **_flatten(m.data)})
            n += 1
        if damage is not None:
            damage += r.damage
    return n
