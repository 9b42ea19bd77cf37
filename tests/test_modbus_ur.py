"""The Universal Robots map end to end: `hil-bench sim serve --robot ur` read by mbpoll exactly as
the README shows, joint angles with revolution counters, the general-purpose-register handshake."""
from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from _simserver import SimServer

from drivers.modbus.transport import ModbusSettings
from drivers.modbus.robot import ModbusRobotArm
from drivers.pose import Pose
from drivers.robot import ArmState
from drivers.sim.arm import ArmParams


def _serve(*args: str) -> tuple[subprocess.Popen, list[dict]]:
    p = subprocess.Popen([sys.executable, "-m", "bench", "sim", "serve", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, PYTHONUNBUFFERED="1"))
    lines = []
    n = args.count("--robot") or 1
    while len(lines) < n:
        line = p.stdout.readline()
        if not line:
            raise AssertionError(p.stderr.read())
        lines.append(json.loads(line))
    return p, lines


def _stop(p: subprocess.Popen) -> str:
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=10)
    assert p.returncode == 0
    return out


@pytest.mark.skipif(shutil.which("mbpoll") is None,
                    reason="mbpoll not installed (apt-get install mbpoll; .ci/run installs it)")
def test_mbpoll_reads_the_simulated_ur_pose_as_the_readme_shows() -> None:
    p, (ready,) = _serve("--robot", "ur", "--seed", "1")
    try:
        assert ready["event"] == "ready" and ready["map"] == "ur"
        assert ready["url"] == f"tcp://127.0.0.1:{ready['port']}"
        # README: mbpoll -m tcp -p PORT -a 1 -0 -r 400 -c 6 -t 4 -1 127.0.0.1
        out = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(ready["port"]), "-a", "1", "-0",
                              "-r", "400", "-c", "6", "-t", "4", "-1", "127.0.0.1"],
                             capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        regs = {int(k.strip("[]")): int(v) for k, v in
                (line.split(":") for line in out.stdout.splitlines() if line.startswith("[4"))}
        # home pose 400, 0, 300 mm; a = 180 deg is the rotation vector (pi, 0, 0) rad
        assert regs[400] == 4000 and regs[402] == 3000
        assert abs(regs[401]) <= 1
        assert regs[403] == 3142 and regs[404] == 0 and regs[405] == 0
    finally:
        out = _stop(p)
    assert json.loads(out.strip().splitlines()[-1]) == {"event": "stopped"}


def test_sim_serve_prints_one_line_per_endpoint_and_serves_each() -> None:
    p, lines = _serve("--robot", "ur", "--robot", "iai_robocylinder", "--transport", "rtu-tcp")
    try:
        assert [x["map"] for x in lines] == ["ur", "iai_robocylinder"]
        assert all(x["url"].startswith("socket://127.0.0.1:") for x in lines)
        assert lines[0]["protocol"] == "modbus-rtu-tcp"
        from drivers.modbus.regmap import load_map, resolve_map
        arm = ModbusRobotArm(load_map(resolve_map("iai_robocylinder")),
                             ModbusSettings(transport="rtu-tcp", timeout_s=0.5)
                             .with_endpoint((lines[1]["host"], lines[1]["port"])))
        with arm:
            assert abs(arm.read_pose().x - 400.0) < 0.05
    finally:
        _stop(p)


def test_sim_serve_bad_map_is_one_line_exit_2() -> None:
    out = subprocess.run([sys.executable, "-m", "bench", "sim", "serve", "--robot", "nope"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("hil-bench: error: --robot nope: unknown register map")
    assert "Traceback" not in out.stderr


def test_joint_angles_with_revolution_counters() -> None:
    # y < 0 puts the base joint at a negative angle: raw within the turn + counter 65535 (-1)
    params = ArmParams(seed=1, home=Pose(300.0, -300.0, 300.0, 180.0, 0.0, 0.0))
    with SimServer("ur", params) as srv:
        link = ModbusSettings(timeout_s=0.5).with_endpoint(srv.endpoint)
        with ModbusRobotArm(srv.regmap, link) as arm:
            raw = arm.link.read("holding", 270, 1, "j1")[0]
            turns = arm.link.read("holding", 320, 1, "j1 turns")[0]
            assert turns == 65535 and raw == round(1000 * (2 * math.pi - math.pi / 4))
            joints = arm.read_joints()
            assert joints[0] == pytest.approx(-45.0, abs=0.06)      # 1 mrad resolution
            assert len(joints) == 6


def test_ur_handshake_and_rotation_vector_orientation() -> None:
    with SimServer("ur", ArmParams(seed=2, max_jerk_mm_s3=1e6)) as srv:
        link = ModbusSettings(timeout_s=0.5).with_endpoint(srv.endpoint)
        with ModbusRobotArm(srv.regmap, link) as arm:
            target = Pose(450.0, 25.5, 280.0, 170.0, 10.0, 30.0)
            seq = arm.move_to(target, 500.0)
            # what the robot program sees in the general purpose registers
            gp = arm.link.read("holding", 128, 12, "gp")
            assert gp[0:3] == [4500, 255, 2800] and gp[6:9] == [500, 1, seq]
            deadline = time.monotonic() + 5
            while (st := arm.read_status()).state is not ArmState.ARRIVED or st.seq != seq:
                assert time.monotonic() < deadline, st
                time.sleep(0.005)
            assert arm.link.read("holding", 137, 2, "ack/status") == [seq, 2]
            got = arm.read_pose()
            assert got.distance_to(target) < 0.15                   # 0.1 mm registers
            for axis in "abc":                                       # 1 mrad = 0.057 deg
                assert getattr(got, axis) == pytest.approx(getattr(target, axis), abs=0.15)


def test_hil_bench_run_on_the_ur_lab_passes_in_wire_mode(tmp_path) -> None:
    out = subprocess.run([sys.executable, "-m", "bench", "run", "--lab", "ur", "--cycles", "2",
                          "--out", str(tmp_path), "-q"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"] == "pass"
    assert report["lab"]["robot"].startswith("modbus:ur@tcp://127.0.0.1:")
