"""The bad-input corpus (tests/bad_inputs/corpus.yaml): every malformed input gets exactly one
clear line naming the file and the line or field, exit code 2, no traceback, and no report.

Each case: `argv` for `hil-bench` with {path} (the case file), {dir} (its folder) and {out} (an
output folder that must stay without a report), the file's `text` (or `hex` for binary), extra
`files`, and the regular expression `expect` the error line must match.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bench.cli import main

CORPUS = yaml.safe_load((Path(__file__).parent / "bad_inputs" / "corpus.yaml").read_text())


def test_corpus_is_large_and_ids_unique() -> None:
    ids = [c["id"] for c in CORPUS]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CORPUS, ids=[c["id"] for c in CORPUS])
def test_bad_input(case: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / case["name"]
    if "hex" in case:
        path.write_bytes(bytes.fromhex(case["hex"]))
    else:
        path.write_text(case["text"])
    for name, text in case.get("files", {}).items():
        (tmp_path / name).write_text(text)
    out = tmp_path / "out"
    argv = [a.format(path=path, dir=tmp_path, out=out) for a in case["argv"]]
    code = main(argv)
    captured = capsys.readouterr()
    lines = [l for l in captured.err.splitlines() if l.strip()]
    assert code == 2, captured.err
    assert "Traceback" not in captured.err + captured.out
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("hil-bench: error: ")
    assert re.search(case["expect"], lines[0]), lines[0]
    assert not (out / "report.json").exists(), "a report was written for bad input"
