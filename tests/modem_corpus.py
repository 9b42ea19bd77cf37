"""The field corpus of real AT replies (tests/data/at-field/): loading, parsing, comparing.

Each sample is two files: ``<id>.txt``, the reply as it was posted, and ``<id>.yaml``, where it
comes from (repository + issue / pull request / file), the module and firmware where known, the
document that gives the field order, and ``expect``: the values that document's field order
gives. ``warnings`` lists text each expected warning contains (no list: no warning allowed).
Comparison: identities and codes exactly, dBm / dB within DB_TOLERANCE, every field the
expectation does not list must be unknown (None).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from drivers.modem import generic, huawei, quectel, sierra
from drivers.modem.link import LinkState

CORPUS = Path(__file__).parent / "data" / "at-field"
DB_TOLERANCE = 0.5
#: numeric fields compared exactly (identities and codes); everything else numeric is dBm / dB
EXACT_KEYS = frozenset({"pci", "arfcn", "channel", "stat", "act", "mode"})


@dataclass(frozen=True)
class Sample:
    id: str
    text: str
    meta: dict[str, Any]

    @property
    def lines(self) -> list[str]:
        return re.split(r"\r?\n", self.text)

    @property
    def parser(self) -> str:
        return str(self.meta["parser"])


def load() -> list[Sample]:
    """Every sample in the corpus, sorted by id (ValueError for a half sample)."""
    out = []
    for meta_path in sorted(CORPUS.glob("*.yaml")):
        text_path = meta_path.with_suffix(".txt")
        if not text_path.is_file():
            raise ValueError(f"{meta_path}: no {text_path.name} beside it")
        meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
        out.append(Sample(meta_path.stem, text_path.read_text(encoding="utf-8"), meta))
    return out


def _link(link: LinkState) -> dict[str, Any]:
    return {"rat": link.rat, "state": link.state, "cells": [c.as_dict() for c in link.cells]}


def parse(sample: Sample) -> tuple[Any, list[str], list[str]]:
    """(parsed result as plain data, warnings, notes) for a sample, by its `parser`."""
    args = dict(sample.meta.get("args") or {})
    warn: list[str] = []
    lines = sample.lines
    name = sample.parser
    if name in ("quectel.servingcell", "sierra.gstatus"):
        link = (quectel.parse_servingcell(lines, model=args.get("model", ""))
                if name == "quectel.servingcell" else sierra.parse_gstatus(lines))
        return _link(link), list(link.warnings), list(link.notes)
    result: Any
    if name == "quectel.qnwinfo":
        result = quectel.parse_qnwinfo_all(lines, warn)
    elif name == "quectel.qrsrp":
        result = quectel.parse_qrsrp(lines, warn)
    elif name == "quectel.qcsq":
        result = quectel.parse_qcsq(lines, warn)
    elif name == "huawei.hcsq":
        result = huawei.parse_hcsq_rows(lines, warn)
    elif name == "huawei.monsc":
        cell = huawei.parse_monsc(lines, warn)
        result = None if cell is None else cell.as_dict()
    elif name == "generic.reg":
        result = dataclasses.asdict(generic.parse_reg(lines, args.get("prefix", "+CEREG:"), warn))
    elif name == "generic.cops":
        mode, oper, act = generic.parse_cops(lines, warn)
        result = {"mode": mode, "operator": oper, "act": act}
    elif name == "generic.csq":
        result = {"rssi_dbm": generic.parse_csq(lines, warn)}
    else:
        raise ValueError(f"{sample.id}: unknown parser {name!r}")
    return result, warn, []


def compare(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Mismatches between an expectation and a parsed result (empty when they agree)."""
    where = path or "(top)"
    key = path.rsplit(".", 1)[-1].split("[", 1)[0]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a mapping, got {actual!r}"]
        out: list[str] = []
        for k, v in expected.items():
            out += compare(v, actual.get(k), f"{path}.{k}" if path else k)
        extra = [k for k, v in actual.items() if k not in expected and v is not None]
        if extra:
            out.append(f"{where}: fields not in the expectation are set: "
                       f"{', '.join(f'{k}={actual[k]!r}' for k in extra)}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {actual!r}"]
        return [m for i, (e, a) in enumerate(zip(expected, actual))
                for m in compare(e, a, f"{path}[{i}]")]
    if expected is None or isinstance(expected, str) or isinstance(expected, bool):
        return [] if actual == expected else [f"{where}: expected {expected!r}, got {actual!r}"]
    if isinstance(expected, (int, float)):
        if not isinstance(actual, (int, float)) or isinstance(actual, bool):
            return [f"{where}: expected {expected!r}, got {actual!r}"]
        if key in EXACT_KEYS:
            ok = actual == expected and float(actual).is_integer()
        else:
            ok = abs(actual - expected) <= DB_TOLERANCE
        return [] if ok else [f"{where}: expected {expected!r}, got {actual!r}"]
    raise TypeError(f"{where}: cannot compare {expected!r}")


def check(sample: Sample) -> list[str]:
    """Every way the parsed sample differs from its expectation, warnings included."""
    result, warnings, _ = parse(sample)
    problems = compare(sample.meta["expect"], result)
    wanted = list(sample.meta.get("warnings") or [])
    for w in wanted:
        if not any(w in got for got in warnings):
            problems.append(f"no warning containing {w!r} (got {warnings!r})")
    if not wanted and warnings:
        problems.append(f"unexpected warnings {warnings!r}")
    return problems
