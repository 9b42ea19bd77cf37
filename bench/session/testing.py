"""pytest access to recorded sessions: replay a named fixture session and get the comparison.

    from bench.session.testing import replay
    assert replay("screw-guide", network="5g-weak-to-strong").passed

Names are the files in `fixtures/sessions/` without `.mcap` (`iso-cube`, `screw-guide`,
`teleop-stream`); a path to any session file works too. Virtual mode by default (in-process,
deterministic, faster than real time). Failure modes: ConfigError for an unknown name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.session.compare import Comparison
from bench.session.replay import replay_session
from bench.paths import builtin_dir, builtin_names, resolve


def sessions_dir() -> Path:
    """The folder of the fixture sessions shipped with the package."""
    return builtin_dir("session")


def fixture_names() -> list[str]:
    return builtin_names("session")


def session_path(name: str | Path) -> Path:
    """A fixture session by name, or `name` itself when it is an existing file.

    Raises ConfigError listing the fixtures for an unknown name, naming the file when a path
    does not exist."""
    return resolve(str(name), "session")


def replay(name: str, network: str | None = None, mode: str = "virtual",
           **kwargs: Any) -> Comparison:
    """Replay fixture session `name` under `network` (None: its recorded delays) in `mode`."""
    return replay_session(session_path(name), network=network, mode=mode, **kwargs)
