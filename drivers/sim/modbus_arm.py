"""A simulated arm served on a real pymodbus server through a register map.

Reads of pose and status registers are answered with the arm's state at the moment of the request;
a write that covers the trigger register (`sequence`, else `command`, else the first target
register) executes the command with the target and speed registers as they are after the write.
Registers the map neither defines nor lists as `reserved` answer with Modbus exception 2, like a
real controller. Every request feeds the arm's communication watchdog.

Transports (`start_arm_server(transport=...)`): ``tcp`` (Modbus TCP), ``rtu-tcp`` / ``ascii-tcp``
(RTU or ASCII frames over a raw TCP socket, what pyserial's ``socket://`` opens), ``rtu-pty`` /
``ascii-pty`` (RTU or ASCII on a pseudo-terminal path any serial program can open).
Only this module and `drivers/modbus/` use pymodbus.
"""
from __future__ import annotations

import asyncio
import math
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pymodbus
from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from drivers.errors import ConfigError
from drivers.modbus.regmap import POSE_AXES, RegisterMap, trigger_field
from drivers.pose import Pose
from drivers.rotation import fixed_xyz_from_rotvec_deg, rotvec_deg_from_fixed_xyz
from drivers.sim.arm import ArmParams, SimArm
from drivers.sim.program import sim_arm
from drivers.sim.faults import Fault, FaultPlan
from drivers.sim.pty import PtyPair
from drivers.sim.reach import FAULT_UNREACHABLE, unreachable

pymodbus.pymodbus_apply_logging_config("CRITICAL")

_READ_FC = {3: "holding", 4: "input", 23: "holding"}
_WRITE_FC = {6, 16, 23}
#: transport name -> (framer, served on a pty)
SERVER_TRANSPORTS: dict[str, tuple[FramerType, bool]] = {
    "tcp": (FramerType.SOCKET, False),
    "rtu-tcp": (FramerType.RTU, False),
    "ascii-tcp": (FramerType.ASCII, False),
    "rtu-pty": (FramerType.RTU, True),
    "ascii-pty": (FramerType.ASCII, True),
}
# Toy two-link arm used only to give the joint registers plausible, moving values (not UR
# kinematics): link lengths like a 5 kg cobot's upper arm and forearm, mm.
_L1, _L2 = 425.0, 392.0


def toy_joints(p: Pose) -> list[float]:
    """Six joint angles (deg) for pose `p` from a planar two-link model plus the wrist angles."""
    j1 = math.degrees(math.atan2(p.y, p.x))
    r, z = math.hypot(p.x, p.y), p.z
    d = min(max((r * r + z * z - _L1 ** 2 - _L2 ** 2) / (2 * _L1 * _L2), -1.0), 1.0)
    j3 = math.degrees(math.acos(d))
    j2 = -math.degrees(math.atan2(z, r) + math.atan2(_L2 * math.sin(math.radians(j3)),
                                                      _L1 + _L2 * d))
    return [j1, j2, j3, p.a - 180.0, p.b, p.c]


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
        try:
            self.trigger_move: str | None = trigger_field(regmap, by_target=True).name
        except ConfigError:          # a read-only map: nothing can be commanded
            self.trigger_move = None
        self.plan = FaultPlan(list(faults or []), clock())
        self.journal = journal or (lambda entry: None)
        self.server: ModbusTcpServer | ModbusSerialServer | None = None

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
                    # asyncio's transport base class has no abort(); the TCP one has it
                    getattr(conn.transport, "abort", conn.transport.close)()
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
        """A pymodbus SimDevice with one SimData per mapped field and reserved block."""
        tables: dict[str, list[SimData]] = {"holding": [], "input": []}
        for f in self.map.fields.values():
            tables[f.table].append(SimData(f.address, count=f.count, values=0,
                                           datatype=DataType.REGISTERS, readonly=not f.writable))
        for b in self.map.reserved:
            tables[b.table].append(SimData(b.address, count=b.count, values=0,
                                           datatype=DataType.REGISTERS, readonly=not b.writable))
        # pymodbus needs every table to exist; an unused table gets one register far away
        for items in tables.values():
            if not items:
                items.append(SimData(65535, count=1, values=0, datatype=DataType.REGISTERS))
            items.sort(key=lambda d: d.address)
        bits = [SimData(65535, count=1, values=0, datatype=DataType.BITS)]
        return SimDevice(id=device_id, simdata=(bits, bits, tables["holding"], tables["input"]),
                         action=self.action)

    def values_now(self, with_pose: bool = True) -> dict[str, float]:
        """Every readable field's physical value at this moment. The pose (a measurement, which
        draws noise) is only taken when `with_pose`: a status poll does not measure."""
        now = self.clock()
        state = self.arm.state(now)
        values: dict[str, float] = {}
        values["status"] = self.map.state_code(state) if self.map.has_status_codes else 0
        values["ack_seq"] = self.ack_seq
        values["fault_code"] = self.arm.fault_code
        values["heartbeat"] = int(now * 100) % 65536
        if not with_pose:
            return values
        pose = self.arm.pose(now)
        p = {a: getattr(pose, a) for a in POSE_AXES}
        if self.map.orientation == "rotation_vector":
            p["a"], p["b"], p["c"] = rotvec_deg_from_fixed_xyz(p["a"], p["b"], p["c"])
        values.update({f"actual_{a}": p[a] for a in POSE_AXES})
        joints = toy_joints(pose) if self.map.has("joint_1") else []
        for i, angle in enumerate(joints, start=1):
            # UR style: angle within the turn in [0, 360) and a signed turn counter
            turns = math.floor(angle / 360.0) if self.map.has(f"joint_{i}_turns") else 0
            values[f"joint_{i}"] = angle - 360.0 * turns
            values[f"joint_{i}_turns"] = turns
        return values

    async def action(self, function_code: int, start_address: int, address: int, count: int,
                     current_registers: list[int], set_values: list[int] | list[bool] | None
                     ) -> ExcCodes | None:
        """pymodbus hook, called before the request touches the registers."""
        self.requests += 1
        self.arm.feed(self.clock())
        if self.plan.faults and (refused := await self._misbehave()) is not None:
            return refused
        if function_code in _WRITE_FC and set_values is not None:
            return self._on_write(start_address, address, list(map(int, set_values)),
                                  current_registers)
        table = _READ_FC.get(function_code)
        if table is None:
            return None
        end = address + count
        asked = [f for f in self.map.fields.values()
                 if f.table == table and f.address < end and f.end > address and not f.writable]
        values = self.values_now(any(f.name.startswith(("actual_", "joint_")) for f in asked))
        for f in asked:
            if f.name in values:
                try:
                    words = f.encode(values[f.name])
                except ValueError:       # out of the register's range: the device's failure
                    return ExcCodes.DEVICE_FAILURE
                off = f.address - start_address
                current_registers[off:off + f.count] = words
        return None

    def _on_write(self, start: int, address: int, values: list[int],
                  registers: list[int]) -> ExcCodes | None:
        image = {start + i: w for i, w in enumerate(registers)}
        for i, w in enumerate(values):
            image[address + i] = w
        def covers(name: str) -> bool:
            return self.map.has(name) and address <= self.map[name].address < address + len(values)

        by_target = "move" not in self.map.commands
        if self.map.has("sequence"):
            if not covers("sequence"):
                return None
        elif not covers("command") and not (by_target and self.trigger_move
                                                  and covers(self.trigger_move)):
            return None

        def val(name: str, default: float = 0.0) -> float:
            if not self.map.has(name):
                return default
            f = self.map[name]
            return f.decode([image[f.address + i] for i in range(f.count)])

        now = self.clock()
        if self.map.has("command") and (covers("command") or not by_target):
            action = {v: k for k, v in self.map.commands.items()}.get(int(val("command")))
            if action is None:
                return ExcCodes.ILLEGAL_VALUE
        else:
            action = "move"          # the target write itself starts the motion
        self.ack_seq = int(val("sequence", self.ack_seq + 1)) % 65536
        self.journal({"t_s": now, "command": action, "seq": self.ack_seq})
        if action == "move":
            self.plan.note_move(now)
            self._move(val, now)
        elif action == "stop":
            self.arm.stop(now)
        elif action == "reset":
            self.arm.reset(now)
        return None

    def _move(self, val: Callable[[str, float], float], now: float) -> None:
        current = self.arm.pose(now)
        t = {a: getattr(current, a) for a in POSE_AXES}
        if self.map.orientation == "rotation_vector":
            rv = rotvec_deg_from_fixed_xyz(t["a"], t["b"], t["c"])
            r = [val(f"target_{a}", rv[i]) for i, a in enumerate("abc")]
            t["a"], t["b"], t["c"] = fixed_xyz_from_rotvec_deg(*r)
        else:
            t.update({a: val(f"target_{a}", t[a]) for a in "abc"})
        t.update({a: val(f"target_{a}", t[a]) for a in "xyz"})
        target = Pose(**t)
        if why := unreachable(target):
            # refused as a controller refuses it: halt and report the fault, never move
            self.arm.fault(now, FAULT_UNREACHABLE)
            self.journal({"t_s": now, "fault": "unreachable", "code": FAULT_UNREACHABLE,
                          "detail": why})
            return
        self.arm.move(target, val("speed", self.arm.params.max_speed_mm_s), now)


@dataclass
class ServedArm:
    """A running simulator: where it listens and how to stop it."""

    server: Any
    regs: ArmRegisters
    transport: str
    host: str = ""
    port: int = 0
    path: str = ""
    _pty: PtyPair | None = field(default=None, repr=False)

    def __iter__(self):
        """``server, port, regs = await start_arm_server(...)`` keeps working (TCP endpoints)."""
        return iter((self.server, self.port, self.regs))

    @property
    def url(self) -> str:
        """What a client opens: ``tcp://h:p``, ``socket://h:p`` (pyserial) or a pty path."""
        if self.path:
            return self.path
        return f"{'tcp' if self.transport == 'tcp' else 'socket'}://{self.host}:{self.port}"

    async def shutdown(self) -> None:
        await self.server.shutdown()
        if self._pty is not None:
            self._pty.close()


def _check_bindable(host: str, port: int) -> None:
    """Raise the OSError binding (`host`, `port`) gives (port busy, address not on this host):
    pymodbus only says "Could not start listen", without the reason."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as asyncio's server does
        try:
            probe.bind(addr)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _serial_slave_filter(device_id: int) -> Callable[[bool, Any], Any]:
    """pymodbus trace_pdu hook: a received request for another unit id becomes no request (the
    server then neither handles nor answers it); broadcasts (0) and our own id pass."""
    def only_mine(sending: bool, pdu: Any) -> Any:
        if not sending and pdu.dev_id not in (0, device_id):
            return None
        return pdu
    return only_mine


async def start_arm_server(regmap: RegisterMap, params: ArmParams, host: str = "127.0.0.1",
                           port: int = 0, device_id: int = 1,
                           clock: Callable[[], float] = time.monotonic,
                           faults: list[Fault] | None = None,
                           journal: Callable[[dict], None] | None = None,
                           transport: str = "tcp", baudrate: int = 115200) -> ServedArm:
    """Start a Modbus server for a simulated arm on `transport` (see SERVER_TRANSPORTS), with an
    optional fault plan and command journal.

    Port 0 picks a free port. Raises OSError if the address cannot be bound, KeyError for an
    unknown transport.

    On serial framings (RTU, ASCII; on a pty or a TCP socket) the server behaves like an RS-485
    slave: a request for another unit id gets no reply at all, and a broadcast (unit 0) is
    executed without a reply (Modbus over Serial Line v1.02, 2.2). pymodbus 3.16's simulator
    context answers any unit id (an unknown one with exception 4), so the request is dropped in
    the `trace_pdu` hook before it is handled. On Modbus TCP the unit id is not an address (the
    device is addressed by IP; Modbus Messaging on TCP/IP Implementation Guide v1.0b, 4.4.2):
    unit 0 and 255 are answered as the device itself.
    """
    framer, on_pty = SERVER_TRANSPORTS[transport]
    arm = sim_arm(params, clock(), params.program)
    regs = ArmRegisters(regmap, arm, clock, faults, journal)
    device = regs.device(device_id)
    trace = regs.corrupt if faults else None
    serial = framer in (FramerType.RTU, FramerType.ASCII)
    only_mine = _serial_slave_filter(device_id) if serial else None
    if on_pty:
        link = PtyPair()
        link.start(asyncio.get_running_loop())
        serial_server = ModbusSerialServer(device, framer=framer, port=link.device_path,
                                           baudrate=baudrate, trace_packet=trace,
                                           trace_pdu=only_mine, broadcast_enable=True)
        regs.server = serial_server
        await serial_server.serve_forever(background=True)
        return ServedArm(serial_server, regs, transport, path=link.client_path, _pty=link)
    _check_bindable(host, port)
    server = ModbusTcpServer(device, framer=framer, address=(host, port), trace_packet=trace,
                             trace_pdu=only_mine, broadcast_enable=serial)
    regs.server = server
    try:
        await server.serve_forever(background=True)
    except RuntimeError as exc:      # pymodbus: "Could not start listen, please check address."
        raise OSError(f"cannot listen on {host}:{port} ({exc})") from None
    sockets = getattr(server.transport, "sockets", None) or []
    if not sockets:
        await server.shutdown()
        raise OSError(f"simulator could not listen on {host}:{port}")
    return ServedArm(server, regs, transport, host=host, port=sockets[0].getsockname()[1])
