"""Where the simulated controllers' arm can go: a target outside it is refused with a fault.

A real controller refuses a target its kinematics cannot reach (UR: "position not reachable"
protective stop; the xArm SDK returns an error code for an out-of-range target) instead of
moving towards it. The simulated arm's reach is a sphere around its base of radius `REACH_MM`,
1300 mm: the reach of the largest arm whose map ships in hardware/maps (UR10e technical
specification, "Reach: 1300 mm"), so every shipped lab's workspace box fits inside it.

`FAULT_UNREACHABLE` is the fault code the simulated controller reports (fault_code register /
ArmStatus.fault_code), next to `drivers.sim.arm`'s 2 (invalid command) and 3 (protective stop).
"""
from __future__ import annotations

import math

from drivers.pose import Pose

REACH_MM = 1300.0
_REACH_SQ = REACH_MM * REACH_MM
FAULT_UNREACHABLE = 4


def unreachable(target: Pose) -> str | None:
    """Why `target` (mm, deg) is outside the simulated arm's reach, or None when it is inside.
    Non-finite targets are left to the arm (its invalid-command fault)."""
    if target.x ** 2 + target.y ** 2 + target.z ** 2 <= _REACH_SQ:
        return None          # inside for sure (sqrt is monotonic): the common case, kept cheap
    if not target.is_finite():
        return None
    r = math.sqrt(target.x ** 2 + target.y ** 2 + target.z ** 2)
    if r > REACH_MM:
        return f"target {r:.1f} mm from the base, reach {REACH_MM:g} mm"
    return None
