"""A simulated arm served on a real pymodbus server through a register map.

Reads of pose and status registers are answered with the arm's state at the moment of the request;
a write that covers the `sequence` register (or `command`, in maps without one) executes the
command with the target and speed registers as they are after the write. Registers the map does
not define answer with Modbus exception 2, like a real controller. Only this module and
`drivers/modbus/` use pymodbus.
"""
from __future__ import annotations

import asyncio
import time
from typing import Callable

import pymodbus
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.modbus.regmap import POSE_AXES, RegisterMap
from drivers.pose import Pose
from drivers.robot import ArmState
from drivers.sim.arm import ArmParams, SimArm
from drivers.sim.faults import Fault, FaultPlan

pymodbus.pymodbus_apply_logging_config("CRITICAL")

_READ_FC = {3: "holding", 4: "input", 23: "holding"}
_WRITE_FC = {6, 16, 23}


class ArmRegisters:
    """Binds a SimArm to a register map: the device side of the Modbus handshake."""

    def __init__(self, regmap: RegisterMap, arm: SimArm, clock: Callable[[], float],
                 faults: list[Fault] | None = None,
                 journal: Callable[[dict], None] | None = None) -> None:
        self.map = regmap
        self.arm = arm
        self.clock = clock
        self.ack_seq = 0
        self.requests = 0
        self.plan = FaultPlan(list(faults or []), clock())
        self.journal = journal or (lambda entry: None)
        self.server: ModbusTcpServer | None = None

    async def _misbehave(self) -> ExcCodes | None:
        """Apply the fault plan to one request (may hold it, answer late or refuse it)."""
        now = self.clock()
        if f := self.plan.once(now, "protective_stop"):
            self.arm.fault(now, f.code or 3)
            self.journal({"t_s": now, "fault": "protective_stop", "code": f.code or 3})
        if f := self.plan.first(now, "silent"):
            hold = 3600.0 if f.duration_s is None else f.duration_s
            await asyncio.sleep(hold)
        if f := self.plan.first(now, "late"):
            await asyncio.sleep(f.delay_s)
        if self.plan.once(now, "drop") and self.server is not None:
            for conn in list(self.server.active_connections.values()):
                if conn.transport is not None:
                    conn.transport.abort()
            return ExcCodes.DEVICE_BUSY   # never sent: the connection is gone
        if f := self.plan.first(now, "exception"):
            return ExcCodes(f.code or 4)
        return None

    def corrupt(self, sending: bool, data: bytes) -> bytes:
        """pymodbus trace_packet hook: damage replies while a `corrupt` fault is active."""
        if sending and data and self.plan.first(self.clock(), "corrupt"):
            damaged = bytearray(data)
            damaged[-1] ^= 0xFF            # breaks an RTU CRC or the last data byte
            if len(damaged) > 4:
                damaged[2] ^= 0xFF         # breaks the MBAP protocol id on TCP
            return bytes(damaged)
        return data

    def device(self, device_id: int = 1) -> SimDevice:
        """A pymodbus SimDevice with one SimData per mapped field, in separate tables."""
        tables: dict[str, list[SimData]] = {"holding": [], "input": []}
        for f in self.map.fields.values():
            tables[f.table].append(SimData(f.address, count=f.count, values=0,
                                           datatype=DataType.REGISTERS, readonly=not f.writable))
        # pymodbus needs every table to exist; an unused table gets one register far away
        for name, items in tables.items():
            if not items:
                items.append(SimData(65535, count=1, values=0, datatype=DataType.REGISTERS))
        bits = [SimData(65535, count=1, values=0, datatype=DataType.BITS)]
        return SimDevice(id=device_id, simdata=(bits, bits, tables["holding"], tables["input"]),
                         action=self.action)

    def _values_now(self) -> dict[str, float]:
        now = self.clock()
        pose = self.arm.pose(now)
        state = self.arm.state(now)
        values: dict[str, float] = {f"actual_{a}": getattr(pose, a) for a in POSE_AXES}
        values["status"] = self.map.state_code(state) if self.map.states else 0
        values["ack_seq"] = self.ack_seq
        values["fault_code"] = self.arm.fault_code
        values["heartbeat"] = int(now * 100) % 65536
        return values

    async def action(self, function_code: int, start_address: int, address: int, count: int,
                     current_registers: list[int], set_values: list[int] | list[bool] | None
                     ) -> ExcCodes | None:
        """pymodbus hook, called before the request touches the registers."""
        self.requests += 1
        if self.plan.faults and (refused := await self._misbehave()) is not None:
            return refused
        if function_code in _WRITE_FC and set_values is not None:
            return self._on_write(start_address, address, list(map(int, set_values)),
                                  current_registers)
        table = _READ_FC.get(function_code)
        if table is None:
            return None
        values = self._values_now()
        end = address + count
        for f in self.map.fields.values():
            if f.table == table and f.address < end and f.end > address and f.name in values \
                    and not f.writable:
                words = f.encode(values[f.name])
                off = f.address - start_address
                current_registers[off:off + f.count] = words
        return None

    def _on_write(self, start: int, address: int, values: list[int],
                  registers: list[int]) -> ExcCodes | None:
        image = {start + i: w for i, w in enumerate(registers)}
        for i, w in enumerate(values):
            image[address + i] = w
        trig = self.map["sequence"] if self.map.has("sequence") else self.map["command"]
        if not (address <= trig.address < address + len(values)):
            return None

        def val(name: str, default: float = 0.0) -> float:
            if not self.map.has(name):
                return default
            f = self.map[name]
            return f.decode([image[f.address + i] for i in range(f.count)])

        code = int(val("command"))
        commands = {v: k for k, v in self.map.commands.items()}
        now = self.clock()
        action = commands.get(code)
        if action is None:
            return ExcCodes.ILLEGAL_VALUE
        self.ack_seq = int(val("sequence", self.ack_seq + 1)) % 65536
        self.journal({"t_s": now, "command": action, "seq": self.ack_seq})
        if action == "move":
            self.plan.note_move(now)
            current = self.arm.pose(now)
            target = Pose(**{a: val(f"target_{a}", getattr(current, a)) for a in POSE_AXES})
            self.arm.move(target, val("speed", self.arm.params.max_speed_mm_s), now)
        elif action == "stop":
            self.arm.stop(now)
        elif action == "reset":
            self.arm.reset(now)
        return None


async def start_arm_server(regmap: RegisterMap, params: ArmParams, host: str = "127.0.0.1",
                           port: int = 0, device_id: int = 1,
                           clock: Callable[[], float] = time.monotonic,
                           faults: list[Fault] | None = None,
                           journal: Callable[[dict], None] | None = None,
                           ) -> tuple[ModbusTcpServer, int, ArmRegisters]:
    """Start a Modbus TCP server for a simulated arm; returns (server, bound port, bindings).

    Port 0 picks a free port. Raises OSError if the address cannot be bound.
    """
    arm = SimArm(params, clock())
    regs = ArmRegisters(regmap, arm, clock, faults, journal)
    server = ModbusTcpServer(regs.device(device_id), address=(host, port),
                             trace_packet=regs.corrupt if faults else None)
    regs.server = server
    await server.serve_forever(background=True)
    sockets = getattr(server.transport, "sockets", None) or []
    if not sockets:
        await server.shutdown()
        raise OSError(f"simulator could not listen on {host}:{port}")
    bound = sockets[0].getsockname()[1]
    return server, bound, regs

