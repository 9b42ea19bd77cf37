"""Reading a simulated modem from a lab file's modem `simulator:` section.

    simulator:
      vendor: quectel          # which vendor's AT dialect to answer in (default: the modem's)
      model: RM520N-GL         # what ATI / AT+CGMM say (default per vendor)
      transport: pty           # pty (a real tty pair) or tcp (for socket:// URLs)
      lte_sinr: 2v-20          # Quectel: how LTE SINR is encoded (default from the model)
      firmware: early          # Quectel: print early RM500Q firmware's quirks (NR SINR in 0.1 dB,
                               # short NSA line, unsigned +QCSQ RSSI); default: current firmware
      profile:                 # either a trace ...
        trace: cicv5g_w2s_n8_v30_run01   # name in fixtures/traces/ or a path
        rat: NR5G-SA
        band: 8
        loop: true
      # ... or fixed values, with optional timed steps:
      # profile: {rat: LTE, state: connected, cell_id: 1A2B3C4, rsrp_dbm: -95, sinr_db: 12,
      #           steps: [{at: 5 s, cell_id: 1A2B3C5, pci: 102}]}

Unknown keys, bad units and unreadable traces raise ConfigError naming the file, line and key.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from drivers.config import Section
from drivers.data import find_trace, trace_names
from drivers.errors import ConfigError
from drivers.modem.link import RATS, STATES, LinkState, ServingCell
from drivers.modem.quectel import LTE_SINR, lte_sinr_for_model
from drivers.sim.faults import Fault, faults_from_section
from drivers.sim.modem_profile import (FixedProfile, LinkProfile, Step, TraceProfile,
                                       default_anchor, read_cicv5g, template_cell)

SIM_VENDORS = ("quectel", "huawei", "sierra", "generic")
DEFAULT_MODELS = {"quectel": "RM520N-GL", "huawei": "MH5000-31", "sierra": "EM9190",
                  "generic": "HB-SIM-5G"}
TRANSPORTS = ("pty", "tcp")
#: firmware generations the simulator can imitate (quirks in drivers/sim/modem_render.py)
FIRMWARES = ("current", "early")
_CELL_KEYS = ("mcc", "mnc", "cell_id", "pci", "tac", "arfcn", "band", "rsrp_dbm", "rsrq_db",
              "sinr_db")


@dataclass(frozen=True)
class ModemSimParams:
    """Everything a simulated modem needs."""

    profile: LinkProfile
    vendor: str = "quectel"
    model: str = "RM520N-GL"
    transport: str = "pty"
    lte_sinr: str = "2v-20"
    faults: tuple[Fault, ...] = ()
    firmware: str = "current"


def resolve_trace(name: str, base_dir: Path | None) -> Path:
    """A bare name is a trace shipped in fixtures/traces/ (".txt" optional, short forms as in
    `drivers.data.find_trace`); else a path, relative to `base_dir`."""
    if "/" not in name:
        candidate = find_trace(name)
        if candidate is not None:
            return candidate
        if not name.endswith(".txt"):
            raise ConfigError(f"unknown trace {name!r} (shipped: {', '.join(trace_names())}; "
                              f"or give a path)")
    path = Path(name)
    return path if path.is_absolute() or base_dir is None else base_dir / path


def _cell_values(s: Section, cell_rat: str) -> dict[str, Any]:
    """Cell keys present in `s` (typed and unit-checked)."""
    out: dict[str, Any] = {}
    for key in ("mcc", "mnc"):
        if s.has(key):
            v = s.get(key, (str, int))
            out[key] = f"{v:02d}" if isinstance(v, int) and key == "mnc" else str(v)
    if s.has("cell_id"):
        out["cell_id"] = s.convert("cell_id", lambda v: f"{int(str(v), 16):X}")
    if s.has("tac"):
        out["tac"] = s.convert("tac", lambda v: f"{int(str(v), 16):X}")
    for key, hi in (("pci", 1007), ("arfcn", 3279165)):
        if s.has(key):
            v = s.get(key, int)
            if not 0 <= v <= hi:
                raise s.error(key, f"must be 0..{hi}")
            out[key] = v
    if s.has("band"):
        b = s.get("band", int)
        out["band"] = f"n{b}" if cell_rat == "NR5G" else f"B{b}"
    for key, unit, lo, hi in (("rsrp_dbm", "dBm", -156, -31), ("rsrq_db", "dB", -43, 20),
                              ("sinr_db", "dB", -23, 40)):
        if s.has(key):
            out[key] = s.quantity(key, unit, min=lo, max=hi)
    return out


def _profile(s: Section, base_dir: Path | None) -> LinkProfile:
    rat = s.get("rat", str, "NR5G-SA", choices=[r for r in RATS if r])
    state = s.get("state", str, "connected", choices=STATES)
    cell_rat = template_cell(rat)
    cell = ServingCell(rat=cell_rat, **_cell_values(s, cell_rat))
    cells = (default_anchor(), cell) if rat == "NR5G-NSA" else (cell,)
    template = LinkState(rat, state, cells)
    if s.has("trace"):
        for key in ("cell_id", "rsrp_dbm", "sinr_db"):
            if s.has(key):
                raise s.error(key, "comes from the trace; remove it or drop `trace`")
        path = s.convert("trace", lambda v: resolve_trace(str(v), base_dir))
        loop = s.get("loop", bool, False)
        start = s.quantity("start", "s", 0.0, min=0.0)
        s.raw("steps", None)
        s.done()
        return TraceProfile(read_cicv5g(path), template, loop=loop, start_s=start,
                            source=str(path))
    steps: list[Step] = []
    seq = s.sequence("steps", []) or []
    item_lines = getattr(seq, "item_lines", [])
    for i, item in enumerate(seq):
        line = item_lines[i] if i < len(item_lines) else s.line
        st = Section(item, s.source, f"{s.key_path('steps')}[{i}]", line)
        at = st.quantity("at", "s", min=0.0)
        prev = steps[-1].link if steps else template
        new_state = st.get("state", str, prev.state, choices=STATES)
        vals = _cell_values(st, cell_rat)
        st.done()
        new_cells = list(prev.cells)
        new_cells[-1] = replace(new_cells[-1], **vals)
        steps.append(Step(at, replace(prev, state=new_state, cells=tuple(new_cells))))
    s.raw("loop", None)
    s.raw("start", None)
    s.done()
    return FixedProfile(template, steps)


def modem_sim_from_section(section: Section, default_vendor: str = "quectel",
                           base_dir: Path | None = None) -> ModemSimParams:
    """Build ModemSimParams from a modem's `simulator:` section (validated; ConfigError)."""
    vendor = section.get("vendor", str, default_vendor if default_vendor in SIM_VENDORS
                         else "quectel", choices=SIM_VENDORS)
    model = section.get("model", str, DEFAULT_MODELS[vendor])
    transport = section.get("transport", str, "pty", choices=TRANSPORTS)
    lte_sinr = section.get("lte_sinr", str, lte_sinr_for_model(model), choices=list(LTE_SINR))
    firmware = section.get("firmware", str, "current", choices=FIRMWARES)
    if section.has("profile"):
        profile = _profile(section.section("profile"), base_dir)
    else:
        section.raw("profile", None)
        profile = FixedProfile(LinkState("NR5G-SA", "connected", (ServingCell(
            rat="NR5G", mcc="001", mnc="01", cell_id="5C4225714", pci=452, tac="4E",
            arfcn=627264, band="n78", rsrp_dbm=-90.0, rsrq_db=-11.0, sinr_db=12.0),)))
    faults = tuple(faults_from_section(section))
    section.done()
    return ModemSimParams(profile=profile, vendor=vendor, model=model, transport=transport,
                          lte_sinr=lte_sinr, faults=faults, firmware=firmware)
