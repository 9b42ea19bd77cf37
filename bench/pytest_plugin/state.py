"""Shared state of the pytest plugin: per-config `State`, stash keys, and the skip-or-fail rule.

Kept in `config.stash` / `item.stash`, never in module globals, so in-process pytest runs
(pytester) and xdist workers never see each other's state.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.lab import Lab
from bench.pytest_plugin.devices import MISSING, DeviceState
from bench.pytest_plugin.options import Settings
from bench.pytest_plugin.results import RunRecord
from bench.pytest_plugin.traffic import TrafficLog
from drivers.errors import DeviceError


class State:
    """Per-config state of the plugin (kept in config.stash, never in module globals)."""

    def __init__(self, settings: Settings, lab: Lab, devices: dict[str, DeviceState],
                 out_dir: Path, worker: str) -> None:
        self.settings = settings
        self.lab = lab
        self.devices = devices
        self.out_dir = out_dir
        self.worker = worker
        self.record = RunRecord()


STATE = pytest.StashKey[State]()
FAIL_REASON = pytest.StashKey[str]()
USED = pytest.StashKey[bool]()
TRAFFIC = pytest.StashKey[TrafficLog]()
ROBOT_NAME = pytest.StashKey[str]()
IMPAIRED = pytest.StashKey[Any]()
OUTCOME = pytest.StashKey[str]()
RECORDING = pytest.StashKey[str]()


def hardware_devices(item: pytest.Item) -> list[str]:
    """The devices a test's `hardware` marks ask for (no argument: the robot)."""
    names: list[str] = []
    for mark in item.iter_markers("hardware"):
        names += [str(a) for a in mark.args] or ["robot"]
    return list(dict.fromkeys(names))


def how_to_run(st: State) -> str:
    lab = st.lab.path if st.lab.has_real_hardware else "LAB.yaml"
    return f"run on the bench with: pytest --bench-mode hw --bench-hardware {lab} --bench-arm"


def fail_rule(st: State, dev: DeviceState | None) -> str | None:
    """Why a test that cannot have `dev` fails instead of skipping; None when it skips.

    sim mode: skip (nobody expects hardware there). hw/auto mode: a device the lab declares real
    that did not answer (MISSING) fails, unless --bench-allow-missing; under --bench-strict
    every unavailable device fails (also a fallback to the simulator or a device the lab lacks).
    """
    s = st.settings
    if s.mode == "sim":
        return None
    if s.strict:
        return "--bench-strict"
    if dev is not None and dev.use == MISSING and not s.allow_missing:
        return f"--bench-mode {s.mode} (--bench-allow-missing skips instead)"
    return None


def unavailable(item: pytest.Item, st: State, reason: str, at_collection: bool = False,
                dev: DeviceState | None = None) -> None:
    """Skip the test, or mark it to fail in its call when `fail_rule` says so."""
    rule = fail_rule(st, dev)
    if rule is not None:
        item.stash[FAIL_REASON] = f"{rule}: {reason}"
    elif at_collection:
        item.add_marker(pytest.mark.skip(reason=reason))
    else:
        pytest.skip(reason)


class Unavailable:
    """Stands in for a device in a test that --bench-strict fails before its body runs."""

    def __init__(self, reason: str) -> None:
        self._reason = reason

    def __getattr__(self, name: str) -> Any:
        raise DeviceError(self._reason)
