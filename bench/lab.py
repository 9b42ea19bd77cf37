"""Lab files (`hardware/*.yaml`): which devices, on which port, with which map and limits.

Everything is validated at load time (unknown keys, wrong types, bad units, missing maps), so a lab
file either loads completely or fails with one ConfigError naming the file, line and key.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lab_instrument import InstrumentEntry, load_instrument_section
from bench.lab_modem import ModemEntry, load_modem_section
from bench.paths import resolve
from bench.safety import Workspace, workspace_from_section
from drivers.config import Section, load_yaml_file
from drivers.errors import ConfigError
from drivers.registry import ROBOT_DRIVERS, RobotSpec
from drivers.sim.params import RobotSim, robot_sim_from_section


@dataclass(frozen=True)
class RobotEntry:
    """The lab's robot: its driver recipe, whether it is simulated, its simulator's parameters
    (parsed once from the `simulator:` section; None without one) and its envelope."""

    spec: RobotSpec
    simulate: bool
    sim: RobotSim | None
    workspace: Workspace | None


@dataclass(frozen=True)
class Lab:
    """A loaded lab description.

    A lab with `sites:` (`bench/sites/lab.py`) lists one Lab per site in `sites`, each named
    ``LAB#SITE`` with its own robot, modem, `network`, `arm` and `qualify` policy; the lab's own
    robot and modem are its first site's, so a command that drives one robot uses that site
    unless ``--lab LAB#SITE`` names another."""

    name: str
    path: Path
    robot: RobotEntry
    modem: ModemEntry | None = None
    #: the scenario `hil-bench run --lab NAME` runs when none is given (built-in name or path)
    scenario: str = "iso9283"
    site: str | None = None
    sites: tuple["Lab", ...] = ()
    network: str | None = None
    arm: bool = True
    qualify: Any = None
    tolerances: Any = None
    instrument: InstrumentEntry | None = None

    def site_lab(self, name: str) -> "Lab":
        """The site called `name`. Raises ConfigError naming the sites there are."""
        for s in self.sites:
            if s.site == name:
                return s
        known = ", ".join(s.site or "" for s in self.sites) or "none: the lab has no sites:"
        raise ConfigError(f"{self.path}: no site {name!r} (sites: {known})")

    @property
    def has_real_hardware(self) -> bool:
        return not self.robot.simulate


def load_lab(name_or_path: str) -> Lab:
    """Load a lab by built-in name (``sim``) or path; ``LAB#SITE`` loads one site of a lab with
    `sites:`. Raises ConfigError."""
    if "#" in name_or_path:
        base, _, site = name_or_path.rpartition("#")
        return load_lab(base).site_lab(site)
    path = resolve(name_or_path, "lab")
    top = Section(load_yaml_file(path), str(path))
    name = top.get("name", str)
    top.get("description", str, "")
    scenario = top.get("scenario", str, "iso9283")
    if "/" in scenario or scenario.endswith((".yaml", ".yml")):
        scenario = str(path.parent / scenario)      # a path is relative to the lab file
    if top.has("sites"):
        from bench.sites.lab import load_sites
        return load_sites(top, path, name, scenario)
    robot = robot_entry(top.section("robot"), path.parent)
    modem = load_modem_section(top.section("modem"), path.parent) if top.has("modem") else None
    qualify = None
    if top.has("qualify"):               # link qualification policy (docs/qualify.md)
        from bench.sites.lab import policy_from_sections
        qualify = policy_from_sections([top.section("qualify")])
    instrument = load_instrument_section(top.section("instrument"), path.parent) \
        if top.has("instrument") else None
    top.done()
    return Lab(name=name, path=path, robot=robot, modem=modem, scenario=scenario,
               qualify=qualify, instrument=instrument)


def robot_entry(rs: Section, base_dir: Path) -> RobotEntry:
    """Validate a `robot:` section (of a lab or of one of its sites). Raises ConfigError."""
    driver = rs.get("driver", str, choices=sorted(ROBOT_DRIVERS))
    simulate = rs.get("simulate", bool, False)
    simulator = rs.section("simulator", None) if rs.has("simulator") else None
    if simulator is None:
        rs.raw("simulator", None)
    if simulate and simulator is None:
        raise rs.error("simulate", "a simulated robot needs a `simulator:` section")
    workspace = workspace_from_section(rs.section("workspace")) if rs.has("workspace") else None
    if workspace is None:
        rs.raw("workspace", None)
    spec = ROBOT_DRIVERS[driver](rs, base_dir)
    rs.done()
    # parsed here, once: a typo fails at load time rather than in a child process
    sim = robot_sim_from_section(simulator) if simulator is not None else None
    return RobotEntry(spec, simulate, sim, workspace)
