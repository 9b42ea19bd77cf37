"""Opening a lab's modem: its simulator (child process or in-process) or the real device.

Failure modes: ConfigError for a real modem in virtual mode, DeviceError from the simulator
process or the driver.
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

from bench.clock import Clock, RealClock
from bench.lab import Lab
from bench.simproc import ChildProcess
from drivers.errors import ConfigError
from drivers.modem.base import Modem


@contextlib.contextmanager
def modem_simulator(lab: Lab) -> Iterator[ChildProcess]:
    """The lab's simulated modem served by its own process (`hil-bench sim serve --device
    modem`: a pty or a TCP port); its address is the process's `url`. Stopped on exit."""
    with ChildProcess.for_modem(lab.path) as proc:
        yield proc


@contextlib.contextmanager
def open_modem(lab: Lab, mode: str = "wire", clock: Clock | None = None,
               simulators: list[dict[str, Any]] | None = None) -> Iterator[Modem | None]:
    """The lab's modem, connected (None when the lab has no `modem:` section); closed on exit.

    wire mode: a simulated modem is served by its own process (its ready line appended to
    `simulators`); a real one is opened at its configured address. virtual mode: the simulated
    modem's profile in-process on `clock` (ConfigError for a real modem).
    """
    entry = lab.modem
    if entry is None:
        yield None
        return
    with contextlib.ExitStack() as stack:
        modem: Modem
        if mode == "virtual":
            if not entry.simulate or entry.sim_params is None:
                raise ConfigError(f"{lab.path}: virtual mode needs a simulated modem "
                                  f"(simulate: true with a simulator: section)")
            from drivers.sim.modem_inprocess import InProcessModem
            modem = InProcessModem(entry.sim_params.profile, (clock or RealClock()).now,
                                   lab.name)
        else:
            url = None
            if entry.simulate:
                proc = stack.enter_context(modem_simulator(lab))
                if simulators is not None:
                    simulators.append(proc.info)
                url = proc.url
            modem = entry.spec.open(url)
        stack.enter_context(modem)
        yield modem
