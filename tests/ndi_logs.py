"""Test helper: read IGSTK's recorded NDI serial logs (tests/data/ndi/README.md) into exchanges."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data" / "ndi"
_LINE = re.compile(r"\(INFO\) (\d+)\. (command|receive)\[(\d+)\] (.*)$")
_ESC = re.compile(rb"\\\\|\\x([0-9A-Fa-f]{2})")


@dataclass
class Exchange:
    """One numbered exchange: the command bytes and every reply byte logged for it."""

    n: int
    command: bytes = b""
    receive: bytes = b""
    sizes: list[int] = field(default_factory=list)


def unescape(text: str) -> bytes:
    """The logger writes bytes outside printable ASCII as \\xNN and a backslash as \\\\."""
    return _ESC.sub(lambda m: bytes([int(m[1], 16)]) if m[1] else b"\\", text.encode("latin-1"))


def load(name: str) -> list[Exchange]:
    out: dict[int, Exchange] = {}
    for line in (DATA / name).read_text(encoding="latin-1").splitlines():
        m = _LINE.search(line)
        if not m:
            continue
        ex = out.setdefault(int(m[1]), Exchange(int(m[1])))
        raw = unescape(m[4])
        if m[2] == "command":
            ex.command += raw
        else:
            ex.receive += raw
            ex.sizes.append(int(m[3]))
    return [out[k] for k in sorted(out)]


POLARIS = "igstk_polaris_stream_08_31_2005_NDICommandInterpreter.txt"
STRESS = "igstk_polaris_stream_NDICommandInterpreterStress.txt"
AURORA = "igstk_aurora_stream_09_28_2005.txt"
