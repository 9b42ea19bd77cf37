#!/usr/bin/env python3
"""Quick-start helper: keeps a local virtual environment in .venv and runs the bench or the tests in it.

    python3 dev.py run [ARGS...]    -> hil-bench run ARGS... (the built-in simulator by default)
    python3 dev.py test [ARGS...]   -> python -m pytest ARGS...
    python3 dev.py hil-bench ARGS   -> any hil-bench command

The environment is created on first use and reinstalled when pyproject.toml changes.
Only the standard library is used here, so a fresh machine with Python >= 3.11 and pip is enough.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("HIL_BENCH_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".hil-bench-installed"


def _fingerprint() -> str:
    # setup.py maps the data folders into the packages: a change there needs a reinstall too
    return hashlib.sha256(b"".join((ROOT / f).read_bytes()
                                   for f in ("pyproject.toml", "setup.py"))).hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the package with its test extras, unless already up to date."""
    if sys.version_info < (3, 11):
        sys.exit(f"dev.py: Python >= 3.11 is required, this is {sys.version.split()[0]}")
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not (BIN / "python").exists():
        print(f"dev.py: creating virtual environment {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing hil-bench and its test dependencies (first run only)", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    ensure_venv()
    cmd, rest = argv[0], argv[1:]
    if cmd == "run":
        args = [str(BIN / "hil-bench"), "run", *rest]
    elif cmd == "test":
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    elif cmd == "hil-bench":
        args = [str(BIN / "hil-bench"), *rest]
    else:
        print(f"dev.py: unknown command {cmd!r} (use run, test or hil-bench)", file=sys.stderr)
        return 2
    return subprocess.call(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
