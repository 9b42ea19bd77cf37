"""The `sites:` section of a lab file: one control centre, several remote robots.

    name: three-sites
    qualify: {max_age: 10 min, control: remote-loop}   # defaults for every site (optional)
    sites:
      yantai:
        network: 5g-urban          # profile name or file (relative to the lab file), or `real`
        arm: false                 # may --arm move this site's real robot (default true)
        qualify: {max_outage: 0.5 s, echo: udp://10.0.0.7:7}   # this site's policy (optional)
        tolerances: {AP: {max: 0.8 mm}}       # over the scenario's, for this site (optional)
        robot: {driver: modbus, ..., workspace: {...}}     # as a lab's `robot:` section
        modem: {driver: at, ...}                           # optional, as a lab's `modem:`

Each site becomes a `Lab` named ``LAB#SITE`` (its `path` is ``FILE#SITE``, so a simulator
process started for it loads exactly that site), with its own robot, envelope, modem, network,
arming and qualification policy. Validated completely at load time; ConfigError names the file,
line and key.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.lab import Lab, robot_entry
from bench.lab_modem import load_modem_section
from drivers.config import Section
from drivers.errors import ConfigError

#: the network value of a site whose link is the real one (no impairment added)
REAL = "real"


@dataclass(frozen=True)
class QualifyPolicy:
    """What a site's link must show (`hil-bench link qualify`) and how fresh a run needs it.
    `max_age_s` None: runs do not require a qualification (the report still shows the last)."""

    max_age_s: float | None = None
    scenario: str | None = None
    control: str | None = None
    max_loss: float = 0.01
    max_outage_s: float = 1.0
    echo: str | None = None


def policy_from_sections(sections: list[Section]) -> QualifyPolicy:
    """A policy from the lab's and then the site's `qualify:` sections (later keys win)."""
    kw: dict[str, Any] = {}
    for q in sections:
        if q.has("max_age"):
            kw["max_age_s"] = q.quantity("max_age", "s", min=1.0)
        if q.has("scenario"):
            kw["scenario"] = q.get("scenario", str)
        if q.has("control"):
            from bench.control.modes import CONTROL_MODES
            kw["control"] = q.get("control", str, choices=sorted(CONTROL_MODES))
        if q.has("max_loss"):
            kw["max_loss"] = q.quantity("max_loss", "%", min=0.0, max=100.0) / 100.0
        if q.has("max_outage"):
            kw["max_outage_s"] = q.quantity("max_outage", "s", min=0.0)
        if q.has("echo"):
            from bench.qualify.echo import parse_echo_url
            try:
                parse_echo_url(q.get("echo", str))
            except ConfigError as exc:
                raise q.error("echo", str(exc)) from None
            kw["echo"] = q.get("echo", str)
        q.done()
    return QualifyPolicy(**kw)


def _tolerances(t: Section) -> dict[str, Any]:
    """A site's own limits, over the scenario's (the measurement catalogue's names and units)."""
    from bench.limits import limit_from_section
    from bench.metrics import catalogue
    out = {}
    for key in t.keys():
        m = catalogue.get(str(key))
        if m is None:
            raise t.error(key, f"unknown tolerance (known: {', '.join(catalogue.names())})")
        out[key] = limit_from_section(t.section(key), key, m.unit)
    t.done()
    return out


def _network(s: Section, base_dir: Path) -> str | None:
    if not s.has("network"):
        return None
    value = s.get("network", str)
    if value == REAL:
        return REAL
    from bench.impair import load_profile
    if "/" in value or value.endswith((".yaml", ".yml")):
        p = Path(value)
        value = str(p if p.is_absolute() else base_dir / p)
    try:
        load_profile(value)
    except Exception as exc:           # ConfigError: say which site's key it was
        raise s.error("network", str(exc)) from None
    return value


def load_sites(top: Section, path: Path, name: str, scenario: str = "iso9283") -> Lab:
    """The lab with its sites (`top` is the lab file's top section, `name` already read)."""
    if top.has("robot") or top.has("modem"):
        raise top.error("robot" if top.has("robot") else "modem",
                        "a lab with sites: gives each site its robot and modem, not the lab")
    lab_q = top.section("qualify") if top.has("qualify") else None
    if lab_q is None:
        top.raw("qualify", None)
    ss = top.section("sites")
    names = [str(k) for k in ss.keys()]
    if not names:
        raise top.error("sites", "at least one site is needed")
    sites = []
    for site in names:
        if "#" in site or "/" in site:
            raise ss.error(site, "a site name cannot contain '#' or '/'")
        s = ss.section(site)
        s.get("description", str, "")
        robot = robot_entry(s.section("robot"), path.parent)
        modem = load_modem_section(s.section("modem"), path.parent) if s.has("modem") else None
        if modem is None:
            s.raw("modem", None)
        network = _network(s, path.parent)
        arm = s.get("arm", bool, True)
        qs = [q.fresh() for q in (lab_q,) if q is not None]
        if s.has("qualify"):
            qs.append(s.section("qualify"))
        else:
            s.raw("qualify", None)
        policy = policy_from_sections(qs)
        tolerances = _tolerances(s.section("tolerances")) if s.has("tolerances") else None
        if tolerances is None:
            s.raw("tolerances", None)
        s.done()
        sites.append(Lab(name=f"{name}#{site}", path=Path(f"{path}#{site}"), robot=robot,
                         modem=modem, site=site, network=network, arm=arm, qualify=policy,
                         tolerances=tolerances, scenario=scenario))
    ss.done()
    if lab_q is not None:
        policy_from_sections([lab_q])               # validate the lab-wide keys even when every site overrides
    top.done()
    first = sites[0]
    return Lab(name=name, path=path, robot=first.robot, modem=first.modem, sites=tuple(sites),
               qualify=sites[0].qualify, scenario=scenario)
