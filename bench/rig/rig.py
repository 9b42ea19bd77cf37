"""`Rig`: one lab's devices opened for one run, in one place, closed in reverse order.

    rig = Rig(lab, mode="wire", clock=RealClock(), seed=1, network=profile, observer=observers)
    with rig:
        arm = rig.robot()      # simulator process + impairment proxy + driver, connected
        modem = rig.modem()    # simulator process or real modem, connected (None: no modem)
        tracker = rig.instrument()   # the lab's measuring instrument (None: none); after robot()
    # everything stopped and closed here, also after errors and Ctrl-C

`rig.simulators` and `rig.proxies` collect the ready lines of the child processes started (for
report.json and the session). Devices are opened on first use, so a command that needs only the
robot never starts the modem's simulator. `rig.udp_link(UdpEndpoint(host, port))` puts the UDP
impairment proxy in front of a UDP device or stream (video, haptics) under the same profile.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.clock import Clock, RealClock, VirtualClock
from bench.impair import NetworkProfile, load_profile
from bench.impair.wire import Proxy, impaired_endpoint
from bench.lab import Lab
from bench.observer import RunObserver
from bench.rig.instrument import open_instrument
from bench.rig.modem import open_modem
from bench.rig.robot import open_robot
from drivers.endpoint import UdpEndpoint
from drivers.errors import ConfigError
from drivers.instrument.base import Instrument
from drivers.modem.base import Modem
from drivers.robot import RobotArm
from drivers.sim.inprocess import InProcessArm

MODES = ("wire", "virtual")


class Rig:
    """A lab's robot and modem for one run.

    `mode`: ``wire`` (real sockets and serial lines, real time; simulators as child processes)
    or ``virtual`` (in-process simulators on `clock`, a VirtualClock by default). `network`: the
    robot link's impairment (None or an ideal profile: none). `observer` hears every injected
    delay, loss and outage. `journal`: where a simulated robot logs the commands it executed.
    """

    def __init__(self, lab: Lab, mode: str = "wire", clock: Clock | None = None, *,
                 seed: int = 1, network: NetworkProfile | None = None,
                 observer: RunObserver | None = None, journal: Path | None = None) -> None:
        if mode not in MODES:
            raise ConfigError(f"--mode: unknown mode {mode!r} (use {' or '.join(MODES)})")
        self.lab = lab
        self.mode = mode
        self.clock: Clock = clock or (VirtualClock() if mode == "virtual" else RealClock())
        self.seed = seed
        self.network = network
        self.observer = observer
        self.journal = journal
        self.simulators: list[dict[str, Any]] = []
        self.proxies: list[dict[str, Any]] = []
        self._stack = contextlib.ExitStack()
        self._drains: list[Callable[[], int]] = []      # the UDP links' event forwarders
        self._robot: RobotArm | None = None
        self._modem: Modem | None = None
        self._modem_opened = False
        self._instrument: Instrument | None = None
        self._instrument_opened = False
        self._arms: list[InProcessArm] = []      # the in-process arm an instrument watches

    def robot(self) -> RobotArm:
        """The lab's robot, connected (opened on the first call). ConfigError, DeviceError."""
        if self._robot is None:
            self._robot = self._stack.enter_context(open_robot(
                self.lab, self.mode, self.seed, self.clock, self.simulators, self.network,
                self.observer, self.journal, self.proxies, self._arms))
        return self._robot

    def modem(self) -> Modem | None:
        """The lab's modem, connected (opened on the first call); None when the lab has none."""
        if not self._modem_opened:
            self._modem = self._stack.enter_context(open_modem(self.lab, self.mode, self.clock,
                                                               self.simulators))
            self._modem_opened = True
        return self._modem

    def instrument(self) -> Instrument | None:
        """The lab's measuring instrument, connected (opened on the first call, after the robot:
        a simulated one watches the simulated arm); None when the lab has none."""
        if not self._instrument_opened:
            self.robot()
            self._instrument = self._stack.enter_context(open_instrument(
                self.lab, self.mode, self.clock, self.simulators, self._arms))
            self._instrument_opened = True
        return self._instrument

    def close(self) -> None:
        """Close the devices and stop every child process, in reverse order of opening."""
        self._stack.close()
        self._robot = None
        self._modem = None
        self._modem_opened = False
        self._instrument = None
        self._instrument_opened = False
        self._arms.clear()
        self._drains.clear()

    def __enter__(self) -> "Rig":
        return self

    def udp_link(self, endpoint: UdpEndpoint) -> Proxy:
        """A UDP device or stream (video, haptics, telemetry) at `endpoint` behind the run's
        network profile (`ideal` when there is none): the UDP impairment proxy as a child
        process, its ready line in `proxies`; senders send to the returned proxy's `endpoint`.
        Every datagram's fate reaches `observer` by `drain()` and when the rig closes.
        DeviceError when the proxy does not start."""
        profile = self.network or load_profile("ideal")
        proxy = self._stack.enter_context(impaired_endpoint(
            endpoint, profile, self.seed + len(self.proxies), self.observer))
        self.proxies.append(proxy.info)
        self._drains.append(proxy.drain)
        return proxy

    def drain(self) -> int:
        """Forward the UDP links' new datagram fates to the observer; returns how many."""
        return sum(d() for d in self._drains)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # the error goes through the stack: a simulator process that died turns the driver's
        # socket error into "simulator process exited with status N" (bench/simproc.py)
        try:
            self._stack.__exit__(exc_type, exc, tb)
        finally:
            self.close()
