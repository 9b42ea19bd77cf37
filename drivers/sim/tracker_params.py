"""Reading a simulated tracker's parameters from an `instrument:` section's `simulator:` part.

Keys (all optional; units may be written): model (polaris-vega | polaris-spectra | polaris-vicra |
aurora | ideal), pose {x..c} (the tracker in the robot base frame), marker {x..c} (the marker in
the tool frame), noise (per-axis sigma, mm; default from the model), depth_factor, angle_noise
(deg), rate (Hz; default from the model), dropout (0..1), fault (none | silent | crc | missing),
fit_rms (mm), transport (pty | tcp; NDI only), seed. See `drivers.sim.tracker`.
"""
from __future__ import annotations

from drivers.config import Section
from drivers.sim.params import _pose
from drivers.sim.tracker import FAULTS, MODELS, TrackerParams


def tracker_params_from_section(section: Section, tool: str = "tool",
                                seed: int | None = None) -> tuple[TrackerParams, str]:
    """(TrackerParams, transport) from a `simulator:` section; ConfigError names file/line/key."""
    d = TrackerParams()
    params = TrackerParams(
        model=section.get("model", str, d.model, choices=sorted(MODELS)),
        pose=_pose(section, "pose", d.pose),
        marker=_pose(section, "marker", d.marker),
        tool=tool,
        noise_mm=section.quantity("noise", "mm", None, min=0.0) if section.has("noise")
        else None,
        depth_factor=section.get("depth_factor", float, 1.0),
        angle_noise_deg=section.quantity("angle_noise", "deg", 0.0, min=0.0),
        rate_hz=section.quantity("rate", "Hz", None, min=0.1, max=10000.0)
        if section.has("rate") else None,
        dropout=section.get("dropout", float, 0.0),
        fault=section.get("fault", str, "none", choices=FAULTS),
        fit_rms_mm=section.quantity("fit_rms", "mm", None, min=0.0) if section.has("fit_rms")
        else None,
        seed=section.get("seed", int, 0) if seed is None else seed,
    )
    if not 0.0 <= params.dropout < 1.0:
        raise section.error("dropout", "must be in 0..1 (exclusive of 1)")
    if not 0.1 <= params.depth_factor <= 10:
        raise section.error("depth_factor", "must be between 0.1 and 10")
    transport = section.get("transport", str, "pty", choices=("pty", "tcp"))
    if seed is not None:
        section.raw("seed", None)
    section.done()
    return params, transport
