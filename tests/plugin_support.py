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


def run(pytester: pytest.Pytester, *args: str, timeout: float = 60) -> pytest.RunResult:
    """An inner pytest session in its own process (the plugin loads via its entry point)."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--bench-out", "out",
                                         *args, timeout=timeout)


def results(pytester: pytest.Pytester) -> dict[str, Any]:
    return json.loads((pytester.path / "out" / "results.json").read_text())
