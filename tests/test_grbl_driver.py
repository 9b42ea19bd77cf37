"""The GRBL driver against the GRBL simulator on a real pty and over pyserial socket://, plus the
simulator's bytes as any serial program sees them, and `hil-bench run --lab grbl` end to end."""
from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import threading
import time

import pytest

from drivers.errors import DeviceFault
from drivers.grbl.robot import GrblArm, GrblSettings
from drivers.pose import Pose
from drivers.robot import ArmState
from drivers.sim.arm import ArmParams
from drivers.sim.grbl import start_grbl_server


class Grbl:
    def __init__(self, transport: str, **kw) -> None:
        self.transport, self.kw = transport, kw
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        self.srv = asyncio.run_coroutine_threadsafe(
            start_grbl_server(ArmParams(seed=2), self.transport, **self.kw), self.loop).result(5)
        return self.srv

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.srv.shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _arrive(arm: GrblArm, seq: int, timeout: float = 5.0):
    t0 = time.monotonic()
    while (st := arm.read_status()).state is not ArmState.ARRIVED or st.seq != seq:
        assert time.monotonic() - t0 < timeout, st
        time.sleep(0.005)
    return st


@pytest.mark.parametrize("transport", ["pty", "tcp"])
def test_move_arrives_after_the_moves_ok_and_idle(transport: str) -> None:
    with Grbl(transport, wco=(10.0, -5.0, 0.0)) as srv:
        assert srv.url.startswith("/dev/pts/" if transport == "pty" else "socket://127.0.0.1:")
        with GrblArm(GrblSettings(srv.url, timeout_s=0.5)) as arm:
            start = arm.read_pose()
            assert start.distance_to(Pose(390.0, 5.0, 300.0)) < 0.01   # work = machine - WCO
            assert arm.read_status().state is ArmState.IDLE
            seq = arm.move_to(Pose(430.0, 20.0, 280.0), 100.0)
            assert arm.read_status().state is ArmState.MOVING
            _arrive(arm, seq)
            assert arm.read_pose().distance_to(Pose(430.0, 20.0, 280.0)) < 0.1
        assert srv.sim.lines[0] == "G90 G21 G1 X430.000 Y20.000 Z280.000 F6000.0"
        assert srv.sim.lines[1] == "G4 P0"


def test_stop_is_feed_hold_then_soft_reset_without_alarm() -> None:
    with Grbl("pty") as srv, GrblArm(GrblSettings(srv.url, timeout_s=0.5)) as arm:
        arm.move_to(Pose(600.0, 0.0, 300.0), 50.0)                      # 4 s move
        time.sleep(0.3)
        arm.stop()
        st = arm.read_status()
        assert st.state is ArmState.STOPPED and st.fault_code == 0
        x = arm.read_pose().x
        assert 405.0 < x < 450.0                                        # decelerated, kept
        time.sleep(0.2)
        assert arm.read_pose().x == pytest.approx(x, abs=0.05)          # planner flushed
        seq = arm.move_to(Pose(420.0, 0.0, 300.0), 300.0)               # usable again
        _arrive(arm, seq)


def test_error_reply_is_a_device_fault_naming_line_and_code() -> None:
    with Grbl("pty") as srv, GrblArm(GrblSettings(srv.url, timeout_s=0.5)) as arm:
        with pytest.raises(DeviceFault, match=r"'G20 G0 X1': error:20 \(unsupported"):
            arm._send("G20 G0 X1")


def test_reset_while_moving_is_alarm_3_reported_as_fault() -> None:
    with Grbl("pty") as srv, GrblArm(GrblSettings(srv.url, timeout_s=0.5)) as arm:
        arm.move_to(Pose(600.0, 0.0, 300.0), 50.0)
        time.sleep(0.2)
        arm._reset()                                   # 0x18 during motion, no feed hold
        st = arm.read_status()
        assert st.state is ArmState.FAULT and st.fault_code == 3
        with pytest.raises(DeviceFault, match="error:9"):
            arm.move_to(Pose(400.0, 0.0, 300.0), 100.0)
        arm._send("$X")
        assert arm.read_status().state is not ArmState.FAULT


def test_the_pty_speaks_grbl_to_any_serial_program() -> None:
    """Raw bytes on the pty, no driver: banner, `?` report, a line and its ok."""
    with Grbl("pty") as srv:
        fd = os.open(srv.url, os.O_RDWR | os.O_NOCTTY)
        try:
            def read_until(token: bytes, timeout: float = 2.0) -> bytes:
                buf, t0 = b"", time.monotonic()
                while token not in buf:
                    assert time.monotonic() - t0 < timeout, buf
                    if select.select([fd], [], [], 0.05)[0]:
                        buf += os.read(fd, 1024)
                return buf
            os.write(fd, b"?")
            banner, report = read_until(b">\r\n").decode().strip().rsplit("\n", 1)
            assert banner.strip() == "Grbl 1.1h ['$' for help]"
            assert report.startswith("<Idle|") and "MPos:400.000,0.000,300.000" in report
            os.write(fd, b"G91 G1 X1 F600\n")
            assert read_until(b"ok\r\n").strip().endswith(b"ok")
            os.write(fd, b"bogus\n")
            assert b"error:1" in read_until(b"error:")
        finally:
            os.close(fd)


def test_hil_bench_run_on_the_grbl_lab(tmp_path) -> None:
    out = subprocess.run([sys.executable, "-m", "bench", "run", "--lab", "grbl", "--cycles", "2",
                          "--out", str(tmp_path), "-q"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"] == "pass" and report["lab"]["robot"].startswith("grbl:/dev/pts/")
