"""Network impairment for bench tests: `--bench-network`, `@pytest.mark.network`, `network`.

The robot a test gets is wrapped in the impairment engine's `ImpairedArm` (bench/impair) on the
real clock: every call crosses a link built from the profile, so commands take effect one uplink
delay later and readings are one downlink delay old, with the profile's loss and outages. Every
injected delay, loss and outage goes to the test's traffic log ("network" lines).

Profile for a test: its ``@pytest.mark.network(NAME|FILE)``, else ``--bench-network``, else none
(no wrapper at all). The `network` fixture switches profile inside a test.

Not yet: impairment on the wire (the TCP proxy between driver and device); until it lands the
delay is applied at the message level in the test process, which is what `hil-bench run
--network` does in virtual mode.
"""
from __future__ import annotations

import zlib
from typing import Any

import pytest

from bench.clock import RealClock
from bench.impair import ImpairedArm, Profile, load_profile
from bench.observer import RunObserver
from drivers.errors import BenchError
from drivers.robot import RobotArm


def check_available(profile: str) -> None:
    """For `--bench-network`: UsageError (one line, naming the profile) when it cannot load."""
    try:
        load_profile(profile)
    except BenchError as exc:
        raise pytest.UsageError(f"--bench-network: {exc}") from None


def mark_problem(profile: str) -> str | None:
    """Why a test marked ``network(profile)`` cannot run (a bad profile), or None."""
    try:
        load_profile(profile)
    except BenchError as exc:
        return f"@pytest.mark.network({profile!r}): {exc}"
    return None


def profile_for(item: pytest.Item, default: str | None) -> str | None:
    """The profile name or file this test runs under, or None."""
    mark = item.get_closest_marker("network")
    return str(mark.args[0]) if mark is not None and mark.args else default


def seed_for(nodeid: str) -> int:
    """A seed that is stable for a test id (the same test sees the same link every run)."""
    return zlib.crc32(nodeid.encode("utf-8"))


def wrap(item: pytest.Item, inner: RobotArm, profile_name: str | None, observer: RunObserver,
         timeout_s: float, retries: int, force: bool) -> tuple[RobotArm, ImpairedArm | None]:
    """`inner` behind the test's profile; with `force` (the network fixture) even when none."""
    if profile_name is None and not force:
        return inner, None
    profile = load_profile(profile_name or "ideal")
    arm = ImpairedArm(inner, profile, RealClock(), seed=seed_for(item.nodeid),
                      observer=observer, timeout_s=timeout_s, retries=retries)
    return arm, arm


class NetworkControl:
    """What the `network` fixture returns: the robot link's impairment, switchable in a test."""

    def __init__(self, arm: ImpairedArm) -> None:
        self._arm = arm

    @property
    def profile(self) -> str:
        """The name of the profile in force."""
        return self._arm.profile_name

    def set(self, profile: str | Profile) -> None:
        """Switch to `profile` (built-in name, YAML file or a loaded Profile) from now on.

        Raises ConfigError for an unknown name or a bad file.
        """
        p = profile if isinstance(profile, Profile) else load_profile(profile)
        self._arm.set_profile(p)

    def off(self) -> None:
        """No impairment from now on (the `ideal` profile)."""
        self.set("ideal")


def describe(arm: Any) -> str | None:
    return getattr(arm, "profile_name", None)
