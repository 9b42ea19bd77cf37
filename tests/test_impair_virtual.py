"""The virtual-time wrapper: commands take effect one uplink delay late, readings are one downlink
delay old, loss and outages time out, every injected delay is recorded, and it is deterministic."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.clock import VirtualClock
from bench.impair import ImpairedArm, load_profile, recorded_link
from bench.observer import RunObserver
from drivers.errors import DeviceFault, DeviceTimeout
from drivers.pose import Pose
from drivers.robot import ArmState, ArmStatus, RobotArm
from drivers.sim.arm import ArmParams
from drivers.sim.inprocess import InProcessArm


class LoggingArm(RobotArm):
    """A minimal RobotArm that notes the clock time at which each call reaches it."""

    name = "logging"

    def __init__(self, clock: VirtualClock, fail: bool = False) -> None:
        self.clock, self.fail, self.calls = clock, fail, []

    def connect(self) -> None:
        pass

    def close(self) -> None:
        pass

    def read_pose(self) -> Pose:
        self.calls.append(("read_pose", self.clock.now()))
        return Pose(x=self.clock.now())          # the pose encodes when it was taken

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        self.calls.append(("move_to", self.clock.now()))
        if self.fail:
            raise DeviceFault("refused")
        return len(self.calls)

    def read_status(self) -> ArmStatus:
        self.calls.append(("read_status", self.clock.now()))
        return ArmStatus(ArmState.IDLE)

    def stop(self) -> None:
        self.calls.append(("stop", self.clock.now()))


class Events(RunObserver):
    def __init__(self) -> None:
        self.events: list[tuple[int, dict]] = []

    def on_event(self, t_ns, kind, detail):
        assert kind == "network"
        self.events.append((t_ns, detail))


def _profile(tmp_path: Path, text: str):
    p = tmp_path / "p.yaml"
    p.write_text("name: test\n" + text)
    return load_profile(str(p))


def test_delays_are_applied_in_each_direction(tmp_path):
    clock = VirtualClock(100.0)
    inner, obs = LoggingArm(clock), Events()
    prof = _profile(tmp_path, "uplink: {delay: 40 ms}\ndownlink: {delay: 60 ms}\n")
    arm = ImpairedArm(inner, prof, clock, seed=1, observer=obs)
    arm.move_to(Pose(), 100.0)
    assert inner.calls[-1] == ("move_to", pytest.approx(100.040))   # effect after the uplink
    assert clock.now() == pytest.approx(100.100)                    # ack after the round trip
    pose = arm.read_pose()
    assert pose.x == pytest.approx(100.140)          # state as of 60 ms before it is returned
    assert clock.now() == pytest.approx(100.200)
    dirs = [(d["dir"], d["call"], d["delay_ms"]) for _, d in obs.events]
    assert dirs == [("up", "move_to", 40.0), ("down", "move_to", 60.0),
                    ("up", "read_pose", 40.0), ("down", "read_pose", 60.0)]
    assert obs.events[1][0] == int(100.040e9)        # each event at its send time, in ns


def test_device_errors_travel_back_over_the_link(tmp_path):
    clock = VirtualClock()
    arm = ImpairedArm(LoggingArm(clock, fail=True), _profile(tmp_path, "delay: 10 ms\n"), clock)
    with pytest.raises(DeviceFault):
        arm.move_to(Pose(), 1.0)
    assert clock.now() == pytest.approx(0.020)


def test_outage_times_out_then_recovers(tmp_path):
    clock = VirtualClock()
    inner, obs = LoggingArm(clock), Events()
    prof = _profile(tmp_path, "delay: 5 ms\noutage: {schedule: [{at: 1 s, duration: 2 s}]}\n")
    arm = ImpairedArm(inner, prof, clock, observer=obs, timeout_s=0.5, retries=1)
    arm.read_status()
    clock.sleep(1.0)                                  # now inside the hole
    with pytest.raises(DeviceTimeout, match="request outage"):
        arm.read_status()
    assert clock.now() == pytest.approx(1.010 + 2 * 0.5)   # two attempts of 0.5 s each
    assert len(inner.calls) == 1                      # nothing reached the arm
    clock.sleep(1.0)                                  # past the end of the hole (3 s)
    arm.read_status()
    assert len(inner.calls) == 2
    lost = [d for _, d in obs.events if d["lost"]]
    assert [d["cause"] for d in lost] == ["outage", "outage"]
    assert [d["attempt"] for d in lost] == [1, 2]


def test_lost_reply_means_the_command_was_executed(tmp_path):
    clock = VirtualClock()
    inner = LoggingArm(clock)
    arm = ImpairedArm(inner, recorded_link([0.01, 0.01], [None, 0.01]), clock, timeout_s=0.2,
                      retries=1)
    arm.move_to(Pose(), 1.0)                          # reply of attempt 1 lost, attempt 2 ok
    assert [c for c, _ in inner.calls] == ["move_to", "move_to"]
    assert clock.now() == pytest.approx(0.2 + 0.02)


def test_late_request_still_executes_after_the_timeout(tmp_path):
    clock = VirtualClock()
    inner = LoggingArm(clock)
    arm = ImpairedArm(inner, recorded_link([0.8, 0.01], [0.01]), clock, timeout_s=0.5)
    with pytest.raises(DeviceTimeout, match="request delayed 800.0 ms"):
        arm.stop()
    assert inner.calls == []
    clock.sleep(0.5)
    arm.read_status()                                 # the stop reaches the arm before this
    assert [c for c, _ in inner.calls] == ["stop", "read_status"]


def test_same_seed_same_run(tmp_path):
    prof = _profile(tmp_path, "delay: {base: 10 ms, jitter: 5 ms, distribution: pareto, "
                              "correlation: 0.5}\nloss: 5 %\n")

    def run(seed: int) -> list:
        clock = VirtualClock()
        obs = Events()
        inner = InProcessArm(ArmParams(seed=1), clock.now)
        arm = ImpairedArm(inner, prof, clock, seed, obs, retries=0)
        with inner:
            for i in range(200):
                try:
                    arm.move_to(Pose(400 + i % 7, 0, 300, 180, 0, 0), 500.0)
                    clock.sleep(0.01)
                    arm.read_pose()
                except DeviceTimeout:
                    pass
        return obs.events
    a, b, c = run(5), run(5), run(6)
    assert a == b and a != c
    assert any(d["lost"] for _, d in a)               # the profile's loss shows up


def test_impaired_simulated_arm_runs_a_scenario_slower_but_as_accurately():
    from bench.runner import run_pose_scenario
    from bench.scenario import load_scenario

    sc = load_scenario("iso9283", cycles=3)

    def run(profile: str):
        clock = VirtualClock()
        inner = InProcessArm(ArmParams(seed=1), clock.now)
        with inner:
            arm = ImpairedArm(inner, load_profile(profile), clock, seed=2, timeout_s=0.5)
            samples = run_pose_scenario(sc, arm, clock)
        return clock.now(), samples

    t_ideal, s_ideal = run("ideal")
    t_slow, s_slow = run("telesurgery-300ms")
    # each of the 15 visits costs at least a move, a status and a pose round trip of 0.3 s
    # (the motion itself, about 0.15 s, overlaps them), where the ideal link costs 0.2 s a visit
    assert t_slow >= 15 * 0.9 and t_slow - t_ideal > 15 * 0.6
    # supervisory control: targets are reached all the same (same simulator seed, same scatter)
    for a, b in zip(s_ideal, s_slow):
        assert a.attained.distance_to(b.attained) < 1e-9
