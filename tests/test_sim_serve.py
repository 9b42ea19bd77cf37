"""`hil-bench sim serve` as its own process: one JSON ready line, clean stop on SIGINT and SIGTERM."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from drivers.modbus.regmap import load_map, resolve_map
from drivers.modbus.robot import ModbusRobotArm
from drivers.modbus.transport import ModbusSettings
from tests.conftest import port_is_free


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_prints_endpoint_and_stops_cleanly(sig: signal.Signals) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bench", "sim", "serve", "--seed", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["event"] == "ready" and ready["host"] == "127.0.0.1"
        assert ready["protocol"] == "modbus-tcp" and ready["map"] == "native"
        assert ready["seed"] == 5 and ready["pid"] == proc.pid
        arm = ModbusRobotArm(load_map(resolve_map("native")),
                             ModbusSettings(port=ready["port"], timeout_s=1.0, retries=0))
        with arm:
            assert arm.read_pose().x == pytest.approx(400.0)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1]) == {"event": "stopped"}
        assert "Traceback" not in err
        assert port_is_free(ready["port"])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_bad_lab_is_exit_2(tmp_path) -> None:
    res = subprocess.run([sys.executable, "-m", "bench", "sim", "serve", "--lab",
                          str(tmp_path / "missing.yaml")], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 2 and "missing.yaml: file not found" in res.stderr
