"""Helpers for the pytest plugin's own tests: lab files and inner pytest runs (pytester)."""
from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "lab_tests"
SIM_LAB = REPO / "hardware" / "sim.yaml"


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released: connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def real_lab(path: Path, port: int, with_simulator: bool) -> Path:
    """A lab file declaring a *real* Modbus robot at 127.0.0.1:`port` (optionally simulatable)."""
    sim = SIM_LAB.read_text()
    head, _, sim_section = sim.partition("  simulate: true\n")
    text = head.replace("port: 5020 ", f"port: {port} ").replace("name: sim", "name: bench-lab")
    text += "  simulate: false\n"
    if with_simulator:
        text += sim_section
    else:
        text += "  workspace:\n" + sim_section.split("  workspace:\n", 1)[1]
    path.write_text(text)
    return path


def copy_examples(pytester: pytest.Pytester) -> None:
    """The example lab suite, as a lab would copy it, into the inner session's folder."""
    for f in EXAMPLES.glob("*.py"):
        shutil.copy(f, pytester.path / f.name)


def run(pytester: pytest.Pytester, *args: str, subprocess: bool = False) -> pytest.RunResult:
    """An inner pytest session; the plugin loads through its entry point as in a lab's install.

    In-process by default (no interpreter start-up: the suite stays fast); `subprocess=True` for
    runs that must not share this process (pytest-xdist).
    """
    common = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--bench-out", "out",
              # the plugin lives in `bench`, which this outer session imported already
              "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    if subprocess:
        return pytester.runpytest_subprocess(*common, *args, timeout=90)
    return pytester.runpytest_inprocess(*common, *args)


def results(pytester: pytest.Pytester) -> dict[str, Any]:
    return json.loads((pytester.path / "out" / "results.json").read_text())
