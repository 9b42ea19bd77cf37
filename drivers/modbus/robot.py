"""`ModbusRobotArm`: one driver for every controller whose registers a register map describes.

Motion handshake: the target, speed and command registers are written, then the sequence register
(in the same FC16 request when they are contiguous); the controller echoes the sequence in
`ack_seq` and reports its motion state in `status`. Units: mm, degrees, mm/s.
"""
from __future__ import annotations

import math

from drivers.errors import ConfigError, DeviceError, ProtocolError, SafetyError
from drivers.modbus.regmap import POSE_AXES, Field, RegisterMap, spans
from drivers.modbus.transport import LinkSettings, ModbusLink, WireTap
from drivers.pose import Pose
from drivers.robot import ArmState, ArmStatus, RobotArm


class ModbusRobotArm(RobotArm):
    """A robot arm reached over Modbus, described by a `RegisterMap`."""

    def __init__(self, regmap: RegisterMap, settings: LinkSettings) -> None:
        self.map = regmap
        self.settings = settings
        self.name = f"modbus:{regmap.name}@{settings.endpoint}"
        self._link: ModbusLink | None = None
        self._seq = 0
        self._tap: WireTap | None = None
        self._pose_fields = [regmap[f"actual_{a}"] for a in POSE_AXES if regmap.has(f"actual_{a}")]
        self._status_fields = [regmap[n] for n in ("status", "ack_seq", "fault_code", "heartbeat")
                               if regmap.has(n)]

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
    def _read_fields(self, fields: list[Field]) -> dict[str, float]:
        out: dict[str, float] = {}
        for table in ("holding", "input"):
            for run in spans([f for f in fields if f.table == table]):
                start = run[0].address
                words = self.link.read(table, start, run[-1].end - start,
                                       "/".join(f.name for f in run))
                for f in run:
                    try:
                        out[f.name] = f.decode(words[f.address - start:f.end - start])
                    except ValueError as exc:
                        raise ProtocolError(f"{self.name}: {f.name}: {exc}") from None
        return out

    def read_pose(self) -> Pose:
        values = self._read_fields(self._pose_fields)
        return Pose(**{a: values.get(f"actual_{a}", 0.0) for a in POSE_AXES})

    def read_status(self) -> ArmStatus:
        if not self._status_fields:
            raise ConfigError(f"{self.map.source}: map {self.map.name!r} has no status register")
        v = self._read_fields(self._status_fields)
        state = ArmState.IDLE
        if "status" in v:
            code = int(v["status"])
            if code not in self.map.states:
                raise ProtocolError(f"{self.name}: status register holds unknown code {code}")
            state = self.map.states[code]
        return ArmStatus(state=state, seq=int(v.get("ack_seq", self._seq)),
                         fault_code=int(v.get("fault_code", 0)),
                         heartbeat=int(v["heartbeat"]) if "heartbeat" in v else None)

    # -- commanding ----------------------------------------------------------------------------
    def _command(self, command: str, values: dict[str, float]) -> int:
        if command not in self.map.commands or not self.map.has("command"):
            raise ConfigError(f"{self.map.source}: map {self.map.name!r} cannot {command} "
                              f"(no command register or code)")
        self._seq = (self._seq + 1) % 65536
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
        trigger = self.map["sequence" if self.map.has("sequence") else "command"].address
        runs = _runs(words)
        # the run holding the trigger register goes last, so the controller sees a full command
        runs.sort(key=lambda r: r[0] <= trigger < r[0] + len(r[1]))
        for start, run in runs:
            self.link.write(start, run, command)
        return self._seq

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        if not target.is_finite() or not math.isfinite(speed_mm_s) or speed_mm_s <= 0:
            raise SafetyError(f"{self.name}: target {target} at {speed_mm_s} mm/s is not a finite "
                              f"pose and positive speed (refused, nothing sent)")
        values = {f"target_{a}": getattr(target, a) for a in POSE_AXES
                  if self.map.has(f"target_{a}")}
        if not values:
            raise ConfigError(f"{self.map.source}: map {self.map.name!r} has no target registers")
        if self.map.has("speed"):
            values["speed"] = speed_mm_s
        return self._command("move", values)

    def stop(self) -> None:
        self._command("stop", {})


def _runs(words: dict[int, int]) -> list[tuple[int, list[int]]]:
    out: list[tuple[int, list[int]]] = []
    for addr in sorted(words):
        if out and out[-1][0] + len(out[-1][1]) == addr:
            out[-1][1].append(words[addr])
        else:
            out.append((addr, [words[addr]]))
    return out
