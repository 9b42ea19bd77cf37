"""The `RobotArm` interface: what the bench needs from any robot, real, simulated or replayed.

Units: poses in mm and degrees (`Pose`), speeds in mm/s, time in seconds.
Every call has a bounded duration set by the implementation's configured timeout; failures raise
the typed errors of `drivers.errors` (DeviceTimeout, ProtocolError, DeviceFault, ConfigError).
"""
from __future__ import annotations

import abc
import enum
from dataclasses import dataclass
from types import TracebackType
from typing import Callable

from drivers.pose import Pose


class ArmState(enum.Enum):
    """Motion state reported by a controller."""

    IDLE = "idle"          # powered, no motion commanded yet (or after reset)
    MOVING = "moving"      # executing a commanded motion
    ARRIVED = "arrived"    # the last commanded motion finished at its target
    STOPPED = "stopped"    # motion was stopped on request before arriving
    FAULT = "fault"        # the controller reports a fault (protective stop, alarm, ...)


@dataclass(frozen=True, slots=True)
class ArmStatus:
    """A status reading: state, the sequence number of the last accepted command, fault code."""

    state: ArmState
    seq: int = 0
    fault_code: int = 0
    heartbeat: int | None = None


class RobotArm(abc.ABC):
    """One robot arm. Use as a context manager: ``with arm: arm.move_to(pose, 100.0)``."""

    #: short name used in logs and reports, e.g. "modbus:native@127.0.0.1:5020"
    name: str = "robot"

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the connection. Raises DeviceTimeout/DeviceError when the device is unreachable."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection. Never raises; safe to call twice."""

    @abc.abstractmethod
    def read_pose(self) -> Pose:
        """The actual (measured) tool pose, mm and degrees."""

    @abc.abstractmethod
    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        """Command a motion to `target` at `speed_mm_s`; returns the command's sequence number.

        Returns as soon as the controller accepted the command; use `read_status` to follow it.
        """

    @abc.abstractmethod
    def read_status(self) -> ArmStatus:
        """The controller's motion state."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop any motion now. Implementations try even when a previous call failed."""

    def reset(self) -> None:
        """Clear a stop or a protective stop (e.g. the controller's communication watchdog) so
        the arm accepts motion again; the arm stays where it is. Raises DeviceFault when the
        controller (or its register map) has no way to do it, the default."""
        from drivers.errors import DeviceFault
        raise DeviceFault(f"{self.name}: this controller cannot be reset remotely")

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        """Show every raw frame to `tap` ("tx"/"rx", bytes), or stop with None (traffic logs).

        Returns False when this implementation has no wire to tap (the default).
        """
        return False

    def __enter__(self) -> "RobotArm":
        self.connect()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
