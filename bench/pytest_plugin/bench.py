"""`Bench`: the lab of one pytest session (one per xdist worker), what the `bench` fixture returns.

Devices are opened on first use and kept open for the whole session; `close()` (run by the
session fixture's teardown, also after failures and on Ctrl-C) closes them and stops every
simulator process. Each process starts its own simulators on free ports of 127.0.0.1, so xdist
workers never share a port or a simulated arm.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

from bench.lab import Lab
from bench.pytest_plugin.devices import REAL, SIM, DeviceState
from bench.pytest_plugin.options import Settings
from bench.rig import modem_simulator, robot_endpoint, robot_simulator
from bench.simproc import ChildProcess
from drivers.endpoint import Endpoint
from drivers.errors import DeviceError
from drivers.instrument.base import Instrument
from drivers.modem.base import Modem
from drivers.robot import RobotArm


class SimHandle:
    """A device's simulator process, for tests marked `sim_only` that act on the simulator."""

    def __init__(self, bench: "Bench", device: str, proc: ChildProcess) -> None:
        self._bench = bench
        self.device = device
        self.proc = proc

    @property
    def endpoint(self) -> tuple[str, int] | str:
        """(host, port) the simulator listens on, or its pty path."""
        return self.proc.endpoint

    @property
    def pid(self) -> int:
        return int(self.proc.info["pid"])

    def kill(self) -> None:
        """Stop the simulator now (SIGTERM): the device drops off the wire, as on a power cut."""
        self.proc.stop()

    def restart(self) -> None:
        """Start the simulator again on the same port and reconnect the session's arm to it."""
        self._bench._restart_sim(self.device)


class Bench:
    """The session's lab: settings, per-device decisions, lazily opened devices."""

    def __init__(self, lab: Lab, settings: Settings, devices: dict[str, DeviceState],
                 out_dir: Path, worker: str = "main") -> None:
        self.lab = lab
        self.settings = settings
        self.devices = devices
        self.out_dir = out_dir
        self.worker = worker
        self._stack = contextlib.ExitStack()
        self._robot: RobotArm | None = None
        self._modem: Modem | None = None
        self._instrument: Instrument | None = None
        self._sims: dict[str, ChildProcess] = {}
        self._robot_sim_endpoint: Endpoint | None = None

    @property
    def mode(self) -> str:
        return self.settings.mode

    @property
    def armed(self) -> bool:
        return self.settings.arm

    def is_real(self, device: str) -> bool:
        """True when `device` is the real hardware in this run."""
        st = self.devices.get(device)
        return st is not None and st.use == REAL

    def robot_arm(self) -> RobotArm:
        """The session's connected robot (raw driver, no guard): opened once, on first use.

        Raises DeviceError when it is not available in this run, or cannot be opened.
        """
        if self._robot is not None:
            proc = self._sims.get("robot")
            if proc is not None and (proc.proc is None or proc.proc.poll() is not None):
                # a previous test stopped the simulator (fault injection) and did not bring it
                # back: later tests get a fresh one, not that test's failure
                self._restart_sim("robot")
            return self._robot
        st = self.devices["robot"]
        if st.use == SIM:
            if self._robot_sim_endpoint is None:
                proc, self._robot_sim_endpoint = self._stack.enter_context(
                    robot_simulator(self.lab))
                self._sims["robot"] = proc
            arm = self.lab.robot.spec.open(self._robot_sim_endpoint)
        elif st.use == REAL:
            arm = self.lab.robot.spec.open(None)
        else:
            raise DeviceError(f"robot is not available: {st.note}")
        arm.connect()
        self._robot = arm
        self._stack.callback(self._close_robot)
        return arm

    def robot_wire(self) -> tuple[Endpoint, Callable[..., RobotArm]] | None:
        """(endpoint, opener) of the robot's link, for putting an impairment proxy in between
        (the same endpoint `bench.rig` gives `hil-bench run`): the simulator's, or the real
        robot's configured link. None when it cannot be told. The opener returns a not yet
        connected RobotArm."""
        spec = self.lab.robot.spec
        st = self.devices["robot"]
        endpoint: Endpoint | None
        if st.use == SIM:
            self.robot_arm()                   # starts the simulator
            endpoint = self._robot_sim_endpoint
        elif st.use == REAL:
            endpoint = robot_endpoint(self.lab)
        else:
            return None
        return (endpoint, spec.open) if endpoint else None

    def modem_device(self) -> Modem:
        """The session's connected modem (raw driver): opened once, on first use.

        A simulated modem is served by its own process (`hil-bench sim serve --device modem`,
        a pty or socket). Raises DeviceError when it is not available or cannot be opened.
        """
        if self._modem is not None:
            return self._modem
        st = self.devices["modem"]
        entry = self.lab.modem
        if entry is None or st.use not in (SIM, REAL):
            raise DeviceError(f"modem is not available: {st.note}")
        url = None
        if st.use == SIM:
            proc = self._stack.enter_context(modem_simulator(self.lab))
            self._sims["modem"] = proc
            url = proc.url
        modem = entry.spec.open(url)
        modem.connect()
        self._modem = modem
        self._stack.callback(modem.close)
        return modem

    def instrument_device(self) -> Instrument:
        """The session's connected measuring instrument: opened once, on first use.

        A simulated instrument is served by the robot simulator's process, watching the
        simulated arm's true pose (so the robot simulator is started first). Raises DeviceError
        when it is not available or cannot be opened.
        """
        if self._instrument is not None:
            return self._instrument
        st = self.devices["instrument"]
        entry = self.lab.instrument
        if entry is None or st.use not in (SIM, REAL):
            raise DeviceError(f"instrument is not available: {st.note}")
        url = None
        if st.use == SIM:
            if self.devices["robot"].use != SIM:
                raise DeviceError("a simulated instrument needs the simulated robot")
            self.robot_arm()
            served = self._sims["robot"].info.get("instrument")
            if served is None:
                raise DeviceError("the robot simulator did not serve the lab's instrument")
            url = str(served["url"])
        inst = entry.spec.open(url)
        inst.connect()
        self._instrument = inst
        self._stack.callback(inst.close)
        return inst

    def _close_robot(self) -> None:
        if self._robot is not None:
            self._robot.close()
            self._robot = None

    def simulator(self, device: str = "robot") -> SimHandle:
        """The simulator serving `device` (started if needed). DeviceError on real hardware."""
        if self.devices.get(device, None) is None or self.devices[device].use != SIM:
            raise DeviceError(f"{device} is not simulated in this run")
        if device == "robot":
            self.robot_arm()
        elif device == "modem":
            self.modem_device()
        return SimHandle(self, device, self._sims[device])

    def _restart_sim(self, device: str) -> None:
        if device != "robot":     # a modem simulator's pty path would change under the driver
            raise DeviceError(f"restarting the {device} simulator is not supported")
        old = self._sims[device]
        old.stop()
        endpoint = old.endpoint
        if not isinstance(endpoint, tuple):
            raise DeviceError(f"restarting a {device} simulator on a pty is not supported")
        args = list(old.args)
        args[args.index("--port") + 1] = str(endpoint[1])
        proc = ChildProcess(args)
        self._stack.enter_context(proc)
        self._sims[device] = proc
        if device == "robot" and self._robot is not None:
            self._robot.close()
            self._robot.connect()

    def close(self) -> None:
        """Close every device and stop every simulator. Never raises for device errors."""
        self._stack.close()

