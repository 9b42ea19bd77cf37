"""Opening a lab's measuring instrument (`instrument:` section), for the run that measures with it.

* a real instrument: its driver at its configured address (wire mode only);
* a simulated one watches the simulated arm's TRUE pose: in wire mode it is served by the robot
  simulator's own process (whose second ready line says where: a pty path, ``socket://`` or
  ``host:port``), in virtual mode it runs in-process on the run's clock next to the in-process
  arm. A simulated instrument without a simulated robot has nothing to watch: ConfigError.
Failure modes: ConfigError (the combination cannot be opened), DeviceError from the driver.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from bench.clock import Clock
from bench.lab import Lab
from drivers.errors import ConfigError, DeviceError
from drivers.instrument.base import Instrument
from drivers.sim.inprocess import InProcessArm
from drivers.sim.instrument_inprocess import InProcessTracker


@contextlib.contextmanager
def open_instrument(lab: Lab, mode: str, clock: Clock, simulators: list[dict[str, Any]],
                    arms: list[InProcessArm]) -> Iterator[Instrument | None]:
    """The lab's instrument, connected (None when the lab has none); closed on exit. Open the
    robot first: `simulators` (wire) or `arms` (virtual) tell where a simulated one is."""
    entry = lab.instrument
    if entry is None:
        yield None
        return
    if entry.sim_params is not None:
        if not lab.robot.simulate:
            raise ConfigError(f"{lab.path}: instrument: a simulated instrument needs the "
                              "simulated robot to watch (remove its simulator: section to use "
                              "the real one)")
        if mode == "virtual":
            if not arms or arms[0].arm is None:
                raise DeviceError("the in-process arm is not open: open the robot first")
            sim_arm = arms[0].arm
            tracker = InProcessTracker(entry.sim_params, sim_arm.true_pose, clock.now)
            with tracker:
                yield tracker
            return
        served = next((s["instrument"] for s in simulators if "instrument" in s), None)
        if served is None:
            raise DeviceError("the robot simulator did not serve the lab's instrument")
        inst = entry.spec.open(str(served["url"]), clock.now_ns)
    else:
        if mode == "virtual":
            raise ConfigError(f"{lab.path}: instrument: virtual mode cannot use a real "
                              "instrument (use --mode wire)")
        inst = entry.spec.open(None, clock.now_ns)
    with inst:
        yield inst
