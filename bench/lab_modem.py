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

from dataclasses import dataclass
from pathlib import Path

from drivers.config import Section
from drivers.modem.registry import MODEM_DRIVERS, ModemSpec
from drivers.sim.modem_params import ModemSimParams, modem_sim_from_section


@dataclass(frozen=True)
class ModemEntry:
    """The lab's modem: its driver recipe, sampling period, and simulator when simulated."""

    spec: ModemSpec
    sample_interval_s: float
    simulate: bool
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
    if not simulate and spec.endpoint() is None:
        raise ms.error("url", f"required for a real {driver} modem (or set simulate: true)")
    params = None
    if simulator is not None:
        params = modem_sim_from_section(simulator.fresh(), spec.vendor, base_dir)
    ms.done()
    return ModemEntry(spec=spec, sample_interval_s=interval, simulate=simulate,
                      sim_params=params, base_dir=base_dir)
