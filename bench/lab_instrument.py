"""A lab file's `instrument:` section: the measuring instrument that judges the robot.

    instrument:
      driver: ndi                      # or openigtlink (drivers/instrument/registry.py)
      url: /dev/ttyUSB0                # driver keys: see the registry's docstring
      tools: {tool: "01"}
      tool: tool                       # which tool is the marker on the robot (default: first)
      marker: {x: 0 mm, y: 0 mm, z: 0 mm}   # the marker in the robot's tool frame (known)
      settle: 0.2 s                    # wait after the robot's own settle before sampling
      samples: 3                       # instrument frames averaged per attained pose
      registration:                    # T_base_instrument, saved by `hil-bench analyze --register`
        pose: {x: 400 mm, y: 0 mm, z: 1800 mm, a: 180 deg, b: 0 deg, c: 0 deg}
        fre: 0.08 mm
        points: 12
      simulator:                       # a simulated tracker watching the simulated arm
        model: polaris-vega
        pose: {x: 400 mm, z: 1800 mm, a: 180 deg}

Without `registration:` the run registers the instrument on its own attained poses (commanded vs
measured); that absorbs every rigid error of the robot (constant offset, base rotation) into the
registration, so the report says so. Validation happens at load time (ConfigError with file, line
and key).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.registration import Registration
from drivers.config import Section
from drivers.instrument.registry import InstrumentSpec, instrument_spec
from drivers.pose import Pose
from drivers.sim.params import _pose
from drivers.sim.tracker import TrackerParams
from drivers.sim.tracker_params import tracker_params_from_section


@dataclass(frozen=True)
class InstrumentEntry:
    """The lab's instrument: driver recipe, which tool is on the robot, sampling, registration,
    and the simulator's parameters when it is simulated."""

    spec: InstrumentSpec
    tool: str
    marker: Pose
    settle_s: float
    samples: int
    registration: Registration | None
    sim_params: TrackerParams | None
    sim_transport: str = "pty"

    @property
    def simulate(self) -> bool:
        return self.sim_params is not None


def load_instrument_section(section: Section, base_dir: Path | None) -> InstrumentEntry:
    """Read and validate an `instrument:` section."""
    sim = section.section("simulator", None) if section.has("simulator") else None
    spec = instrument_spec(section, base_dir)
    tools = spec.tool_names()
    tool = section.get("tool", str, tools[0])
    if tool not in tools:
        raise section.error("tool", f"{tool!r} is not one of the tools {tools}")
    marker = _pose(section, "marker", Pose())
    settle = section.quantity("settle", "s", 0.0, min=0.0, max=60.0)
    samples = section.get("samples", int, 1)
    if not 1 <= samples <= 1000:
        raise section.error("samples", "must be 1..1000")
    registration = None
    if section.has("registration"):
        rs = section.section("registration")
        pose = _pose(rs, "pose", Pose())
        if not rs.has("pose"):
            raise rs.error("pose", "required: the instrument's pose in the robot base frame")
        registration = Registration.from_pose(
            pose, rs.quantity("fre", "mm", 0.0, min=0.0), rs.get("points", int, 0))
        rs.done()
    else:
        section.raw("registration", None)
    sim_params, transport = (None, "pty")
    if sim is not None:
        own_marker = sim.has("marker")         # a simulator may hide the marker elsewhere
        sim_params, transport = tracker_params_from_section(sim, tool=tool)
        if not own_marker:
            sim_params = TrackerParams(**{**sim_params.__dict__, "marker": marker})
    section.done()
    return InstrumentEntry(spec, tool, marker, settle, samples, registration, sim_params,
                           transport)
