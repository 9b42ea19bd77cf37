"""Network conditions for a replay: the recorded delays, none, or a named profile.

Placeholder until the impairment engine (bench.impair) is available: only "ideal" and sessions
without recorded network events can be replayed.
"""
from __future__ import annotations

from pathlib import Path

from bench.clock import Clock
from bench.observer import RunObserver
from drivers.errors import ConfigError
from drivers.robot import RobotArm


def describe(network: str | None) -> str:
    return network or "recorded"


def wrap(arm: RobotArm, network: str | None, session: str | Path, clock: Clock,
         obs: RunObserver, seed: int) -> RobotArm:
    if network in (None, "recorded", "ideal", "none"):
        return arm
    raise ConfigError(f"--network {network}: network profiles are not available in this build")


def wrap_for_run(arm: RobotArm, network: str | None, clock: Clock, obs: RunObserver,
                 seed: int) -> RobotArm:
    if network in (None, "ideal", "none"):
        return arm
    raise ConfigError(f"--network {network}: network profiles are not available in this build")
