"""The `modem:` section of a lab file: which modem, how to reach it, how often to sample it.

    modem:
      driver: at                 # or modbus (see drivers/modem/registry.py for each driver's keys)
      url: /dev/ttyUSB2
      vendor: quectel
      sample_interval: 0.5 s     # link sampling period during runs (default 1 s)
      simulate: true             # serve the `simulator:` instead of opening the real modem
      simulator: {vendor: quectel, transport: pty, profile: {trace: cicv5g_w2s_n8_v30_run01}}

Everything is validated at load time; ConfigError names the file, line and key.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from bench.clock import Clock, RealClock
from drivers.config import Section
from drivers.errors import ConfigError
from drivers.modem.base import Modem
from drivers.modem.registry import MODEM_DRIVERS, ModemSpec
from drivers.sim.modem_params import ModemSimParams, modem_sim_from_section

if TYPE_CHECKING:
    from bench.lab import Lab


@dataclass(frozen=True)
class ModemEntry:
    """The lab's modem: its driver recipe, sampling period, and simulator when simulated."""

    spec: ModemSpec
    sample_interval_s: float
    simulate: bool
    simulator: Section | None
    sim_params: ModemSimParams | None
    base_dir: Path | None = None


def load_modem_section(ms: Section, base_dir: Path | None) -> ModemEntry:
    """Validate a lab's `modem:` section (its keys are marked taken; call ms.done() after)."""
    driver = ms.get("driver", str, choices=sorted(MODEM_DRIVERS))
    simulate = ms.get("simulate", bool, False)
    interval = ms.quantity("sample_interval", "s", 1.0, min=0.01, max=3600)
    simulator = ms.section("simulator", None) if ms.has("simulator") else None
    if simulator is None:
        ms.raw("simulator", None)
    if simulate and simulator is None:
        raise ms.error("simulate", "a simulated modem needs a `simulator:` section")
    spec = MODEM_DRIVERS[driver](ms, base_dir)
    if not simulate and driver == "at" and not getattr(spec, "settings").url:
        raise ms.error("url", "required for a real AT modem (or set simulate: true)")
    params = None
    if simulator is not None:
        default_vendor = getattr(spec, "vendor", "quectel")
        params = modem_sim_from_section(Section(simulator.data, simulator.source,
                                                simulator.path, simulator.line),
                                        default_vendor, base_dir)
    ms.done()
    return ModemEntry(spec=spec, sample_interval_s=interval, simulate=simulate,
                      simulator=simulator, sim_params=params, base_dir=base_dir)


@contextlib.contextmanager
def open_lab_modem(lab: "Lab", mode: str = "wire", clock: Clock | None = None,
                   simulators: list[dict[str, Any]] | None = None) -> Iterator[Modem | None]:
    """The lab's modem, connected (None when the lab has no `modem:` section).

    wire mode: a simulated modem is served by its own `hil-bench sim serve --device modem`
    process (its ready line appended to `simulators`), stopped on exit; a real one is opened at
    its configured address. virtual mode: the simulated modem's profile in-process on `clock`
    (ConfigError for a real modem). Used by runs (link sampling), `hil-bench modem --lab` and
    the pytest plugin's `modem` fixture.
    """
    entry = lab.modem
    if entry is None:
        yield None
        return
    with contextlib.ExitStack() as stack:
        if mode == "virtual":
            if not entry.simulate or entry.sim_params is None:
                raise ConfigError(f"{lab.path}: virtual mode needs a simulated modem "
                                  f"(simulate: true with a simulator: section)")
            from drivers.sim.modem_inprocess import InProcessModem
            modem: Modem = InProcessModem(entry.sim_params.profile,
                                          (clock or RealClock()).now, lab.name)
        else:
            url = None
            if entry.simulate:
                from bench.simproc import SimProcess
                proc = stack.enter_context(SimProcess.for_modem(lab.path))
                if simulators is not None:
                    simulators.append(proc.info)
                url = proc.url
            modem = entry.spec.open(url)
        stack.enter_context(modem)
        yield modem
