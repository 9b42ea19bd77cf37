"""The lab-devices layer (`bench.rig`): one place says where a lab's robot is and which proxy goes
on its link, for `hil-bench run` and for the pytest plugin alike.

The two used to disagree: for a real robot on `rtu-tcp` the CLI found ``('192.0.2.7', 4001)`` and
the plugin found nothing, so the plugin silently fell back to message-level impairment.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.clock import RealClock
from bench.impair import load_profile
from bench.lab import Lab, load_lab
from bench.observer import RunObserver
from bench.pytest_plugin.bench import Bench
from bench.pytest_plugin.devices import REAL, DeviceState
from bench.pytest_plugin.network import ProxiedArm
from bench.pytest_plugin.options import Settings
from bench.rig import Rig, robot_endpoint
from bench.simproc import ChildProcess
from drivers.endpoint import SerialEndpoint, TcpEndpoint

ROBOT_KEYS = {
    "tcp": "transport: tcp\n    host: 192.0.2.7\n    port: 502",
    "rtu-tcp": "transport: rtu-tcp\n    host: 192.0.2.7\n    port: 4001",
    "rtu": "transport: rtu\n    serial_port: /dev/ttyUSB0\n    baudrate: 38400",
    "ascii": "transport: ascii\n    serial_port: /dev/ttyS1\n    baudrate: 9600",
}


def _lab(tmp_path: Path, robot: str, name: str = "real-lab") -> Lab:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nrobot:\n    driver: modbus\n    map: native\n    {robot}\n",
                    encoding="utf-8")
    return load_lab(str(path))


@pytest.mark.parametrize("transport, expected", [
    ("tcp", TcpEndpoint("192.0.2.7", 502)),
    ("rtu-tcp", TcpEndpoint("192.0.2.7", 4001)),
    ("rtu", SerialEndpoint("/dev/ttyUSB0", 38400, "rtu")),
    ("ascii", SerialEndpoint("/dev/ttyS1", 9600, "line")),
])
def test_real_robot_endpoint_is_typed_by_transport(tmp_path: Path, transport: str,
                                                   expected: object) -> None:
    lab = _lab(tmp_path, ROBOT_KEYS[transport])
    assert robot_endpoint(lab) == expected


def test_grbl_endpoint_is_a_line_framed_serial_line(tmp_path: Path) -> None:
    path = tmp_path / "g.yaml"
    path.write_text("name: g\nrobot:\n    driver: grbl\n    serial_port: socket://127.0.0.1:9\n"
                    "    baudrate: 115200\n", encoding="utf-8")
    assert robot_endpoint(load_lab(str(path))) == \
        SerialEndpoint("socket://127.0.0.1:9", 115200, "line")


def test_cli_path_and_plugin_put_the_same_proxy_on_a_real_rtu_tcp_robot(tmp_path: Path) -> None:
    """A 'real' robot on rtu-tcp (a simulator process we start ourselves stands in for the serial
    device server): `Rig` (what `hil-bench run` uses) and the plugin's `Bench` find the same
    endpoint and start the same TCP proxy to it, and both read the pose through it."""
    with ChildProcess(["sim", "serve", "--robot", "native", "--transport", "rtu-tcp",
                     "--port", "0"]) as device:
        host, port = device.endpoint
        lab = _lab(tmp_path, f"transport: rtu-tcp\n    host: {host}\n    port: {port}")
        profile = load_profile("5g-urban")

        with Rig(lab, "wire", RealClock(), seed=3, network=profile) as rig:
            cli_pose = rig.robot().read_pose()
            cli_proxies = list(rig.proxies)

        bench = Bench(lab, Settings(hardware=str(lab.path), mode="hw"),
                      {"robot": DeviceState("robot", "real", REAL)}, tmp_path / "out")
        try:
            wire = bench.robot_wire()
            assert wire is not None, "the plugin must find the real robot's link"
            endpoint, opener = wire
            proxied = ProxiedArm(endpoint, opener, profile, 3, RunObserver())
            try:
                plugin_pose = proxied.read_pose()
                plugin_proxy = dict(proxied.proxy_info)
            finally:
                proxied.close()
        finally:
            bench.close()

    assert endpoint == robot_endpoint(lab) == TcpEndpoint(host, port)
    assert len(cli_proxies) == 1
    for info in (cli_proxies[0], plugin_proxy):
        assert info["proxy"] == "tcp"
        assert info["upstream"] == f"{host}:{port}"
        assert info["profile"] == "5g-urban"
    # the simulated arm rests at its home pose: both connections read it through their proxy
    assert cli_pose.distance_to(plugin_pose) < 1e-6


def test_rig_virtual_mode_refuses_a_real_robot(tmp_path: Path) -> None:
    from drivers.errors import ConfigError
    lab = _lab(tmp_path, ROBOT_KEYS["tcp"])
    with pytest.raises(ConfigError, match="virtual mode needs a simulated robot"):
        with Rig(lab, "virtual") as rig:
            rig.robot()


def test_rig_opens_modem_lazily_and_closes_everything(tmp_path: Path) -> None:
    """The sim5g lab in wire mode: the robot's simulator starts with the robot, the modem's only
    when asked; after close no child process is left."""
    lab = load_lab("sim5g")
    with Rig(lab, "wire", seed=1) as rig:
        rig.robot().read_pose()
        assert len(rig.simulators) == 1
        modem = rig.modem()
        assert modem is not None and modem.read_link().rat
        assert len(rig.simulators) == 2
        pids = [int(s["pid"]) for s in rig.simulators]
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or \
            Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
