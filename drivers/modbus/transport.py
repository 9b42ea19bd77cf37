"""Modbus client transports built from plain settings, with library errors mapped to typed errors.

Transports (the `transport:` key of a lab file):

=============  ==================================================================================
``tcp``        Modbus TCP (MBAP header) to ``host:port``
``rtu``        Modbus RTU on a serial port (``serial_port``: /dev/ttyUSB0, a pty path, a pyserial
               URL), with ``baudrate``, ``parity``, ``bytesize``, ``stopbits``
``ascii``      Modbus ASCII framing (``:`` ... LRC CR LF) on a serial port, same settings
``rtu-tcp``    RTU frames (CRC, no MBAP) over a raw TCP socket to ``host:port`` (serial device
               servers; the same bytes pyserial's ``socket://`` carries); no serial settings
               are sent on the wire
``ascii-tcp``  ASCII frames over a raw TCP socket, likewise
=============  ==================================================================================

Only this module and `drivers/modbus/robot.py` touch the pymodbus client API (pinned 3.16.1).
`ModbusLink` gives register reads and writes that either return words or raise DeviceTimeout (no
reply within ``timeout_s`` x ``retries + 1``), DeviceFault (exception reply, naming the register and
the exception code) or DeviceError (connection).
"""
from __future__ import annotations

import logging
import os
import re
import socket
from dataclasses import dataclass
from typing import Any, Callable

import pymodbus
from pymodbus import FramerType
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

from drivers.errors import DeviceError, DeviceFault, DeviceTimeout, ProtocolError

# pymodbus logs every failed exchange with a packet dump; the bench reports errors itself.
pymodbus.pymodbus_apply_logging_config(logging.CRITICAL)

EXCEPTION_NAMES = {
    1: "illegal function", 2: "illegal data address", 3: "illegal data value",
    4: "server device failure", 5: "acknowledge", 6: "server device busy",
    8: "memory parity error", 10: "gateway path unavailable", 11: "gateway target failed to respond",
}
PARITIES = ("N", "E", "O")
#: transports that carry a serial line (serial settings apply, `serial_port` names the line)
SERIAL_TRANSPORTS = ("rtu", "ascii")
#: transports that reach ``host:port`` over TCP
TCP_TRANSPORTS = ("tcp", "rtu-tcp", "ascii-tcp")


@dataclass(frozen=True)
class ModbusSettings:
    """Where and how to reach a Modbus device. Times in seconds; retries = extra attempts.

    `serial_port` is used by the serial transports (a device path, pty path or pyserial URL);
    `host`/`port` by the TCP ones. Baud rate etc. only matter on a real serial line.
    """

    transport: str = "tcp"
    host: str = "127.0.0.1"
    port: int = 502
    device_id: int = 1
    timeout_s: float = 0.5
    retries: int = 1
    serial_port: str = ""
    baudrate: int = 19200
    parity: str = "N"
    bytesize: int = 8
    stopbits: int = 1

    @property
    def endpoint(self) -> str:
        if self.transport in SERIAL_TRANSPORTS:
            return (f"{self.transport}:{self.serial_port}@{self.baudrate},"
                    f"{self.bytesize}{self.parity}{self.stopbits}/{self.device_id}")
        return f"{self.transport}://{self.host}:{self.port}/{self.device_id}"

    def with_endpoint(self, endpoint: tuple[str, int] | str) -> "ModbusSettings":
        """A copy pointed at a simulator: ``(host, port)`` for TCP transports, a path or URL for
        serial ones."""
        from dataclasses import replace
        if isinstance(endpoint, str):
            return replace(self, serial_port=endpoint)
        return replace(self, host=endpoint[0], port=int(endpoint[1]))


Trace = Callable[[bool, bytes], bytes]


def _tcp(framer: FramerType) -> Callable[[ModbusSettings, Trace], Any]:
    # RTU/ASCII frames over TCP use pymodbus' TCP client with that framer: its receive path is
    # event driven, while the serial client on a pyserial socket:// URL polls with serial
    # inter-character timing (measured here: about 15 reads/s against 1,800 reads/s)
    def make(s: ModbusSettings, trace: Trace) -> Any:
        return ModbusTcpClient(s.host, port=s.port, framer=framer, timeout=s.timeout_s,
                               retries=s.retries, reconnect_delay=0, trace_packet=trace)
    return make


def _serial(framer: FramerType) -> Callable[[ModbusSettings, Trace], Any]:
    def make(s: ModbusSettings, trace: Trace) -> Any:
        # pymodbus opens ports with serial_for_url: device paths, ptys and pyserial URLs work
        port = s.serial_port
        if not port:
            raise DeviceError(f"transport {s.transport!r} needs serial_port")
        return ModbusSerialClient(port, framer=framer, baudrate=s.baudrate, parity=s.parity,
                                  bytesize=s.bytesize, stopbits=s.stopbits, timeout=s.timeout_s,
                                  retries=s.retries, reconnect_delay=0, trace_packet=trace)
    return make


#: transport name -> client factory; a new transport adds one line
CLIENTS: dict[str, Callable[[ModbusSettings, Trace], Any]] = {
    "tcp": _tcp(FramerType.SOCKET),
    "rtu": _serial(FramerType.RTU),
    "ascii": _serial(FramerType.ASCII),
    "rtu-tcp": _tcp(FramerType.RTU),
    "ascii-tcp": _tcp(FramerType.ASCII),
}
TRANSPORTS = tuple(CLIENTS)


#: called with ("tx" | "rx", raw bytes) for every frame sent or chunk received (traffic logs)
WireTap = Callable[[str, bytes], None]


def _why_not(settings: ModbusSettings) -> str:
    """Why a connection failed, told apart (pymodbus only returns False): a missing serial
    device, no permission, a refused TCP port, a host that does not answer or has no route."""
    if settings.transport in SERIAL_TRANSPORTS:
        port = settings.serial_port
        if "://" in port:
            return "the serial URL could not be opened (nothing listening there?)"
        if not os.path.exists(port):
            return f"serial device {port} does not exist (unplugged, or another name?)"
        if not os.access(port, os.R_OK | os.W_OK):
            return f"no permission to open {port} (add the user to the dialout group?)"
        return f"{port} exists but could not be opened (in use by another program?)"
    try:
        with socket.create_connection((settings.host, settings.port),
                                      timeout=max(0.2, settings.timeout_s)):
            return "the connection opened on a second try (the device was busy)"
    except ConnectionRefusedError:
        return "connection refused (nothing listening on that port)"
    except socket.timeout:
        return f"no answer within {max(0.2, settings.timeout_s):g} s (host down or filtered)"
    except socket.gaierror as exc:
        return f"unknown host {settings.host!r} ({exc.strerror})"
    except OSError as exc:
        return exc.strerror or str(exc)


class ModbusLink:
    """A connected Modbus client for one device id.

    `wire_tap`, when set, sees every raw frame sent and every chunk received, on the calling
    thread; it must not raise or block (it is for traffic logs).
    """

    def __init__(self, settings: ModbusSettings, wire_tap: WireTap | None = None) -> None:
        self.settings = settings
        self.wire_tap = wire_tap
        factory = CLIENTS.get(settings.transport)
        if factory is None:
            raise DeviceError(f"transport {settings.transport!r} is not supported "
                              f"(known: {', '.join(TRANSPORTS)})")
        # pymodbus' own retries are the bounded, explicit retries from the lab file
        self._client = factory(settings, self._trace_packet)
        self.device_id = settings.device_id

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
            raise DeviceError(f"cannot connect to {self.settings.endpoint}: "
                              f"{_why_not(self.settings)}")

    def close(self) -> None:
        try:
            self._client.close()
        except Exception:  # noqa: BLE001 - close never raises
            pass

    def read(self, table: str, address: int, count: int, what: str) -> list[int]:
        """Read `count` registers from `table` ("holding"/"input") at `address`."""
        fn = (self._client.read_holding_registers if table == "holding"
              else self._client.read_input_registers)
        rr = self._call(lambda: fn(address, count=count, device_id=self.device_id),
                        f"read {what} ({table} {address}..{address + count - 1})")
        regs = rr.registers
        if len(regs) < count:
            raise ProtocolError(f"{self.settings.endpoint}: read {what}: expected {count} "
                                f"registers, got {len(regs)}")
        return regs if len(regs) == count else regs[:count]

    def write(self, address: int, values: list[int], what: str) -> None:
        """Write holding registers starting at `address` (FC16)."""
        self._call(lambda: self._client.write_registers(address, values,
                                                        device_id=self.device_id),
                   f"write {what} (holding {address}..{address + len(values) - 1})")

    def _call(self, fn: Callable[[], Any], what: str) -> Any:
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
