"""Session topics: names, JSON Schemas and the encoders that turn bench objects into messages.

Every message is a JSON object (UTF-8) on one MCAP channel per topic, with the JSON Schema below
registered for it, so standard tools (Foxglove, `mcap` CLI) can open the files. Message times are
the MCAP ``log_time``: integer nanoseconds on the run's clock (monotonic wall clock in wire mode,
the virtual clock in virtual mode). Units are named in the field names (mm, deg, ms, dBm, dB).
"""
from __future__ import annotations

import json
from typing import Any

from drivers.pose import Pose
from drivers.robot import ArmStatus

#: MCAP profile string written in the file header (free text for non-ROS files)
PROFILE = "hil-bench"
#: format version of the session layout documented in docs/session-format.md
FORMAT = "hil-bench/session/1"

T_META = "/session/metadata"
T_COMMAND = "/robot/command"
T_POSE = "/robot/pose"
T_STATUS = "/robot/status"
T_LINK = "/modem/link"
T_INSTRUMENT = "/instrument/measurement"
T_NETWORK = "/network/event"
T_EVENT = "/bench/event"

_NUM = {"type": "number"}
_POSE_PROPS = {k: _NUM for k in ("x_mm", "y_mm", "z_mm", "a_deg", "b_deg", "c_deg")}
_POSE = {"type": "object", "properties": _POSE_PROPS, "required": list(_POSE_PROPS)}

SCHEMAS: dict[str, dict[str, Any]] = {
    T_META: {
        "title": "hil_bench.SessionMetadata",
        "description": "Once at the start: format, tool version, git commit, lab, scenario "
                       "(poses and tolerances), mode, seed, network profile, wall-clock start.",
        "type": "object",
        "properties": {"format": {"type": "string"}, "tool": {"type": "object"},
                       "git_commit": {"type": ["string", "null"]}, "lab": {"type": "object"},
                       "scenario": {"type": ["object", "string"]}, "mode": {"type": "string"},
                       "seed": {"type": "integer"}, "network": {"type": ["object", "string",
                                                                          "null"]},
                       "started_utc": {"type": "string"}},
        "required": ["format"],
    },
    T_COMMAND: {
        "title": "hil_bench.RobotCommand",
        "description": "A motion command accepted by the arm (log_time: when move_to returned).",
        "type": "object",
        "properties": {"seq": {"type": "integer"}, "label": {"type": "string"},
                       "target": _POSE, "speed_mm_s": _NUM},
        "required": ["seq", "label", "target", "speed_mm_s"],
    },
    T_POSE: {
        "title": "hil_bench.RobotPose",
        "description": "A pose read from the arm; label names a measured target pose, empty "
                       "while following a motion.",
        "type": "object",
        "properties": {"label": {"type": "string"}, **_POSE_PROPS},
        "required": ["label", *_POSE_PROPS],
    },
    T_STATUS: {
        "title": "hil_bench.RobotStatus",
        "type": "object",
        "properties": {"state": {"type": "string",
                                 "enum": ["idle", "moving", "arrived", "stopped", "fault"]},
                       "seq": {"type": "integer"}, "fault_code": {"type": "integer"},
                       "heartbeat": {"type": ["integer", "null"]}},
        "required": ["state", "seq", "fault_code"],
    },
    T_LINK: {
        "title": "hil_bench.ModemLink",
        "description": "A modem link sample (fields as the modem driver reports them, e.g. "
                       "rsrp_dbm, sinr_db, cell_id, registered).",
        "type": "object",
    },
    T_INSTRUMENT: {
        "title": "hil_bench.InstrumentMeasurement",
        "description": "One tool in one frame of the measuring instrument, in the instrument's "
                       "own frame: position_mm, orientation_wxyz (scalar first), rms_mm, visible, "
                       "status, frame, device_t_s; label names the pose visit it measured.",
        "type": "object",
        "properties": {"tool": {"type": "string"}, "visible": {"type": "boolean"},
                       "position_mm": {"type": ["array", "null"]},
                       "orientation_wxyz": {"type": ["array", "null"]},
                       "rms_mm": {"type": ["number", "null"]}, "status": {"type": "string"},
                       "label": {"type": "string"}},
        "required": ["tool", "visible"],
    },
    T_NETWORK: {
        "title": "hil_bench.NetworkEvent",
        "description": "An injected network effect: a delay per message (delay_ms, direction), "
                       "a loss, or an outage, as reported by the impairment engine.",
        "type": "object",
        "properties": {"kind": {"type": "string"}, "delay_ms": _NUM,
                       "direction": {"type": "string"}},
    },
    T_EVENT: {
        "title": "hil_bench.BenchEvent",
        "description": "Bench events: errors, stops, verdicts, start and end of the run.",
        "type": "object",
        "properties": {"kind": {"type": "string"}, "detail": {"type": "object"}},
        "required": ["kind", "detail"],
    },
}

TOPICS: tuple[str, ...] = tuple(SCHEMAS)


def schema_bytes(topic: str) -> bytes:
    """The JSON Schema of `topic` as UTF-8 bytes (MCAP schema encoding ``jsonschema``)."""
    return json.dumps({"$schema": "https://json-schema.org/draft/2020-12/schema",
                       **SCHEMAS[topic]}, sort_keys=True).encode()


def pose_fields(p: Pose) -> dict[str, float]:
    """A pose as message fields x_mm ... c_deg."""
    return {"x_mm": p.x, "y_mm": p.y, "z_mm": p.z, "a_deg": p.a, "b_deg": p.b, "c_deg": p.c}


def pose_from_fields(d: dict[str, Any]) -> Pose:
    """The inverse of `pose_fields`. Raises KeyError on a missing axis."""
    return Pose(d["x_mm"], d["y_mm"], d["z_mm"], d["a_deg"], d["b_deg"], d["c_deg"])


def command_msg(seq: int, label: str, target: Pose, speed_mm_s: float) -> dict[str, Any]:
    return {"seq": seq, "label": label, "target": pose_fields(target), "speed_mm_s": speed_mm_s}


def pose_msg(pose: Pose, label: str) -> dict[str, Any]:
    return {"label": label, **pose_fields(pose)}


def status_msg(st: ArmStatus) -> dict[str, Any]:
    return {"state": st.state.value, "seq": st.seq, "fault_code": st.fault_code,
            "heartbeat": st.heartbeat}
