"""`GrblArm`: a `RobotArm` for controllers that speak GRBL 1.1 over a serial line.

Motion: ``move_to`` sends one absolute ``G90 G21 G1 X.. Y.. Z.. F..`` line (F = speed x 60 mm/min)
and waits for its ``ok`` (the line was accepted into GRBL's planner), then sends ``G4 P0``: GRBL
answers a dwell only after every earlier motion has finished, so that second ``ok`` marks the end
of the move. ``read_status`` sends the real-time ``?`` and reports ARRIVED (with the move's
sequence number) once the dwell's ``ok`` has come and the state is Idle; Run/Jog/Home are MOVING,
Hold/Door (and Idle after a stop) STOPPED, Alarm FAULT with the last ``ALARM:N`` as fault code.
``stop`` sends feed hold ``!``, waits for the hold to complete, then soft reset (0x18) to flush the
planner, so the arm decelerates instead of losing position.
Orientation is not part of G-code here: a, b, c read as 0 and are ignored in targets.

Units mm, mm/s. Every wait is bounded by the configured timeout (moves: `move_timeout_s` for the
line's ``ok``). Failure modes: DeviceTimeout, DeviceFault (``error:N`` naming the line and code,
``ALARM:N``), ProtocolError (unparsable reply), DeviceError (port cannot be opened).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import serial

from drivers.errors import DeviceError, DeviceFault, DeviceTimeout, ProtocolError
from drivers.grbl.protocol import ALARMS, ERRORS, StatusReport, gcode_move, parse_code, parse_status, work_position
from drivers.pose import Pose
from drivers.robot import ArmState, ArmStatus, RobotArm

_RUNNING = {"Run": ArmState.MOVING, "Jog": ArmState.MOVING, "Home": ArmState.MOVING,
            "Hold": ArmState.STOPPED, "Door": ArmState.STOPPED, "Alarm": ArmState.FAULT}


@dataclass(frozen=True)
class GrblSettings:
    """Where the controller is: a device path, pty path or pyserial URL (``socket://h:p``)."""

    port: str
    baudrate: int = 115200
    timeout_s: float = 0.5
    reset_on_connect: bool = False


class GrblArm(RobotArm):
    """A GRBL controller on a serial line."""

    def __init__(self, settings: GrblSettings) -> None:
        self.settings = settings
        self.name = f"grbl:{settings.port}@{settings.baudrate}"
        self._ser: serial.Serial | None = None
        self._buf = b""
        self._seq = 0
        self._moved = False
        self._pending_sync = 0     # dwell oks still to come (end-of-motion markers)
        self._stopped = False
        self._alarm = 0
        self._wco: tuple[float, float, float] | None = None

    # -- connection ----------------------------------------------------------------------------
    def connect(self) -> None:
        try:
            self._ser = serial.serial_for_url(self.settings.port, baudrate=self.settings.baudrate,
                                              timeout=0.01, write_timeout=self.settings.timeout_s)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceError(f"{self.name}: cannot open: {exc}") from None
        if self.settings.reset_on_connect:
            self._reset()
        self._ser.reset_input_buffer()
        self._buf = b""
        self._report()          # fails fast if nothing GRBL-like answers

    def close(self) -> None:
        if self._ser is not None:
            try:
                self._ser.close()
            except Exception:  # noqa: BLE001 - close never raises
                pass
            self._ser = None

    # -- low level -----------------------------------------------------------------------------
    @property
    def ser(self) -> serial.Serial:
        if self._ser is None:
            raise DeviceError(f"{self.name}: not connected")
        return self._ser

    def _write(self, data: bytes) -> None:
        try:
            self.ser.write(data)
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(f"{self.name}: write failed: {exc}") from None

    def _line(self, deadline: float, what: str) -> str:
        """Next non-empty line; handles ALARM and [MSG] pushes on the way."""
        while True:
            while b"\n" in self._buf:
                raw, self._buf = self._buf.split(b"\n", 1)
                line = raw.decode("ascii", "replace").strip()
                if not line:
                    continue
                if (code := parse_code(line, "ALARM:")) is not None:
                    self._alarm = code
                    continue
                if line.startswith("[") or line.startswith("Grbl "):
                    continue
                return line
            if time.monotonic() >= deadline:
                raise DeviceTimeout(f"{self.name}: {what}: no reply within "
                                    f"{self.settings.timeout_s:g} s")
            try:
                self._buf += self.ser.read(max(1, self.ser.in_waiting))
            except (serial.SerialException, OSError) as exc:
                raise DeviceError(f"{self.name}: read failed: {exc}") from None

    def _consume(self, line: str, what: str) -> bool:
        """Account for an ok/error line; True if it was one."""
        if line == "ok":
            if self._pending_sync:
                self._pending_sync -= 1
            return True
        if (code := parse_code(line, "error:")) is not None:
            raise DeviceFault(f"{self.name}: {what}: error:{code} "
                              f"({ERRORS.get(code, 'see the GRBL error table')})")
        return False

    def _send(self, line: str, timeout_s: float | None = None) -> None:
        """Send one line and wait for its ok. Earlier outstanding oks are accounted first."""
        self._write(line.encode("ascii") + b"\n")
        deadline = time.monotonic() + (timeout_s or self.settings.timeout_s)
        outstanding = self._pending_sync
        while True:
            reply = self._line(deadline, f"'{line}'")
            if reply.startswith("<"):
                continue
            if reply == "ok" and outstanding:
                outstanding -= 1
                self._pending_sync -= 1
                continue
            if self._consume(reply, f"'{line}'"):
                return
            raise ProtocolError(f"{self.name}: '{line}': unexpected reply {reply!r}")

    def _report(self) -> StatusReport:
        self._write(b"?")
        deadline = time.monotonic() + self.settings.timeout_s
        while True:
            line = self._line(deadline, "status report '?'")
            if line.startswith("<"):
                rep = parse_status(line)
                if rep.wco is not None:
                    self._wco = rep.wco
                return rep
            if not self._consume(line, "status report"):
                raise ProtocolError(f"{self.name}: unexpected line {line!r}")

    def _reset(self) -> None:
        """Soft reset (0x18) and wait for the banner; clears the planner and pending replies."""
        self._write(b"\x18")
        deadline = time.monotonic() + self.settings.timeout_s
        while True:
            while b"\n" in self._buf:
                raw, self._buf = self._buf.split(b"\n", 1)
                text = raw.decode("ascii", "replace").strip()
                if (code := parse_code(text, "ALARM:")) is not None:
                    self._alarm = code
                if text.startswith("Grbl "):
                    self._buf = b""
                    self._pending_sync = 0
                    return
            if time.monotonic() >= deadline:
                raise DeviceTimeout(f"{self.name}: soft reset: no banner within "
                                    f"{self.settings.timeout_s:g} s")
            self._buf += self.ser.read(max(1, self.ser.in_waiting))

    # -- RobotArm ------------------------------------------------------------------------------
    def read_pose(self) -> Pose:
        x, y, z = work_position(self._report(), self._wco)
        return Pose(x, y, z)

    def read_status(self) -> ArmStatus:
        rep = self._report()
        if rep.state == "Alarm":
            state = ArmState.FAULT
        elif rep.state in _RUNNING:
            state = _RUNNING[rep.state]
        elif self._stopped:
            state = ArmState.STOPPED
        elif self._moved and self._pending_sync == 0:
            state = ArmState.ARRIVED
        elif self._moved:
            state = ArmState.MOVING       # Idle, but the end-of-motion ok has not come yet
        else:
            state = ArmState.IDLE
        return ArmStatus(state=state, seq=self._seq,
                         fault_code=self._alarm if state is ArmState.FAULT else 0)

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        if not target.is_finite() or not speed_mm_s > 0:
            from drivers.errors import SafetyError
            raise SafetyError(f"{self.name}: target {target} at {speed_mm_s} mm/s refused")
        self._send(gcode_move(target.x, target.y, target.z, speed_mm_s * 60.0))
        self._write(b"G4 P0\n")       # its ok marks the end of the motion
        self._pending_sync += 1
        self._seq = (self._seq + 1) % 65536
        self._moved, self._stopped = True, False
        return self._seq

    def stop(self) -> None:
        """Feed hold, wait (bounded) for the hold to complete, soft reset to flush the planner."""
        self._write(b"!")
        deadline = time.monotonic() + self.settings.timeout_s * 4
        try:
            while time.monotonic() < deadline:
                rep = self._report()
                if rep.state in ("Idle", "Alarm") or (rep.state == "Hold" and rep.substate == 0):
                    break
                time.sleep(0.01)
        finally:
            self._reset()
            self._stopped = True
            self._seq = (self._seq + 1) % 65536


def alarm_text(code: int) -> str:
    """What an ``ALARM:N`` means (GRBL 1.1 alarm table)."""
    return ALARMS.get(code, "see the GRBL alarm table")
