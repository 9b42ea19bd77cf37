"""The parsers on real replies: every sample of tests/data/at-field/ reads with the values its
source's documented field order gives (ids exactly, dB within 0.5), with a warning for each odd
field and for nothing else; and the comparison itself is shown to catch a wrong value."""
from __future__ import annotations

import copy

import pytest

from tests.modem_corpus import CORPUS, Sample, check, compare, load, parse

SAMPLES = load()
BY_ID = {s.id: s for s in SAMPLES}


def test_corpus_has_enough_real_captures_with_sources() -> None:
    captures = [s for s in SAMPLES if str(s.meta["kind"]).startswith("capture")]
    assert len(captures) >= 40
    for s in SAMPLES:
        src = s.meta["source"]
        assert src.get("url") or src.get("index_file_id"), s.id
        assert src.get("where") and s.meta.get("document") and s.meta.get("module"), s.id
        assert s.text.strip(), s.id
    named = {s.meta["source"]["url"].split("/blob/")[0] for s in captures
             if s.meta["source"].get("url")}
    assert len(named) >= 10


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_sample_reads_as_its_source_gives(sample: Sample) -> None:
    problems = check(sample)
    assert not problems, "\n".join(problems)


def _mutations(sample: Sample) -> list[tuple[str, dict]]:
    """One-value changes of a sample's expectation: an id, a dB figure, a None -> value."""
    out = []
    exp = sample.meta["expect"]
    if isinstance(exp, dict) and "cells" in exp:
        for key, change in (("pci", lambda v: v + 1), ("cell_id", lambda v: v + "0"),
                            ("rsrp_dbm", lambda v: v + 1.0), ("sinr_db", lambda v: v - 0.6),
                            ("arfcn", lambda v: v + 1)):
            for i, c in enumerate(exp["cells"]):
                if c.get(key) is not None:
                    m = copy.deepcopy(sample.meta)
                    m["expect"]["cells"][i][key] = change(c[key])
                    out.append((f"cells[{i}].{key}", m))
                    break
        m = copy.deepcopy(sample.meta)
        m["expect"]["cells"][-1].pop(next(k for k in ("sinr_db", "rsrp_dbm", "band", "rat")
                                          if m["expect"]["cells"][-1].get(k) is not None))
        out.append(("a field dropped from the expectation", m))
    return out


@pytest.mark.parametrize("sample_id", ["quectel-qeng-endc-rm500q-early",
                                       "quectel-qeng-sa-rm520n-limsrv",
                                       "sierra-gstatus-lte-em7455-dw5811e"])
def test_changing_one_expected_value_makes_the_sample_fail(sample_id: str) -> None:
    sample = BY_ID[sample_id]
    assert not check(sample)
    mutations = _mutations(sample)
    assert len(mutations) >= 4
    for what, meta in mutations:
        assert check(Sample(sample.id, sample.text, meta)), f"changing {what} went unnoticed"


def test_a_changed_reply_or_a_missing_warning_fails_too() -> None:
    s = BY_ID["huawei-hcsq-nr-mt5700m"]
    assert check(Sample(s.id, s.text.replace(",31", ",33"), s.meta))     # RSRQ index +2 dB
    early = BY_ID["quectel-qeng-endc-rm500q-early"]
    meta = copy.deepcopy(early.meta)
    meta["warnings"] = []
    assert check(Sample(early.id, early.text, meta))                      # warning not expected
    meta["warnings"] = ["NR5G-NSA RSRP"]
    assert check(Sample(early.id, early.text, meta))                      # wrong field named


def test_compare_tolerances() -> None:
    assert compare({"rsrp_dbm": -70}, {"rsrp_dbm": -70.4}) == []
    assert compare({"rsrp_dbm": -70}, {"rsrp_dbm": -70.6})
    assert compare({"pci": 8}, {"pci": 8.0}) == []
    assert compare({"pci": 8}, {"pci": 9})
    assert compare({"cell_id": "D975244"}, {"cell_id": "D975245"})
    assert compare({"a": 1}, {"a": 1, "b": None}) == []
    assert compare({"a": 1}, {"a": 1, "b": 2})


def test_every_file_in_the_corpus_is_a_sample() -> None:
    stems = {p.stem for p in CORPUS.iterdir()}
    assert stems == set(BY_ID)
    assert all(p.suffix in (".txt", ".yaml") for p in CORPUS.iterdir())


def test_unknown_model_says_which_lte_sinr_encoding_it_assumed() -> None:
    _, _, notes = parse(BY_ID["quectel-qeng-lte-b7"])
    assert any("2v-20" in n and "no evidence" in n for n in notes)
    _, _, notes = parse(BY_ID["quectel-qeng-endc-rg500q"])
    assert notes == []
