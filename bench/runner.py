"""The scenario runner: commands the arm through the poses, waits for arrival, samples the pose.

It only sees a `RobotArm`, a `Clock` and an optional workspace; the same code runs in wire mode
(real time, real sockets) and virtual mode (in-process simulator, virtual clock). How the arm is
brought to each pose is the scenario's control mode (`bench.control`: target, stream,
remote-loop), over an `ArmChannel` that can delay commands and feedback (virtual-time network delay).
Failure modes: SafetyError before anything is sent for a target outside the workspace;
DeviceTimeout when the arm does not arrive within the scenario's move_timeout; DeviceFault when the
controller reports a fault or an unexpected stop. On any error the arm is sent a stop.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from bench.arrival import Arrival
from bench.clock import Clock
from bench.control.link import DelaySource, ArmChannel
from bench.control.modes import CONTROL_MODES, MoveContext, MoveTrace
from bench.observer import RunObserver
from bench.ridethrough import RideThroughArm, SkipTarget
from bench.safety import Workspace
from bench.scenario import Scenario
from drivers.errors import BenchError
from drivers.pose import Pose
from drivers.robot import RobotArm


@dataclass(frozen=True)
class Sample:
    """One visit of one pose: what was commanded and what was attained. Times in ns."""

    pose: str
    cycle: int
    commanded: Pose
    attained: Pose
    t_command_ns: int
    t_arrived_ns: int
    t_measured_ns: int
    trace: MoveTrace | None = None      # robot-side samples of the approach (time-domain figures)

    def as_dict(self) -> dict:
        return {"pose": self.pose, "cycle": self.cycle,
                "commanded": self.commanded.as_dict(), "attained": self.attained.as_dict(),
                "t_command_ns": self.t_command_ns, "t_arrived_ns": self.t_arrived_ns,
                "t_measured_ns": self.t_measured_ns}


Progress = Callable[[int, int, list[Sample]], None]


def wait_arrived(arm: RobotArm, clock: Clock, seq: int, label: str, timeout_s: float,
                 poll_s: float, observer: RunObserver | None = None) -> None:
    """Poll the arm's status until command `seq` has arrived (`bench.arrival`'s rule).
    Raises DeviceTimeout/DeviceFault (ProtectiveStop for a protective stop)."""
    obs = observer or RunObserver()
    rule = Arrival(clock, seq, label, timeout_s, arm.name)
    while True:
        st = arm.read_status()
        obs.on_status(clock.now_ns(), st)
        if rule.judge(st):
            return
        rule.check_deadline()
        clock.sleep(poll_s)


def check_scenario(sc: Scenario, workspace: Workspace) -> None:
    """Raise SafetyError if any pose or the commanded speed is outside the envelope."""
    for name, target in sc.poses.items():
        workspace.check(target, f"{sc.where('pose:' + name)}: pose {name}")
    workspace.check_motion(sc.speed_mm_s, f"{sc.where('speed')}: speed")


def run_pose_scenario(sc: Scenario, arm: RobotArm, clock: Clock,
                      workspace: Workspace | None = None,
                      progress: Progress | None = None,
                      observer: RunObserver | None = None,
                      into: list[Sample] | None = None,
                      delay_up: DelaySource | None = None,
                      delay_down: DelaySource | None = None,
                      link_out: list[ArmChannel] | None = None) -> list[Sample]:
    """Visit every pose of `sc` in order, `sc.cycles` times; return one Sample per visit.

    Poses are approached with the scenario's control mode over an `ArmChannel` whose commands and
    feedback are delayed by `delay_up` / `delay_down` (none: delivered at once). Every call to the
    arm follows the scenario's ride-through policy (`bench.ridethrough`): link failures are
    retried, with reconnects, up to `link_loss_limit`; a visit the policy skips after a
    protective stop has no sample. After arrival the
    runner waits `settle` and measures the pose at the robot (the instrument's reading, not sent
    over the network). Every command, status and pose is told to `observer` as it happens; the
    link is appended to `link_out` when given (for its record of injected delays). Samples are
    appended to `into` when given, so a caller keeps them even when the run is interrupted.
    """
    obs = observer or RunObserver()
    if workspace is not None:           # refuse the whole run before the first motion
        check_scenario(sc, workspace)
    mode = CONTROL_MODES[sc.control.mode]()
    ride = RideThroughArm(arm, clock, sc.ride_through, obs)
    link = ArmChannel(ride, clock, delay_up, delay_down, obs)
    if link_out is not None:
        link_out.append(link)
    samples: list[Sample] = [] if into is None else into
    try:
        for cycle in range(1, sc.cycles + 1):
            for name, target in sc.poses.items():
                ctx = MoveContext(f"{name} (cycle {cycle})", sc.speed_mm_s, sc.poll_s,
                                  sc.move_timeout_s, sc.band_mm, sc.control, sc.paths.get(name),
                                  sc.path_speed.get(name), sc.ride_through)
                t_cmd = clock.now_ns()
                try:
                    trace = mode.approach(link, target, ctx)
                except SkipTarget as skip:      # the ride-through policy gave this visit up
                    obs.on_event(clock.now_ns(), "skip", {"pose": name, "cycle": cycle,
                                                          "reason": str(skip)})
                    continue
                t_arr = clock.now_ns()
                # wait without sampling: on the wire every reading is a transaction, and the
                # measurement at the end of the settle time closes the trace
                link.advance(sc.settle_s)
                attained = ride.read_pose()
                link.note_measured(attained)
                t_meas = clock.now_ns()
                obs.on_pose(t_meas, attained, name)
                trace.t_s = np.append(trace.t_s, (t_meas - t_cmd) / 1e9)
                trace.positions = np.vstack([trace.positions, attained.position])
                samples.append(Sample(name, cycle, target, attained, t_cmd, t_arr, t_meas, trace))
            if progress:
                progress(cycle, sc.cycles, samples)
            if sc.pause_s > 0 and cycle < sc.cycles:     # drift runs: hours between cycles
                link.advance(sc.pause_s)
    except (BenchError, KeyboardInterrupt) as exc:
        obs.on_event(clock.now_ns(), "stop", {"reason": f"{type(exc).__name__}: {exc}"})
        safe_stop(arm, clock, obs)
        raise
    return samples


def safe_stop(arm: RobotArm, clock: Clock, obs: RunObserver, reconnects: int = 1) -> bool:
    """Send the arm a stop; if the link is broken, reconnect (at most `reconnects` times, each
    logged as a "reconnect" event) and try again. Returns whether a stop was accepted; never
    raises a BenchError (the run's own error is the one to report)."""
    for attempt in range(reconnects + 1):
        try:
            if attempt:
                obs.on_event(clock.now_ns(), "reconnect", {"attempt": attempt, "why": "stop"})
                arm.close()
                arm.connect()
            arm.stop()
            obs.on_event(clock.now_ns(), "stop_sent", {"attempt": attempt})
            return True
        except BenchError as exc:
            obs.on_event(clock.now_ns(), "stop_failed", {"attempt": attempt, "error": str(exc)})
    return False
