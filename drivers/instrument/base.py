"""The `Instrument` interface: a measuring instrument (optical/EM tracker, laser tracker) that
reports where tools are, independently of the robot. The ground truth for ISO 9283 accuracy.

Units: positions in mm in the instrument's own frame, orientation as a unit quaternion
(w, x, y, z; scalar first), RMS fit error in mm, time in ns of the clock the instrument was given
(default `time.monotonic_ns`). Every call is bounded by the configured timeout and fails with the
typed errors of `drivers.errors` (DeviceTimeout, ProtocolError: bad frame or checksum,
DeviceFault: the instrument answered with an error).
"""
from __future__ import annotations

import abc
import math
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Callable

from drivers.pose import Pose
from drivers.rotation import Matrix, fixed_xyz_from_matrix

Quaternion = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class ToolMeasurement:
    """One tool in one instrument frame.

    `visible` is False when the instrument could not see the tool (MISSING, out of volume, not
    sent); position and orientation are then None. `frame` is the instrument's own frame counter
    (NDI: 60 Hz; None when the protocol has none); `device_t_s` the instrument's timestamp in s
    (OpenIGTLink header; None when it has none)."""

    tool: str
    t_ns: int
    visible: bool
    position_mm: tuple[float, float, float] | None = None
    orientation: Quaternion | None = None
    rms_mm: float | None = None
    frame: int | None = None
    device_t_s: float | None = None
    status: str = "ok"                     # ok | missing | disabled | out_of_volume | ...

    def as_pose(self) -> Pose | None:
        """Position and orientation as a `Pose` (fixed-angle X-Y-Z degrees), or None if not seen."""
        if not self.visible or self.position_mm is None:
            return None
        a = b = c = 0.0
        if self.orientation is not None:
            a, b, c = fixed_xyz_from_matrix(matrix_from_quaternion(self.orientation))
        return Pose(*self.position_mm, a, b, c)

    def as_dict(self) -> dict:
        """Plain dict as written to sessions (None where not seen)."""
        return {"tool": self.tool, "t_ns": self.t_ns, "visible": self.visible,
                "position_mm": list(self.position_mm) if self.position_mm else None,
                "orientation_wxyz": list(self.orientation) if self.orientation else None,
                "rms_mm": self.rms_mm, "frame": self.frame, "device_t_s": self.device_t_s,
                "status": self.status}


def matrix_from_quaternion(q: Quaternion) -> Matrix:
    """Rotation matrix of a quaternion (w, x, y, z); normalised first."""
    w, x, y, z = q
    n = math.sqrt(w * w + x * x + y * y + z * z) or 1.0
    w, x, y, z = w / n, x / n, y / n, z / n
    return ((1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)),
            (2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)),
            (2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)))


def quaternion_from_matrix(m: Matrix) -> Quaternion:
    """Unit quaternion (w, x, y, z), w >= 0, of a rotation matrix (Shepperd's branch choice)."""
    tr = m[0][0] + m[1][1] + m[2][2]
    if tr > 0:
        s = math.sqrt(tr + 1.0) * 2
        q = (0.25 * s, (m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s)
    elif m[0][0] > m[1][1] and m[0][0] > m[2][2]:
        s = math.sqrt(1.0 + m[0][0] - m[1][1] - m[2][2]) * 2
        q = ((m[2][1] - m[1][2]) / s, 0.25 * s, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s)
    elif m[1][1] > m[2][2]:
        s = math.sqrt(1.0 + m[1][1] - m[0][0] - m[2][2]) * 2
        q = ((m[0][2] - m[2][0]) / s, (m[0][1] + m[1][0]) / s, 0.25 * s, (m[1][2] + m[2][1]) / s)
    else:
        s = math.sqrt(1.0 + m[2][2] - m[0][0] - m[1][1]) * 2
        q = ((m[1][0] - m[0][1]) / s, (m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, 0.25 * s)
    return q if q[0] >= 0 else (-q[0], -q[1], -q[2], -q[3])


class Instrument(abc.ABC):
    """One measuring instrument. Use as a context manager: ``with tracker: tracker.read()``."""

    #: short name for logs and reports, e.g. "ndi:/dev/pts/4"
    name: str = "instrument"
    #: how it measures, for reports (e.g. "optical tracker (NDI Combined API)")
    kind: str = "instrument"

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the connection and start measuring. DeviceTimeout/DeviceError when unreachable."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop measuring and release the connection. Never raises; safe to call twice."""

    @abc.abstractmethod
    def read(self) -> list[ToolMeasurement]:
        """A fresh frame: one measurement per tracked tool, taken after this call started."""

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        """Show every raw byte written and read to `tap` ("tx"/"rx", bytes), or stop with None.

        Returns False when this implementation has no wire to tap (the default)."""
        return False

    def __enter__(self) -> "Instrument":
        self.connect()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


ClockNs = Callable[[], int]
DEFAULT_CLOCK: ClockNs = time.monotonic_ns
