"""Output paths, checked before any device is opened, and run folders owned by one run.

`claim_run_dir` makes (or reuses) a run folder and holds an exclusive lock on
``<dir>/.hil-bench.lock`` for as long as the run lasts, so two runs given the same ``--out`` cannot
both write into it (the second is refused at once, naming the first one's pid). A folder that
already holds an earlier run's files (`RUN_FILES`) is refused unless ``force`` is set; other files
in it (a lab file next to its results, say) are left alone and do not count.
`check_output_file` checks a file to be written (``record -o``, ``session export --out``): not a
folder, in an existing folder we may write into.

Failure mode: `ConfigError` (exit code 2) naming the option, the path and the reason; nothing is
sent to any device before these checks pass.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from drivers.errors import ConfigError

LOCK_NAME = ".hil-bench.lock"
_current: list[Path] = []      # the run folders owned by this process, innermost last
#: what a run, record or sweep writes into its folder: finding one means an earlier run was here
RUN_FILES = ("report.json", "session.mcap", "junit.xml", "report.html", "sim-robot.jsonl")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


@contextlib.contextmanager
def claim_run_dir(path: Path, option: str = "--out", force: bool = False) -> Iterator[Path]:
    """Create `path` (with parents) and own it until the block ends.

    Refused (ConfigError): `path` or a parent is a file; it cannot be created or written; another
    live run holds its lock; it holds an earlier run's files and `force` is false.
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"{option} {path}: a parent of it is a file, not a folder") from None
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot create the folder: {_reason(exc)}") from None
    lock_path = path / LOCK_NAME
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigError(f"{option} {path}: cannot write into the folder: {_reason(exc)}"
                          ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise ConfigError(f"{option} {path}: another hil-bench run (pid {other}) is writing "
                              f"into this folder; give each run its own --out") from None
        earlier = [name for name in RUN_FILES if (path / name).exists()]
        if earlier and not force:
            raise ConfigError(f"{option} {path}: holds an earlier run's {earlier[0]}; choose "
                              f"another folder or give --force to write over it")
        for name in earlier:    # --force: the old run's files go, so nothing mixes with them
            (path / name).unlink(missing_ok=True)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _current.append(path)
        try:
            yield path
        finally:
            _current.remove(path)
    finally:
        os.close(fd)        # releases the lock; the file stays (harmless, tells who ran last)


def scratch_dir() -> Path | None:
    """The run folder this process owns (for temporary files: a run killed with SIGKILL leaves
    them in its own folder, not in /tmp), or None outside a run."""
    return _current[-1] if _current else None


def check_output_file(path: Path, option: str) -> Path:
    """`path` can be written as a file: not a folder, its folder exists and is writable."""
    if path.is_dir():
        raise ConfigError(f"{option} {path}: is a folder; give a file name")
    parent = path.parent
    if not parent.exists():
        raise ConfigError(f"{option} {path}: folder {parent} does not exist")
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: cannot write into {parent}: permission denied")
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"{option} {path}: the file is not writable")
    return path
