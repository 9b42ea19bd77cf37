"""A simulated robot that runs its own program: it moves through poses by itself, as a real robot
does when its controller runs a program and the bench only watches (a read-only register map,
`hil-bench run` with a follow scenario, `record --follow`).

Lab file, in the robot's `simulator:` section::

    program:                      # visited in order, again and again, from the first pose
      poses:
        - {x: 400 mm, y: 0 mm, z: 300 mm, a: 180 deg}
        - {x: 360 mm, y: -40 mm, z: 340 mm, a: 180 deg}
      dwell: 0.5 s                # standing still at each pose once it has arrived
      speed: 250 mm/s

Time is the simulator's own (seconds, virtual or real): the program advances whenever the arm is
asked for its pose or state, so the dwell starts at the first reading that sees the arm arrived.
A stop or a fault halts the program (a reset resumes it). Failure mode: ConfigError naming the
file, line and key for a bad section.
"""
from __future__ import annotations

from dataclasses import dataclass

from drivers.config import Section
from drivers.pose import AXES, Pose
from drivers.robot import ArmState
from drivers.sim.arm import ArmParams, SimArm


@dataclass(frozen=True)
class Program:
    """The robot's own motion: `poses` in order, `dwell_s` at each, at `speed_mm_s`."""

    poses: tuple[Pose, ...]
    dwell_s: float = 0.5
    speed_mm_s: float = 250.0


def program_from_section(section: Section) -> Program | None:
    """The `program:` key of a simulator section (None when absent). Raises ConfigError."""
    if not section.has("program"):
        section.raw("program", None)
        return None
    s = section.section("program")
    poses = []
    for i, item in enumerate(s.sequence("poses")):
        p = Section(item, s.source, f"{s.key_path('poses')}[{i}]", s.line_of("poses"))
        poses.append(Pose(**{a: p.quantity(a, "mm" if a in "xyz" else "deg", 0.0) for a in AXES}))
        p.done()
    if not poses:
        raise s.error("poses", "a program needs at least one pose")
    program = Program(tuple(poses), dwell_s=s.quantity("dwell", "s", 0.5, min=0.0, max=3600.0),
                      speed_mm_s=s.quantity("speed", "mm/s", 250.0, min=1e-3))
    s.done()
    return program


class ProgrammedArm(SimArm):
    """A `SimArm` that starts its program's next motion `dwell_s` after each arrival."""

    def __init__(self, params: ArmParams, now: float, program: Program) -> None:
        super().__init__(params, now)
        self.program = program
        self._next = 0
        self._still_since: float | None = now

    def _run(self, now: float) -> None:
        state = SimArm.state(self, now)
        if state is ArmState.MOVING:
            self._still_since = None
            return
        if state not in (ArmState.ARRIVED, ArmState.IDLE):
            return                          # stopped or faulted: the program halts
        if self._still_since is None:
            self._still_since = now
        if now - self._still_since >= self.program.dwell_s:
            target = self.program.poses[self._next]
            self._next = (self._next + 1) % len(self.program.poses)
            self._still_since = None
            SimArm.move(self, target, self.program.speed_mm_s, now)

    def pose(self, now: float) -> Pose:
        self._run(now)
        return super().pose(now)

    def state(self, now: float) -> ArmState:
        self._run(now)
        return super().state(now)


def sim_arm(params: ArmParams, now: float, program: Program | None = None) -> SimArm:
    """The simulated arm for `params`: one that runs `program` by itself when given."""
    return SimArm(params, now) if program is None else ProgrammedArm(params, now, program)
