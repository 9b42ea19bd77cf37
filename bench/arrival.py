"""The one arrival rule: when has the arm reached the target of command `seq`?

The runner (`bench.runner.wait_arrived`), the control modes (`bench.control.modes`) and the
session replay (`bench.session.drive`) each poll the arm in their own way (directly, through the
network `ImpairedLink`, on a replayed schedule), but they judge every status they see with this rule:

* a status that refers to another command (``status.seq != seq``) says nothing about this one;
* ``ARRIVED`` for `seq`: arrived;
* ``FAULT`` or ``STOPPED`` for `seq`: the arm will not get there by itself. A fault with the
  controller's watchdog code, or any stop while the link was failing, is a protective stop
  (`ProtectiveStop`, a DeviceFault the ride-through policy may answer with reset and resume);
  anything else is a DeviceFault;
* no arrival by the deadline (``timeout_s`` after the rule was set up, on the run's clock):
  DeviceTimeout naming the last state seen.

Times in seconds on the run's clock. Failure modes: the DeviceFault / DeviceTimeout above.
"""
from __future__ import annotations

from bench.clock import Clock
from drivers.errors import DeviceFault, DeviceTimeout
from drivers.robot import ArmState, ArmStatus

#: the fault code the simulated controller (and the register maps that document one) reports for
#: a protective stop by its communication watchdog (`drivers/sim/arm.py: FAULT_WATCHDOG`)
WATCHDOG_FAULT = 3


def arrived(status: ArmStatus, seq: int) -> bool:
    """The rule's first two lines alone: `status` says command `seq` has arrived."""
    return status.seq == seq and status.state is ArmState.ARRIVED


class ProtectiveStop(DeviceFault):
    """The controller stopped the arm on its own (watchdog, or a stop during a link outage)."""

    def __init__(self, message: str, status: ArmStatus) -> None:
        super().__init__(message)
        self.status = status


class Arrival:
    """Judges the statuses seen while waiting for command `seq` (see the module docstring)."""

    def __init__(self, clock: Clock, seq: int, label: str, timeout_s: float,
                 arm_name: str = "arm") -> None:
        self.clock, self.seq, self.label = clock, seq, label
        self.timeout_s = timeout_s
        self.arm_name = arm_name
        self.deadline = clock.now() + timeout_s
        self.last_state = "no feedback"

    def rearm(self, seq: int) -> None:
        """Wait for another command (a resumed target) with a fresh deadline."""
        self.seq = seq
        self.deadline = self.clock.now() + self.timeout_s

    def judge(self, status: ArmStatus | None, seq: int | None = None) -> bool:
        """True when `status` (referring to command `seq`, default `status.seq`) says arrived.
        Raises ProtectiveStop / DeviceFault when it says the arm stopped short."""
        if status is None:
            return False
        self.last_state = status.state.value
        if (status.seq if seq is None else seq) != self.seq:
            return False
        if status.state is ArmState.ARRIVED:
            return True
        if status.state is ArmState.FAULT:
            msg = (f"{self.arm_name}: fault code {status.fault_code} while moving to "
                   f"{self.label}")
            if status.fault_code == WATCHDOG_FAULT:
                raise ProtectiveStop(msg + " (protective stop: communication watchdog)", status)
            raise DeviceFault(msg)
        if status.state is ArmState.STOPPED:
            raise ProtectiveStop(f"{self.arm_name}: stopped before reaching {self.label}",
                                 status)
        return False

    def check_deadline(self) -> None:
        """Raise DeviceTimeout once the deadline has passed."""
        if self.clock.now() >= self.deadline:
            raise DeviceTimeout(f"{self.arm_name}: did not arrive at {self.label} within "
                                f"{self.timeout_s:g} s (last state seen {self.last_state})")
