"""pytest access to recorded sessions: replay a named fixture session and get the comparison.

    from bench.session.testing import replay
    assert replay("screw-guide", network="5g-weak-to-strong").passed

Names are the files in `fixtures/sessions/` without `.mcap` (`iso-cube`, `screw-guide`,
`teleop-stream`); a path to any session file works too. Virtual mode by default (in-process,
deterministic, faster than real time). Failure modes: ConfigError for an unknown name.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from bench.session.compare import Comparison
from bench.session.replay import replay_session
from drivers.errors import ConfigError


def sessions_dir() -> Path:
    """The folder of the fixture sessions shipped with the package."""
    return Path(str(files("fixtures") / "sessions"))


def fixture_names() -> list[str]:
    return sorted(p.stem for p in sessions_dir().glob("*.mcap"))


def session_path(name: str) -> Path:
    """A fixture session by name, or `name` itself when it is an existing file."""
    p = Path(name)
    if p.suffix == ".mcap" and p.is_file():
        return p
    candidate = sessions_dir() / f"{name}.mcap"
    if not candidate.is_file():
        raise ConfigError(f"unknown session {name!r} (fixtures: {', '.join(fixture_names())}; "
                          f"or give a path to a .mcap file)")
    return candidate


def replay(name: str, network: str | None = None, mode: str = "virtual",
           **kwargs: Any) -> Comparison:
    """Replay fixture session `name` under `network` (None: its recorded delays) in `mode`."""
    return replay_session(session_path(name), network=network, mode=mode, **kwargs)
