"""Follow runs: judge a robot that moves by its own program while the bench only reads its pose.

For a read-only register map (igus ReBeL: the map reads the pose, it cannot command) and for
robots whose program must stay in charge. The scenario names the poses the program visits, in
order, and `follow: {capture, still}`. The runner polls the pose every `poll`; a visit of pose P
is the robot coming to rest within `capture` of P: the pose moved less than `still` over `settle`
(the last reading of that window is the attained pose). Then it waits for the next pose in the
scenario's order, cycle after cycle, exactly as `run_pose_scenario` visits them, and returns the
same `Sample`s, so AP/RP/worst are judged as for a commanded run. Nothing is ever sent to the
robot (no arming needed, even on real hardware).
Readings follow the scenario's ride-through policy (`bench.ridethrough`), as a commanded run's
calls do: a reading the link loses is retried (with reconnects) up to `link_loss_limit`, and time
without link does not count against `move_timeout` (the robot's program went on meanwhile; the
run waits for the next rest it can see).
Failure mode: DeviceTimeout when the robot does not come to rest at the expected pose within the
scenario's `move_timeout` (plus one `settle`, plus the time the link was down), naming the pose
and where the robot was, or when the link stays down beyond `link_loss_limit`.
Units: mm, seconds (ns for sample times).
"""
from __future__ import annotations


from bench.clock import Clock
from bench.observer import RunObserver
from bench.ridethrough import RideThroughArm
from bench.runner import Progress, Sample
from bench.scenario import FollowSettings, Scenario
from drivers.errors import BenchError, DeviceTimeout
from drivers.pose import Pose
from drivers.robot import RobotArm


def run_follow_scenario(sc: Scenario, arm: RobotArm, clock: Clock,
                        progress: Progress | None = None,
                        observer: RunObserver | None = None,
                        into: list[Sample] | None = None) -> list[Sample]:
    """Watch the robot visit every pose of `sc` in order, `sc.cycles` times (see module doc)."""
    obs = observer or RunObserver()
    settings = sc.follow or FollowSettings()
    ride = RideThroughArm(arm, clock, sc.ride_through, obs)
    samples: list[Sample] = [] if into is None else into
    try:
        for cycle in range(1, sc.cycles + 1):
            for name, expected in sc.poses.items():
                t_start = clock.now_ns()
                attained, t_rest = _wait_rest(ride, clock, obs, expected, settings, sc,
                                              f"{name} (cycle {cycle})")
                t_meas = clock.now_ns()
                obs.on_pose(t_meas, attained, name)
                samples.append(Sample(name, cycle, expected, attained, t_start, t_rest, t_meas))
            if progress:
                progress(cycle, sc.cycles, samples)
    except (BenchError, KeyboardInterrupt) as exc:
        obs.on_event(clock.now_ns(), "stop", {"reason": f"{type(exc).__name__}: {exc}",
                                              "sent": "nothing (follow run)"})
        raise
    return samples


def _wait_rest(arm: RideThroughArm, clock: Clock, obs: RunObserver, expected: Pose,
               settings: FollowSettings, sc: Scenario, label: str) -> tuple[Pose, int]:
    """Poll until the robot has rested within capture of `expected` for `settle` seconds;
    (attained pose, time the rest began, ns). Timed by the clock, not by counting readings: on
    an impaired link one reading can take longer than the poll interval."""
    t0 = clock.now()
    budget = sc.move_timeout_s + sc.settle_s
    rest: tuple[int, Pose] | None = None        # start of the current still stretch
    while True:
        p = arm.read_pose()
        now_ns = clock.now_ns()
        obs.on_pose(now_ns, p, "")
        if p.distance_to(expected) > settings.capture_mm:
            rest = None
        elif rest is None or p.distance_to(rest[1]) > settings.still_mm:
            rest = (now_ns, p)
        elif now_ns - rest[0] >= sc.settle_s * 1e9:
            return p, rest[0]
        if clock.now() >= t0 + budget + arm.down_since(t0):
            raise DeviceTimeout(
                f"{arm.name}: did not come to rest at {label} within {sc.move_timeout_s:g} s "
                f"(follow run: the robot's own program moves it; last pose {p}, "
                f"{p.distance_to(expected):.3f} mm from the pose)")
        clock.sleep(sc.poll_s)
