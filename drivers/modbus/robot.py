"""`ModbusRobotArm`: one driver for every controller whose registers a register map describes.

Motion handshake (maps with `sequence` and `ack_seq`, e.g. native, ur, xarm): the target, speed and
command registers are written, then the sequence register (in the same FC16 request when they are
contiguous); the controller (or the robot program) echoes the sequence in `ack_seq` and reports its
motion state in `status`. `read_status` then reports ARRIVED with the controller's sequence.

Maps without `ack_seq` (e.g. iai_robocylinder, where writing the target position starts the move):
the driver keeps the sequence number itself and reports ARRIVED only when the mapped status (if any)
says arrived *and* the measured pose is within the map's `arrival.band` of the target and moved less
than `arrival.still` over `arrival.reads` consecutive status reads; until then MOVING. FAULT and
STOPPED from the status register pass through at once. This is what `bench/runner.py` polls for.

Units: mm, degrees, mm/s. Failure modes: DeviceTimeout, DeviceFault (Modbus exception naming the
registers), ProtocolError (undecodable values, unknown status codes), ConfigError (the map cannot do
what was asked, or a value does not fit its register).
"""
from __future__ import annotations

import math

from drivers.errors import ConfigError, DeviceError, ProtocolError, SafetyError
from drivers.modbus.fields import BlockRead, block_reads
from drivers.modbus.regmap import POSE_AXES, Field, RegisterMap, trigger_field
from drivers.modbus.transport import ModbusSettings, ModbusLink, WireTap
from drivers.pose import Pose
from drivers.robot import ArmState, ArmStatus, RobotArm
from drivers.rotation import fixed_xyz_from_rotvec_deg, rotvec_deg_from_fixed_xyz

_STATUS_FIELDS = ("status", "ack_seq", "fault_code", "heartbeat")


class ModbusRobotArm(RobotArm):
    """A robot arm reached over Modbus, described by a `RegisterMap`."""

    def __init__(self, regmap: RegisterMap, settings: ModbusSettings) -> None:
        self.map = regmap
        self.settings = settings
        self.name = f"modbus:{regmap.name}@{settings.endpoint}"
        self._link: ModbusLink | None = None
        self._plans: dict[tuple[str, ...], list] = {}
        self._seq = 0
        self._tap: WireTap | None = None
        self._target: Pose | None = None
        self._still: list[Pose] = []
        self._pose_fields = [regmap[f"actual_{a}"] for a in POSE_AXES if regmap.has(f"actual_{a}")]
        extra = [] if regmap.has("ack_seq") else self._pose_fields
        self._status_fields = [regmap[n] for n in _STATUS_FIELDS if regmap.has(n)] + extra
        self._joint_fields = [regmap[n] for i in range(1, 7)
                              for n in (f"joint_{i}", f"joint_{i}_turns") if regmap.has(n)]

    # -- connection ----------------------------------------------------------------------------
    def connect(self) -> None:
        link = ModbusLink(self.settings, self._tap)
        link.connect()
        self._link = link
        if self.map.has("ack_seq"):
            # continue the controller's sequence so our first command is seen as new
            self._seq = int(self._read_fields([self.map["ack_seq"]])["ack_seq"])

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def set_wire_tap(self, tap: WireTap | None) -> bool:
        self._tap = tap
        if self._link is not None:
            self._link.wire_tap = tap
        return True

    @property
    def link(self) -> ModbusLink:
        if self._link is None:
            raise DeviceError(f"{self.name}: not connected")
        return self._link

    # -- reading -------------------------------------------------------------------------------
    def _plan(self, fields: list[Field]) -> list[BlockRead]:
        """Block reads covering `fields`: (table, start, count, label, fields), cached because
        the same few field sets (pose, status, joints) are read over and over."""
        key = tuple(f.name for f in fields)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = block_reads(fields)
        return plan

    def _read_fields(self, fields: list[Field]) -> dict[str, float]:
        out: dict[str, float] = {}
        for table, start, count, label, run in self._plan(fields):
            words = self.link.read(table, start, count, label)
            for f in run:
                try:
                    out[f.name] = f.decode(words[f.address - start:f.end - start])
                except ValueError as exc:
                    raise ProtocolError(f"{self.name}: {f.name}: {exc}") from None
        return out

    def _pose_from(self, values: dict[str, float]) -> Pose:
        v = {a: values.get(f"actual_{a}", 0.0) for a in POSE_AXES}
        if self.map.orientation == "rotation_vector":
            v["a"], v["b"], v["c"] = fixed_xyz_from_rotvec_deg(v["a"], v["b"], v["c"])
        return Pose(**v)

    def read_pose(self) -> Pose:
        return self._pose_from(self._read_fields(self._pose_fields))

    def read_joints(self) -> list[float]:
        """Joint angles in degrees (revolution counters applied). ConfigError if none mapped.

        The angle and its counter are read in the fewest requests the map allows; a UR reads them
        in two (270.. and 320..), so within a few ms of a turn boundary one turn may be off."""
        if not self._joint_fields:
            raise ConfigError(f"{self.map.source}: map {self.map.name!r} has no joint registers")
        v = self._read_fields(self._joint_fields)
        return [v[f"joint_{i}"] + 360.0 * v.get(f"joint_{i}_turns", 0.0)
                for i in range(1, 7) if f"joint_{i}" in v]

    def read_status(self) -> ArmStatus:
        if not self._status_fields:
            raise ConfigError(f"{self.map.source}: map {self.map.name!r} has no status register")
        v = self._read_fields(self._status_fields)
        state = ArmState.IDLE
        if "status" in v:
            code = int(v["status"])
            decoded = self.map.decode_state(code)
            if decoded is None:
                raise ProtocolError(f"{self.name}: status register holds unknown code {code}")
            state = decoded
        if not self.map.has("ack_seq"):
            state = self._arrival(state, self._pose_from(v))
        return ArmStatus(state=state, seq=int(v.get("ack_seq", self._seq)),
                         fault_code=int(v.get("fault_code", 0)),
                         heartbeat=int(v["heartbeat"]) if "heartbeat" in v else None)

    def _arrival(self, state: ArmState, pose: Pose) -> ArmState:
        """Pose-based arrival for maps without ack_seq (see the module docstring)."""
        if state in (ArmState.FAULT, ArmState.STOPPED) or self._target is None:
            return state
        rule = self.map.arrival
        self._still = (self._still + [pose])[-rule.reads:]
        near = _distance(pose, self._target, self._pose_fields) <= rule.band_mm
        still = len(self._still) == rule.reads and all(
            _distance(p, pose, self._pose_fields) <= rule.still_mm for p in self._still)
        says_arrived = "status" not in self.map.fields or state is ArmState.ARRIVED
        return ArmState.ARRIVED if near and still and says_arrived else ArmState.MOVING

    # -- commanding ----------------------------------------------------------------------------
    def _command(self, command: str, values: dict[str, float]) -> int:
        by_target = command == "move" and "move" not in self.map.commands
        if not by_target and (command not in self.map.commands or not self.map.has("command")):
            raise ConfigError(f"{self.map.source}: map {self.map.name!r} cannot {command} "
                              f"(no command register or code)")
        self._seq = (self._seq + 1) % 65536
        if not by_target:
            values = dict(values, command=self.map.commands[command])
        if self.map.has("sequence"):
            values["sequence"] = self._seq
        words: dict[int, int] = {}
        for name, value in values.items():
            f = self.map[name]
            try:
                encoded = f.encode(value)
            except ValueError as exc:
                raise ConfigError(f"{self.map.source}:{f.line}: registers.{name}: "
                                  f"cannot hold {value}: {exc}") from None
            for i, w in enumerate(encoded):
                words[f.address + i] = w
        trigger = trigger_field(self.map, by_target).address
        runs = _runs(words)
        # the run holding the trigger register goes last, so the controller sees a full command
        runs.sort(key=lambda r: r[0] <= trigger < r[0] + len(r[1]))
        for start, run in runs:
            self.link.write(start, run, command)
        self._still = []
        return self._seq

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        if not target.is_finite() or not math.isfinite(speed_mm_s) or speed_mm_s <= 0:
            raise SafetyError(f"{self.name}: target {target} at {speed_mm_s} mm/s is not a finite "
                              f"pose and positive speed (refused, nothing sent)")
        t = {a: getattr(target, a) for a in POSE_AXES}
        if self.map.orientation == "rotation_vector":
            t["a"], t["b"], t["c"] = rotvec_deg_from_fixed_xyz(t["a"], t["b"], t["c"])
        values = {f"target_{a}": t[a] for a in POSE_AXES if self.map.has(f"target_{a}")}
        if not values:
            raise ConfigError(f"{self.map.source}: map {self.map.name!r} has no target registers")
        if self.map.has("speed"):
            values["speed"] = speed_mm_s
        if self.map.has("positioning_band"):
            values["positioning_band"] = self.map.arrival.band_mm
        seq = self._command("move", values)
        self._target = target
        return seq

    def stop(self) -> None:
        self._command("stop", {})
        self._target = None

    def reset(self) -> None:
        if "reset" not in self.map.commands:
            super().reset()                 # DeviceFault: the map documents no reset command
        self._command("reset", {})
        self._target = None


def _distance(p: Pose, q: Pose, fields: list[Field]) -> float:
    """Distance over the mapped position axes, mm (a single-axis actuator has only x)."""
    axes = [f.name[-1] for f in fields if f.name[-1] in "xyz"]
    return sum((getattr(p, a) - getattr(q, a)) ** 2 for a in axes) ** 0.5


def _runs(words: dict[int, int]) -> list[tuple[int, list[int]]]:
    out: list[tuple[int, list[int]]] = []
    for addr in sorted(words):
        if out and out[-1][0] + len(out[-1][1]) == addr:
            out[-1][1].append(words[addr])
        else:
            out.append((addr, [words[addr]]))
    return out
