"""The one register-map driver over every transport, against the simulator on a real socket or pty:
TCP, RTU over TCP (pyserial socket://), ASCII over TCP, RTU and ASCII on a pty. Plus typed errors:
exception replies name the register and code, a silent peer is a timeout within the configured time.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest
from _simserver import SimServer

from drivers.errors import DeviceFault, DeviceTimeout
from drivers.modbus.regmap import load_map, resolve_map
from drivers.modbus.robot import ModbusRobotArm
from drivers.modbus.transport import ModbusSettings, ModbusLink
from drivers.pose import Pose
from drivers.robot import ArmState
from drivers.sim.arm import ArmParams

CLIENT = {"tcp": "tcp", "rtu-tcp": "rtu-tcp", "ascii-tcp": "ascii-tcp", "rtu-pty": "rtu",
          "ascii-pty": "ascii"}
FAST = ArmParams(seed=3, max_accel_mm_s2=20000, max_jerk_mm_s3=1e6)


def _arm(server: SimServer, transport: str, device_id: int = 1, **kw) -> ModbusRobotArm:
    link = ModbusSettings(transport=CLIENT[transport], device_id=device_id, timeout_s=0.5,
                        baudrate=115200, **kw).with_endpoint(server.endpoint)
    return ModbusRobotArm(server.regmap, link)


def _wait_arrived(arm: ModbusRobotArm, seq: int, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = arm.read_status()
        if st.seq == seq and st.state is ArmState.ARRIVED:
            return st
        time.sleep(0.005)
    raise AssertionError(f"no arrival: {st}")


@pytest.mark.parametrize("transport", list(CLIENT))
def test_move_and_read_over_each_transport(transport: str) -> None:
    with SimServer("native", FAST, transport=transport, device_id=5) as srv, \
            _arm(srv, transport, device_id=5) as arm:
        seq = arm.move_to(Pose(420.0, -30.0, 310.0, 180.0, 0.0, 5.0), 800.0)
        _wait_arrived(arm, seq)
        got = arm.read_pose()
        assert got.distance_to(Pose(420.0, -30.0, 310.0)) < 0.1, got
        assert abs(got.c - 5.0) < 0.01
        assert srv.served.regs.requests > 3


def test_pty_endpoint_is_a_path_any_serial_program_opens() -> None:
    import minimalmodbus
    with SimServer("iai_robocylinder", FAST, transport="rtu-pty", device_id=2) as srv:
        assert isinstance(srv.endpoint, str) and srv.endpoint.startswith("/dev/pts/")
        inst = minimalmodbus.Instrument(srv.endpoint, 2, mode=minimalmodbus.MODE_RTU)
        inst.serial.baudrate = 115200
        inst.serial.timeout = 0.5
        try:
            raw = inst.read_long(0x9000, functioncode=3, signed=True,
                                 byteorder=minimalmodbus.BYTEORDER_BIG)
        finally:
            inst.serial.close()
        assert raw == round(FAST.home.x * 100)          # 0.01 mm, high word first


def test_iai_moves_by_writing_the_target_and_arrives_on_pend_over_ascii() -> None:
    with SimServer("iai_robocylinder", FAST, transport="ascii-pty", device_id=2) as srv, \
            _arm(srv, "ascii-pty", device_id=2) as arm:
        seq = arm.move_to(Pose(x=123.45), 200.0)
        st = _wait_arrived(arm, seq)
        assert st.seq == seq
        assert abs(arm.read_pose().x - 123.45) < 0.05
        arm.stop()
        assert arm.read_status().state is ArmState.STOPPED


def test_exception_reply_names_register_and_code() -> None:
    with SimServer("native", FAST) as srv:
        link = ModbusLink(ModbusSettings(timeout_s=0.5).with_endpoint(srv.endpoint))
        link.connect()
        try:
            with pytest.raises(DeviceFault, match=r"read probe \(holding 40..41\): Modbus "
                                                  r"exception 2 \(illegal data address\)"):
                link.read("holding", 40, 2, "probe")
            with pytest.raises(DeviceFault, match="holding 0..1.*exception 2"):
                link.write(0, [1, 2], "pose")            # actual pose is read-only
        finally:
            link.close()


def test_unknown_command_code_is_a_device_fault_naming_the_code() -> None:
    with SimServer("native", FAST) as srv:
        link = ModbusLink(ModbusSettings(timeout_s=0.5).with_endpoint(srv.endpoint))
        link.connect()
        try:
            with pytest.raises(DeviceFault, match="exception 3 .illegal data value."):
                link.write(114, [99, 7], "command")
        finally:
            link.close()


@pytest.mark.parametrize("transport", ["tcp", "rtu-tcp"])
def test_silent_peer_times_out_within_configured_time(transport: str) -> None:
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    conns = []
    threading.Thread(target=lambda: conns.append(lsock.accept()), daemon=True).start()
    link = ModbusLink(ModbusSettings(transport=transport, timeout_s=0.15, retries=1)
                      .with_endpoint(lsock.getsockname()))
    link.connect()
    t0 = time.monotonic()
    try:
        with pytest.raises(DeviceTimeout, match=r"no reply within 0.15 s x 2 attempts"):
            link.read("holding", 0, 2, "pose")
    finally:
        link.close()
        lsock.close()
    assert time.monotonic() - t0 < 1.5


def test_lab_keys_for_serial_transports(tmp_path) -> None:
    from bench.lab import load_lab
    lab = load_lab("iai_robocylinder")
    link = lab.robot.spec.link
    assert (link.transport, link.baudrate, link.device_id) == ("rtu", 38400, 2)
    bad = tmp_path / "lab.yaml"
    bad.write_text("name: x\nrobot:\n  driver: modbus\n  map: native\n  transport: rtu\n"
                   "  parity: X\n")
    from drivers.errors import ConfigError
    with pytest.raises(ConfigError, match=r"lab.yaml:6: robot.parity: 'X' is not one of"):
        load_lab(str(bad))
    bad.write_text("name: x\nrobot:\n  driver: modbus\n  transport: rtu\n")
    with pytest.raises(ConfigError, match="rtu needs serial_port"):
        load_lab(str(bad))


def test_lab_over_rtu_runs_against_simulator_on_a_pty(tmp_path) -> None:
    """The whole chain: lab with transport rtu -> `sim serve` child on a pty -> driver."""
    from bench.lab import load_lab
    from bench.simproc import ChildProcess
    lab = load_lab("iai_robocylinder")
    with ChildProcess.for_robot(lab.path, seed=2) as sim:
        assert isinstance(sim.endpoint, str) and sim.info["protocol"] == "modbus-rtu-pty"
        with lab.robot.spec.open(sim.endpoint) as arm:
            assert abs(arm.read_pose().x - 100.0) < 0.05
            seq = arm.move_to(Pose(x=140.0), 300.0)
            _wait_arrived(arm, seq)
            assert abs(arm.read_pose().x - 140.0) < 0.05


def test_map_without_targets_refuses_to_move() -> None:
    from drivers.errors import ConfigError
    m = load_map(resolve_map("igus_rebel"))
    with SimServer(m, FAST) as srv, _arm(srv, "tcp") as arm:
        assert arm.read_pose().distance_to(FAST.home) < 0.05
        assert len(arm.read_joints()) == 6
        with pytest.raises(ConfigError, match="no target registers"):
            arm.move_to(Pose(400, 0, 300), 100.0)


def test_rtu_serial_client_on_a_pyserial_socket_url() -> None:
    """`transport: rtu` with `serial_port: socket://...` goes through pyserial's URL handler
    (pymodbus' serial client), the same bytes `rtu-tcp` sends with the TCP client."""
    with SimServer("native", FAST, transport="rtu-tcp") as srv:
        host, port = srv.endpoint
        link = ModbusSettings(transport="rtu", serial_port=f"socket://{host}:{port}",
                            timeout_s=0.5)
        with ModbusRobotArm(srv.regmap, link) as arm:
            assert arm.read_pose().distance_to(FAST.home) < 0.05
            assert arm.name.startswith("modbus:native@rtu:socket://127.0.0.1:")
