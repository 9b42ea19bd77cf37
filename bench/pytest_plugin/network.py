"""Network impairment for bench tests: `--bench-network`, `@pytest.mark.network`, `network`.

Profile for a test: its ``@pytest.mark.network(NAME|FILE)``, else ``--bench-network``, else none
(the robot is not impaired at all). The `network` fixture switches profile inside a test.

On the wire (simulated or real robots on TCP or a serial line): the test's robot connection
goes through the impairment engine's proxy (`hil-bench netem proxy` for TCP, `netem serial` with
the link's framing for serial lines; its own process, precise timers), started for the test
between the driver and the device, exactly as `hil-bench run --network` does in wire mode.
Switching profile restarts the proxy and reconnects. When the link's endpoint cannot be told:
the impairment engine's message-level `ImpairedArm` on the real clock. Either way every injected
delay, loss and outage reaches the test's traffic log and recorded session ("network" events).
"""
from __future__ import annotations

import contextlib
import zlib
from typing import Any, Callable

import pytest

from bench.clock import RealClock
from bench.impair import ImpairedArm, NetworkProfile, load_profile
from bench.impair.wire import ForwardEvents, impaired_endpoint
from bench.observer import RunObserver
from drivers.endpoint import Endpoint
from drivers.errors import BenchError
from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm


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


class ProxiedArm(RobotArm):
    """The test's own connection to the robot through the TCP impairment proxy (wire mode).

    `open_arm(endpoint)` opens a not yet connected RobotArm at an endpoint. `set_profile`
    restarts the proxy under another profile and reconnects; `close` stops both.
    """

    def __init__(self, upstream: Endpoint, open_arm: Callable[..., RobotArm],
                 profile: NetworkProfile, seed: int, observer: RunObserver) -> None:
        self.upstream = upstream
        self.open_arm = open_arm
        self.proxy_info: dict[str, Any] = {}    # the running proxy's ready line
        self.seed = seed
        self.observer = observer
        self._stack = contextlib.ExitStack()
        self._arm: RobotArm | None = None
        self.profile_name = profile.name
        self._start(profile)

    @property
    def name(self) -> str:  # type: ignore[override]
        return self._arm.name if self._arm else "robot (proxy stopped)"

    def _start(self, profile: NetworkProfile) -> None:
        stack = contextlib.ExitStack()
        try:
            proxy = stack.enter_context(impaired_endpoint(self.upstream, profile, self.seed,
                                                          self.observer))
            self.proxy_info = proxy.info
            arm = ForwardEvents(self.open_arm(proxy.endpoint), proxy.drain, profile.name)
            arm.connect()
            stack.callback(arm.close)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        self._arm = arm
        self.profile_name = profile.name

    def set_profile(self, profile: NetworkProfile) -> None:
        """Restart the proxy under `profile` and reconnect (DeviceError if it cannot)."""
        self.close()
        self._start(profile)

    @property
    def arm(self) -> RobotArm:
        assert self._arm is not None
        return self._arm

    def connect(self) -> None:
        """Connected when the proxy started."""

    def close(self) -> None:
        self._arm = None
        self._stack.close()

    def read_pose(self) -> Pose:
        return self.arm.read_pose()

    def read_status(self) -> ArmStatus:
        return self.arm.read_status()

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        return self.arm.move_to(target, speed_mm_s)

    def stop(self) -> None:
        self.arm.stop()


def wrap(item: pytest.Item, inner: RobotArm, profile_name: str | None, observer: RunObserver,
         timeout_s: float, retries: int, force: bool,
         wire: tuple[Endpoint, Callable[..., RobotArm]] | None = None) -> tuple[RobotArm, Any]:
    """`inner` behind the test's profile; with `force` (the network fixture) even when none.

    `wire` = (device endpoint, opener) puts the TCP or serial proxy in between (the caller
    closes the returned ProxiedArm); without it the message-level ImpairedArm wraps `inner`.
    Returns (the arm to use, the impairment handle or None).
    """
    if profile_name is None and not force:
        return inner, None
    profile = load_profile(profile_name or "ideal")
    if wire is not None:
        proxied = ProxiedArm(wire[0], wire[1], profile, seed_for(item.nodeid), observer)
        return proxied, proxied
    arm = ImpairedArm(inner, profile, RealClock(), seed=seed_for(item.nodeid),
                      observer=observer, timeout_s=timeout_s, retries=retries)
    return arm, arm


class NetworkControl:
    """What the `network` fixture returns: the robot link's impairment, switchable in a test."""

    def __init__(self, arm: ImpairedArm | ProxiedArm) -> None:
        self._arm = arm

    @property
    def profile(self) -> str:
        """The name of the profile in force."""
        return self._arm.profile_name

    def set(self, profile: str | NetworkProfile) -> None:
        """Switch to `profile` (built-in name, YAML file or a loaded NetworkProfile) from now on.

        Raises ConfigError for an unknown name or a bad file.
        """
        p = profile if isinstance(profile, NetworkProfile) else load_profile(profile)
        self._arm.set_profile(p)

    def off(self) -> None:
        """No impairment from now on (the `ideal` profile)."""
        self.set("ideal")

