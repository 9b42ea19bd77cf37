"""Modbus client transports built from plain settings, with library errors mapped to typed errors.

Only this module and `drivers/modbus/robot.py` touch the pymodbus client API (pinned 3.16.1).
`ModbusLink` gives register reads and writes that either return words or raise DeviceTimeout,
DeviceFault (exception reply, naming the register and code) or DeviceError (connection).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Callable

import pymodbus
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from drivers.errors import DeviceError, DeviceFault, DeviceTimeout, ProtocolError

# pymodbus logs every failed exchange with a packet dump; the bench reports errors itself.
pymodbus.pymodbus_apply_logging_config(logging.CRITICAL)

EXCEPTION_NAMES = {
    1: "illegal function", 2: "illegal data address", 3: "illegal data value",
    4: "server device failure", 5: "acknowledge", 6: "server device busy",
    8: "memory parity error", 10: "gateway path unavailable", 11: "gateway target failed to respond",
}


@dataclass(frozen=True)
class LinkSettings:
    """Where and how to reach a Modbus device. Times in seconds; retries = extra attempts."""

    transport: str = "tcp"
    host: str = "127.0.0.1"
    port: int = 502
    device_id: int = 1
    timeout_s: float = 0.5
    retries: int = 1

    @property
    def endpoint(self) -> str:
        return f"{self.transport}://{self.host}:{self.port}/{self.device_id}"


#: called with ("tx" | "rx", raw bytes) for every frame sent or chunk received (traffic logs)
WireTap = Callable[[str, bytes], None]


class ModbusLink:
    """A connected Modbus client for one device id.

    `wire_tap`, when set, sees every raw frame sent and every chunk received, on the calling
    thread; it must not raise or block (it is for traffic logs).
    """

    def __init__(self, settings: LinkSettings, wire_tap: WireTap | None = None) -> None:
        self.settings = settings
        self.wire_tap = wire_tap
        if settings.transport != "tcp":
            raise DeviceError(f"transport {settings.transport!r} is not supported yet")
        # pymodbus' own retries are the bounded, explicit retries from the lab file
        self._client = ModbusTcpClient(settings.host, port=settings.port,
                                       timeout=settings.timeout_s, retries=settings.retries,
                                       reconnect_delay=0, trace_packet=self._trace_packet)

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        tap = self.wire_tap
        if tap is not None:
            try:
                tap("tx" if sending else "rx", bytes(data))
            except Exception:  # noqa: BLE001 - a broken log must never break the exchange
                pass
        return data

    def connect(self) -> None:
        """Open the connection; DeviceError naming the endpoint if it cannot be opened."""
        try:
            ok = self._client.connect()
        except (OSError, ModbusException) as exc:
            raise DeviceError(f"cannot connect to {self.settings.endpoint}: {exc}") from None
        if not ok:
            raise DeviceError(f"cannot connect to {self.settings.endpoint} "
                              f"(nothing listening, or refused)")

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # noqa: BLE001 - close never raises
            pass

    def read(self, table: str, address: int, count: int, what: str) -> list[int]:
        """Read `count` registers from `table` ("holding"/"input") at `address`."""
        fn = (self._client.read_holding_registers if table == "holding"
              else self._client.read_input_registers)
        rr = self._call(lambda: fn(address, count=count, device_id=self.settings.device_id),
                        f"read {what} ({table} {address}..{address + count - 1})")
        regs = list(getattr(rr, "registers", []) or [])
        if len(regs) < count:
            raise ProtocolError(f"{self.settings.endpoint}: read {what}: expected {count} "
                                f"registers, got {len(regs)}")
        return regs[:count]

    def write(self, address: int, values: list[int], what: str) -> None:
        """Write holding registers starting at `address` (FC16)."""
        self._call(lambda: self._client.write_registers(address, values,
                                                        device_id=self.settings.device_id),
                   f"write {what} (holding {address}..{address + len(values) - 1})")

    def _call(self, fn, what: str):
        try:
            rr = fn()
        except ModbusIOException as exc:
            raise DeviceTimeout(f"{self.settings.endpoint}: {what}: no reply within "
                                f"{self.settings.timeout_s:g} s x {self.settings.retries + 1} "
                                f"attempts ({_short(exc)})") from None
        except ConnectionException as exc:
            raise DeviceError(f"{self.settings.endpoint}: {what}: connection lost "
                              f"({_short(exc)})") from None
        except ModbusException as exc:
            raise ProtocolError(f"{self.settings.endpoint}: {what}: {_short(exc)}") from None
        except OSError as exc:
            raise DeviceError(f"{self.settings.endpoint}: {what}: {exc}") from None
        if rr is None:
            raise DeviceTimeout(f"{self.settings.endpoint}: {what}: no reply")
        if rr.isError():
            code = getattr(rr, "exception_code", None)
            if code is None:
                raise ProtocolError(f"{self.settings.endpoint}: {what}: bad reply {rr}")
            name = EXCEPTION_NAMES.get(code, "unknown")
            raise DeviceFault(f"{self.settings.endpoint}: {what}: Modbus exception {code} "
                              f"({name})")
        return rr


def _short(exc: Exception) -> str:
    return re.sub(r"^Modbus Error: (\[[^\]]*\] )?", "", str(exc)).strip()
