"""Independent Modbus clients read the simulator's registers exactly as the native map documents.

pyModbusTCP (pure Python, not pymodbus) and mbpoll (C, built on libmodbus; Debian
package, installed by .ci/run) are real protocol peers: if the simulator's byte layout drifted
from hardware/maps/native.yaml, they would read other values.
"""
from __future__ import annotations

import shutil
import struct
import subprocess

import pytest
from pyModbusTCP.client import ModbusClient

from drivers.pose import Pose
from drivers.sim.arm import ArmParams

HOME = Pose(412.5, -37.25, 288.0, 179.5, -1.25, 90.0)


def _floats(words: list[int]) -> list[float]:
    return [struct.unpack(">f", struct.pack(">HH", words[i], words[i + 1]))[0]
            for i in range(0, len(words), 2)]


def test_pymodbustcp_reads_pose_and_status(serve_arm) -> None:
    served = serve_arm(ArmParams(home=HOME))
    c = ModbusClient(host="127.0.0.1", port=served.port, unit_id=1, timeout=2.0)
    try:
        words = c.read_holding_registers(0, 12)
        assert words is not None, c.last_except_as_txt
        assert _floats(words) == pytest.approx([412.5, -37.25, 288.0, 179.5, -1.25, 90.0])
        status = c.read_holding_registers(20, 4)
        assert status[:3] == [0, 0, 0]          # idle, no command yet, no fault
        # a move written by this independent client is executed by the simulator
        target = struct.unpack(">12H", struct.pack(">6f", 420, -37.25, 288, 179.5, -1.25, 90))
        speed = struct.unpack(">2H", struct.pack(">f", 500.0))
        assert c.write_multiple_registers(100, [*target, *speed, 1, 1]), c.last_except_as_txt
        assert c.read_holding_registers(21, 1) == [1]          # ack_seq echoes the sequence
        assert c.read_holding_registers(20, 1)[0] in (1, 2)    # moving or already arrived
        # an address the map does not define is an exception, as on a real controller
        assert c.read_holding_registers(30, 2) is None
        assert c.last_except == 2
    finally:
        c.close()


@pytest.mark.skipif(shutil.which("mbpoll") is None,
                    reason="mbpoll not installed (apt-get install mbpoll; .ci/run installs it)")
def test_mbpoll_reads_float_pose(serve_arm) -> None:
    served = serve_arm(ArmParams(home=HOME))
    out = subprocess.run(
        ["mbpoll", "-m", "tcp", "-p", str(served.port), "-a", "1", "-0", "-r", "0", "-c", "6",
         "-t", "4:float", "-B", "-1", "127.0.0.1"],
        capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    values = {}
    for line in out.stdout.splitlines():
        if line.startswith("["):
            ref, val = line.split(":", 1)
            values[int(ref.strip("[]"))] = float(val)
    assert [values[a] for a in (0, 2, 4, 6, 8, 10)] == pytest.approx(
        [412.5, -37.25, 288.0, 179.5, -1.25, 90.0])
