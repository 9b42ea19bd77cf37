"""Network impairment for bench tests: `--bench-network`, `@pytest.mark.network`, `network`.

The impairment engine (`bench/impair`: profiles, TCP proxy, virtual-time wrapper) is not in this
build yet, so for now: `--bench-network` is a usage error, a test marked `network(...)` or using
the `network` fixture is skipped with that reason, and the robot is not impaired. Every message
says so; nothing pretends to impair.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import pytest

NOT_YET = ("network impairment is not available in this build yet (it comes with the "
           "impairment engine, bench/impair)")


def available() -> bool:
    """True when the impairment engine can be used."""
    return False


def check_available(profile: str) -> None:
    """For `--bench-network`: UsageError when impairment cannot be applied."""
    if not available():
        raise pytest.UsageError(f"--bench-network {profile}: {NOT_YET}")


def unavailable_reason(profile: str) -> str | None:
    """Why a test marked ``network(profile)`` cannot run, or None when it can."""
    if not available():
        return f"network({profile!r}): {NOT_YET}"
    return None


@contextlib.contextmanager
def applied(request: pytest.FixtureRequest, bench: Any, arm: Any) -> Iterator[Any]:
    """The arm a test gets, under this test's profile (none while impairment is missing)."""
    yield arm


def controller(request: pytest.FixtureRequest, bench: Any) -> Any:
    """The `network` fixture's value: skipped while impairment is missing."""
    pytest.skip(f"network fixture: {NOT_YET}")
