"""Hand-eye calibration as a lab procedure: visit a registration pattern, measure each pose with
the lab's instrument, solve for the instrument's pose in the robot base frame (the registration)
and the marker's pose on the tool (the tool offset), and save both in the lab file.

The pattern (`registration_pattern`): the centre pose and the eight corners of a cube of side
`size_mm` around it, each corner tilted by +-`tilt_deg` about the tool's x and y axes and
+-2 `tilt_deg` about its z axis (hand-eye needs rotations about at least two axes: Park & Martin
1994, `bench.registration.hand_eye`). The poses are visited like a scenario (`run_pose_scenario`:
workspace checks before anything moves, ride-through, the lab's timing mode); at each one the
instrument's `samples` frames are averaged (`InstrumentSampler`).

What it can and cannot see: the robot's reported poses are its encoder belief, so its rigid
calibration errors (a constant offset, a base rotation) are absorbed into the registration and
no longer show in AP measured through it; what remains measurable is everything that varies over
the workspace (scale, sag, non-rigid kinematic errors), repeatability and drift. A registration
made independently of the robot's kinematics measures the rigid errors too (docs/instruments.md).

`save_calibration` rewrites only the lab file's `instrument.marker` and `instrument.registration`
(comments and every other line stay as they were), checks that the new file loads with those
values, and replaces the file atomically. Units: mm and degrees. Failure modes: RegistrationError
(too few poses seen, degenerate rotations), ConfigError (a lab without an instrument, a lab file
that cannot be rewritten), device errors from the run.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from bench.clock import Clock
from bench.instrument_sampler import InstrumentSampler
from bench.lab import Lab, load_lab
from bench.observer import Observers
from bench.registration import Registration, RegistrationError, hand_eye
from bench.rig import Rig
from bench.runner import Sample, run_pose_scenario
from bench.scenario import Scenario
from drivers.errors import ConfigError
from drivers.instrument.base import matrix_from_quaternion
from drivers.instrument.frames import matrix_of, pose_of
from drivers.pose import Pose


@dataclass(frozen=True)
class Calibration:
    """The result: registration (T_base_instrument), marker in the tool frame, the pose pairs."""

    registration: Registration
    marker: Pose
    poses: int
    seen: int

    def as_dict(self) -> dict[str, Any]:
        m = self.marker
        return {"registration": self.registration.as_dict(),
                "marker": {"x": round(m.x, 4), "y": round(m.y, 4), "z": round(m.z, 4),
                           "a": round(m.a, 5), "b": round(m.b, 5), "c": round(m.c, 5)},
                "poses": self.poses, "seen": self.seen}


def registration_pattern(center: Pose, size_mm: float = 60.0,
                         tilt_deg: float = 10.0) -> dict[str, Pose]:
    """Nine named poses (``C`` and ``K1``..``K8``) around `center` (see the module docstring)."""
    out = {"C": center}
    h = size_mm / 2.0
    for i in range(8):
        sx, sy, sz = (1 if i & 1 else -1), (1 if i & 2 else -1), (1 if i & 4 else -1)
        out[f"K{i + 1}"] = Pose(center.x + sx * h, center.y + sy * h, center.z + sz * h,
                                center.a + sy * tilt_deg, center.b + sz * tilt_deg,
                                center.c + sx * 2.0 * tilt_deg)
    return out


def calibrate(lab: Lab, mode: str, clock: Clock, center: Pose, *, size_mm: float = 60.0,
              tilt_deg: float = 10.0, seed: int = 1, speed_mm_s: float = 100.0,
              log: Any = None) -> Calibration:
    """Visit the pattern with the lab's robot, measure it with the lab's instrument, solve."""
    entry = lab.instrument
    if entry is None:
        raise ConfigError(f"{lab.path}: the lab has no instrument: section to calibrate")
    sc = Scenario(name="hand-eye", source="(hand-eye pattern)",
                  poses=registration_pattern(center, size_mm, tilt_deg), cycles=1,
                  speed_mm_s=speed_mm_s, seed=seed)
    samples: list[Sample] = []
    with Rig(lab, mode, clock, seed=seed) as rig:
        arm = rig.robot()
        tracker = rig.instrument()
        if tracker is None:
            raise ConfigError(f"{lab.path}: the lab's instrument did not open")
        sampler = InstrumentSampler(tracker, clock, entry, Observers([]), threaded=False)
        run_pose_scenario(sc, arm, clock, lab.robot.workspace, None, Observers([sampler]),
                          into=samples)
        sampler.stop()
    a, b = [], []
    for s, m in zip(samples, sampler.means()):
        if m is None or m.position_mm is None or m.orientation is None:
            continue
        t = np.eye(4)
        t[:3, :3] = matrix_from_quaternion(m.orientation)
        t[:3, 3] = m.position_mm
        a.append(matrix_of(s.attained))
        b.append(t)
        if log:
            log(f"  {s.pose}: robot {s.attained}, marker seen")
    if len(a) < 3:
        raise RegistrationError(f"the instrument saw the marker at {len(a)} of {len(samples)} "
                                "pattern poses: too few for hand-eye calibration (need 3)")
    x, reg = hand_eye(a, b)
    return Calibration(reg, pose_of(x), len(samples), len(a))


def _fmt_pose(p: Pose) -> str:
    return (f"{{x: {p.x:.4f} mm, y: {p.y:.4f} mm, z: {p.z:.4f} mm, a: {p.a:.5f} deg, "
            f"b: {p.b:.5f} deg, c: {p.c:.5f} deg}}")


def _block(lines: list[str], start: int) -> int:
    """The end (exclusive) of the YAML block whose key is on line `start`: the following lines
    indented deeper than it, and blank or comment lines between them."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    last = start + 1
    while end < len(lines):
        s = lines[end]
        if s.strip() and not s.lstrip().startswith("#"):
            if len(s) - len(s.lstrip()) <= indent:
                break
            last = end + 1
        end += 1
    return last


def save_calibration(lab_path: str | Path, cal: Calibration, out: str | Path | None = None) -> Path:
    """Write `cal` into the lab file's `instrument:` section (`out`: to that file instead).
    Returns the path written. ConfigError when the section cannot be found or the result does
    not load back with the new values."""
    src = Path(lab_path)
    dest = Path(out) if out else src
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    top = next((i for i, s in enumerate(lines) if re.match(r"^instrument:\s*(#.*)?$", s)), None)
    if top is None:
        raise ConfigError(f"{src}: no block-style `instrument:` section to write into")
    end = _block(lines, top)
    body = [i for i in range(top + 1, end)
            if lines[i].strip() and not lines[i].lstrip().startswith("#")]
    if not body:
        raise ConfigError(f"{src}: the instrument: section is empty")
    ind = " " * (len(lines[body[0]]) - len(lines[body[0]].lstrip()))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    p = cal.registration.pose
    new = {
        "marker": [f"{ind}marker: {_fmt_pose(cal.marker)}   # hand-eye calibration, {stamp}\n"],
        "registration": [f"{ind}registration:                # hand-eye calibration, {stamp}\n",
                         f"{ind}  pose: {_fmt_pose(p)}\n",
                         f"{ind}  fre: {cal.registration.fre_mm:.4f} mm\n",
                         f"{ind}  points: {cal.registration.n}\n"]}
    for key in ("marker", "registration"):
        at = next((i for i in range(top + 1, end)
                   if re.match(rf"^{ind}{key}:(\s|$)", lines[i])), None)
        if at is None:
            lines[end:end] = new[key]
            end += len(new[key])
        else:
            stop = _block(lines, at)
            lines[at:stop] = new[key]
            end += len(new[key]) - (stop - at)
    tmp = dest.with_name(f".{dest.stem}.tmp{dest.suffix}")   # a .yaml the loader accepts
    tmp.write_text("".join(lines), encoding="utf-8")
    try:
        back = load_lab(str(tmp)).instrument
        if back is None or back.registration is None or \
                np.abs(back.registration.matrix - cal.registration.matrix).max() > 1e-3 or \
                np.abs(matrix_of(back.marker) - matrix_of(cal.marker)).max() > 1e-3:
            raise ConfigError(f"{dest}: the rewritten lab file does not load back with the new "
                              "calibration (nothing written)")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, dest)
    return dest
