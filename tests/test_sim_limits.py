"""The simulated controllers at their limits, as real ones behave: a target out of reach is refused
with the controller's fault (and no motion), a serial slave stays silent for other unit ids, and
a broadcast (unit 0) is executed without a reply.

The serial checks use hand-built RTU frames on a raw socket (an independent client: the CRC and
framing come from the Modbus over Serial Line specification, not from pymodbus).
"""
from __future__ import annotations

import socket
import struct
import time

import pytest
from _simserver import SimServer

from drivers.modbus.regmap import load_map, resolve_map
from drivers.modbus.robot import ModbusRobotArm
from drivers.modbus.transport import ModbusSettings
from drivers.pose import Pose
from drivers.robot import ArmState
from drivers.sim.arm import ArmParams
from drivers.sim.inprocess import InProcessArm
from drivers.sim.reach import FAULT_UNREACHABLE, REACH_MM

FAST = ArmParams(seed=3, max_accel_mm_s2=20000, max_jerk_mm_s3=1e6)
NATIVE = load_map(resolve_map("native"))


def _crc(frame: bytes) -> bytes:
    """CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), low byte first (Serial Line 6.2.2)."""
    crc = 0xFFFF
    for b in frame:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


def _ask(port: int, frame: bytes, wait_s: float = 0.4) -> bytes:
    """Send one RTU frame, return whatever comes back within `wait_s` (b"" for silence)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(frame + _crc(frame))
        s.settimeout(wait_s)
        try:
            return s.recv(256)
        except socket.timeout:
            return b""


def _read_ack_seq(port: int, unit: int) -> int:
    """FC3 of ack_seq (native map register 21) from `unit`."""
    reply = _ask(port, bytes([unit, 3, 0, 21, 0, 1]), wait_s=2.0)
    assert reply[:3] == bytes([unit, 3, 2]) and _crc(reply[:-2]) == reply[-2:], reply.hex()
    return struct.unpack(">H", reply[3:5])[0]


def test_serial_slave_is_silent_for_other_unit_ids() -> None:
    with SimServer("native", FAST, transport="rtu-tcp", device_id=1) as srv:
        port = srv.served.port
        assert _read_ack_seq(port, 1) == 0            # its own id: answered
        before = srv.served.regs.requests
        for other in (2, 17, 247):
            assert _ask(port, bytes([other, 3, 0, 21, 0, 1])) == b"", other
        assert srv.served.regs.requests == before     # not even handled


def test_serial_broadcast_is_executed_without_reply() -> None:
    """A broadcast FC16 write of target, speed, command and sequence: no reply, but the arm takes
    the command (ack_seq follows the sequence, the arm moves)."""
    target = Pose(450.0, 20.0, 320.0, 180.0, 0.0, 0.0)
    regs = []
    for name, value in (("target_x", target.x), ("target_y", target.y), ("target_z", target.z),
                        ("target_a", target.a), ("target_b", target.b), ("target_c", target.c),
                        ("speed", 500.0), ("command", NATIVE.commands["move"]), ("sequence", 9)):
        regs += NATIVE[name].encode(value)
    first = NATIVE["target_x"].address
    assert NATIVE["sequence"].address == first + len(regs) - 1
    with SimServer("native", FAST, transport="rtu-tcp", device_id=1) as srv:
        port = srv.served.port
        frame = bytes([0, 16]) + struct.pack(">HHB", first, len(regs), 2 * len(regs)) + \
            b"".join(struct.pack(">H", w) for w in regs)
        assert _ask(port, frame) == b""               # a broadcast is never answered
        assert _read_ack_seq(port, 1) == 9            # ... but it was executed
        deadline = time.monotonic() + 5
        while srv.arm.pose(time.monotonic()).distance_to(target) > 0.5:
            assert time.monotonic() < deadline, "the broadcast move did not happen"
            time.sleep(0.02)


def test_tcp_server_still_answers_its_unit_id() -> None:
    with SimServer("native", FAST, transport="tcp", device_id=1) as srv, \
            ModbusRobotArm(NATIVE, ModbusSettings(transport="tcp", device_id=1, timeout_s=0.5)
                           .with_endpoint(srv.endpoint)) as arm:
        assert arm.read_status().state is not ArmState.FAULT


@pytest.mark.parametrize("target", [Pose(1e9, 0, 300, 180, 0, 0), Pose(0, 0, -REACH_MM - 1),
                                    Pose(1000, 800, 300, 180, 0, 0)])
def test_target_out_of_reach_is_refused_with_the_controllers_fault(target: Pose) -> None:
    """Over the real Modbus driver: the controller faults with code 4 and does not move."""
    with SimServer("native", FAST, transport="tcp") as srv, \
            ModbusRobotArm(NATIVE, ModbusSettings(transport="tcp", device_id=1, timeout_s=0.5)
                           .with_endpoint(srv.endpoint)) as arm:
        start = arm.read_pose()
        seq = arm.move_to(target, 500.0)
        st = arm.read_status()
        assert st.seq == seq and st.state is ArmState.FAULT and st.fault_code == FAULT_UNREACHABLE
        time.sleep(0.1)
        assert arm.read_pose().distance_to(start) < 0.2      # it never moved
        # a reachable target afterwards is taken again
        seq = arm.move_to(Pose(410.0, 0.0, 300.0, 180.0, 0.0, 0.0), 800.0)
        assert arm.read_status().state is not ArmState.FAULT


def test_in_process_arm_refuses_the_same_targets() -> None:
    now = [0.0]
    with InProcessArm(FAST, lambda: now[0]) as arm:
        arm.move_to(Pose(0.0, 1400.0, 0.0, 180.0, 0.0, 0.0), 500.0)
        now[0] = 1.0
        st = arm.read_status()
        assert st.state is ArmState.FAULT and st.fault_code == FAULT_UNREACHABLE
        assert arm.read_pose().distance_to(Pose(400.0, 0.0, 300.0)) < 0.5
