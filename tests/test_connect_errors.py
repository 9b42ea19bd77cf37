"""A link that cannot be opened says why, and the reasons are told apart: a missing serial device
is not "nothing listening" on a TCP port."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from drivers.errors import DeviceError
from drivers.modbus.transport import ModbusSettings, ModbusLink


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_tcp_port() -> None:
    port = _free_port()
    with pytest.raises(DeviceError, match=rf"127.0.0.1:{port}/1: connection refused \(nothing "
                                          r"listening on that port\)"):
        ModbusLink(ModbusSettings(transport="tcp", host="127.0.0.1", port=port)).connect()


def test_missing_serial_device(tmp_path: Path) -> None:
    dev = tmp_path / "ttyUSB9"
    with pytest.raises(DeviceError, match=rf"serial device {dev} does not exist"):
        ModbusLink(ModbusSettings(transport="rtu", serial_port=str(dev))).connect()

