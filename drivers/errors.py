"""Typed errors shared by every driver and by the bench.

Each class carries an ``exit_code`` so the CLI can map any failure to its documented exit code
without an if/elif chain: 2 for bad input or configuration, 3 for device and runtime errors.
"""
from __future__ import annotations


class BenchError(Exception):
    """Base class of every error hil-bench raises on purpose."""

    exit_code: int = 3


class ConfigError(BenchError):
    """Bad input: a configuration file, register map, scenario or argument is wrong.

    The message names the file and the line or field, e.g. ``hardware/lab.yaml:12: robot.port: ...``.
    """

    exit_code = 2


class SafetyError(BenchError):
    """A target or setpoint was refused before it was sent (outside the workspace, not armed)."""

    exit_code = 2


class DeviceError(BenchError):
    """Something went wrong talking to a device."""

    exit_code = 3


class DeviceTimeout(DeviceError):
    """A device did not answer within the configured time."""


class ProtocolError(DeviceError):
    """A device answered with bytes that do not parse: bad frame, CRC, unparsable reply."""


class DeviceFault(DeviceError):
    """A device answered, and the answer is a fault: Modbus exception, ERROR reply, alarm."""
