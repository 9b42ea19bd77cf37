"""Opening a lab's robot: the simulator (child process or in-process), the impairment proxy on its
link, the driver, in that order, and closing them in reverse.

Who calls it: `bench.rig.Rig` (the CLI's run, record, replay, `benchmarks/soak.py`) and the pytest
plugin's `Bench` (which keeps the raw arm for a whole session and puts a proxy per test in front
of `robot_simulator` / `robot_endpoint`). Failure modes: ConfigError when the lab cannot be
opened in the mode asked (virtual mode on real hardware, impairment with no known link),
DeviceError from the simulator process, the proxy or the driver.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

from bench.clock import Clock
from bench.impair import ImpairedArm, NetworkProfile
from bench.impair.wire import ForwardEvents, impaired_endpoint, tcp_link
from bench.lab import Lab
from bench.observer import RunObserver
from bench.simproc import ChildProcess
from drivers.endpoint import Endpoint
from drivers.errors import ConfigError
from drivers.robot import RobotArm
from drivers.sim.inprocess import InProcessArm
from drivers.sim.shape import shaped


def robot_endpoint(lab: Lab) -> Endpoint | None:
    """Where the lab's real robot is (its configured link), or None when the lab does not say."""
    return lab.robot.spec.endpoint()


@contextlib.contextmanager
def robot_simulator(lab: Lab, seed: int | None = None,
                    journal: Path | None = None) -> Iterator[tuple[ChildProcess, Endpoint]]:
    """The lab's simulated robot served by its own process (`hil-bench sim serve --device robot`
    on a free port of 127.0.0.1, or a pty), stopped on exit; yields the process and its endpoint
    described with the lab link's framing."""
    with ChildProcess.for_robot(lab.path, seed, journal) as proc:
        endpoint = lab.robot.spec.endpoint(proc.endpoint)
        assert endpoint is not None     # an address was given
        if lab.instrument is not None and lab.instrument.simulate:
            # the same process serves the lab's simulated instrument, watching this arm
            proc.info = {**proc.info, "instrument": proc.read_ready()}
        yield proc, endpoint


@contextlib.contextmanager
def open_robot(lab: Lab, mode: str, seed: int, clock: Clock,
               simulators: list[dict[str, Any]] | None = None, network: NetworkProfile | None = None,
               observer: RunObserver | None = None, journal: Path | None = None,
               proxies: list[dict[str, Any]] | None = None,
               inprocess: list[InProcessArm] | None = None) -> Iterator[RobotArm]:
    """The lab's robot for `mode` (``wire`` or ``virtual``), connected; closed on exit.

    wire mode: a simulated robot is served by its own process (its ready line appended to
    `simulators`, its commands journalled to `journal`); a real one is opened at its configured
    link. With a non-ideal `network` the link goes through the TCP or serial impairment proxy as a
    child process (its ready line appended to `proxies`), and every injected delay, loss and
    outage is told to `observer`. virtual mode: the simulated arm in-process on `clock`, seen
    through the lab's wire shape (drivers/sim/shape.py), behind the message-level `ImpairedArm`
    when impaired.
    """
    impaired = network is not None and not network.ideal
    robot = lab.robot
    spec = robot.spec
    if mode == "virtual":
        if not robot.simulate or robot.sim is None:
            raise ConfigError(f"{lab.path}: virtual mode needs a simulated robot "
                              f"(simulate: true with a simulator: section)")
        sim_arm = InProcessArm(robot.sim.arm_params(seed), clock.now, name=lab.name)
        with sim_arm as arm:
            if inprocess is not None:       # an in-process instrument watches this arm
                inprocess.append(sim_arm)
            if impaired:
                assert network is not None
                # seen through what the lab's protocol carries (axes, register steps, read-only),
                # as the wire driver sees the simulator: both modes agree about one lab;
                # a TCP link retransmits what the network loses (bench.impair.tcp)
                yield ImpairedArm(shaped(arm, spec), network, clock, seed, observer,
                                  timeout_s=spec.timeout_s, retries=spec.retries,
                                  tcp=network.tcp if tcp_link(spec) else None)
            else:
                yield shaped(arm, spec)
        return
    with contextlib.ExitStack() as stack:
        if robot.simulate:
            proc, endpoint = stack.enter_context(robot_simulator(lab, seed, journal))
            if simulators is not None:
                simulators.append(proc.info)
            target: Endpoint | None = endpoint
        else:
            target = robot_endpoint(lab)
        if not impaired:
            arm = stack.enter_context(spec.open(target if robot.simulate else None))
            yield arm
            return
        assert network is not None
        if target is None:
            raise ConfigError(f"{lab.path}: --network: cannot tell where the robot link goes "
                              f"(no host/port or serial port)")
        proxy = stack.enter_context(impaired_endpoint(target, network, seed, observer))
        if proxies is not None:
            proxies.append(proxy.info)
        arm = ForwardEvents(spec.open(proxy.endpoint), proxy.drain, network.name)
        stack.enter_context(arm)
        yield arm
