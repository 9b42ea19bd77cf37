"""A setpoint stream is the same stream in virtual and in wire mode, and a replay compares its
tracking error like with like.

Wire/virtual: the `cobot` lab (servo lag, jerk-limited motion) follows a 50 Hz stream at 40 mm/s
for 1 s, in-process on a virtual clock and through the simulator process over Modbus TCP.
Tracking error: every pose the operator reads after the first setpoint, against the last
setpoint sent. Virtual and wire mode agree when (a) the operator streams on the same schedule
and (b) the arm answers the same calls at the same times with the same poses. The test checks
each: (a) the median interval between setpoints, (b) the wire run's tracking RMS against the
RMS of the wire run's own calls, at their times, on the in-process arm in virtual time.

The defect: the stream waited a whole period after each pose and status read, so on the wire it
sent every 23.2-24.0 ms here (25.7 ms in `hil-bench run` on cobot-ndi; up to 40 ms with a core
busy) instead of 20 ms, and this arm, which starts each setpoint's motion from rest, lagged
11.5-12.4 mm RMS on the wire against 15.6 mm in virtual time.

Tolerances, measured with this test's stream (`python tests/test_stream_fidelity.py N`, seeds
1-4, alone and with both cores kept busy by two other processes):
- median interval on the wire: 19.8-20.7 ms (the defect: 23.2-40 ms): within 7.5 % of 20 ms;
- wire RMS against the same calls in virtual time: within 0.6 % alone, 1.2 % with both cores
  busy: within 5 %.
The wire and the nominal virtual RMS are not compared directly: they agree within 1-4 % alone
(15.0-15.4 vs 15.6 mm), but on a machine short of CPU a late operator sends setpoints in bursts,
this arm is restarted less often and lags less (12.6-15.6 mm with both cores busy); (a) and (b)
hold either way.

Replay (target mode): `screw-guide.mcap`'s pose reads are the operator's polls while it waits for
an arrival; their distance to the target is the distance still to go at the time of each poll,
not a tracking error. Under a 300 ms link a replay makes the same polls 600 ms apart, after the
arm has stopped, so that figure "shrank" from 8.63 to 1.12 mm. The replay compares tracking
only for streamed setpoints.
"""
from __future__ import annotations

import numpy as np
import pytest

from bench.clock import Clock, RealClock, VirtualClock
from bench.control.modes import ControlSettings
from bench.lab import load_lab
from bench.observer import RunObserver
from bench.rig import Rig
from bench.runner import run_pose_scenario
from bench.scenario import Scenario
from bench.session.testing import replay
from drivers.pose import Pose

RATE_HZ = 50.0
START = Pose(400, 0, 300, 180, 0, 0)         # the cobot lab's home
END = Pose(360, 0, 300, 180, 0, 0)           # 40 mm at 40 mm/s: 50-51 setpoints


class _Calls(RunObserver):
    """The operator's commands and pose reads, in order: (t_ns, target or None for a read,
    speed mm/s, pose read or None)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, Pose | None, float, Pose | None]] = []

    def on_command(self, t_ns: int, seq: int, label: str, target: Pose,
                   speed_mm_s: float) -> None:
        self.calls.append((t_ns, target, speed_mm_s, None))

    def on_pose(self, t_ns: int, pose: Pose, label: str = "") -> None:
        self.calls.append((t_ns, None, 0.0, pose))

    def sends_s(self) -> np.ndarray:
        return np.array([t for t, target, _, _ in self.calls if target is not None]) / 1e9


def _tracking_rms(calls: list[tuple[int, Pose | None, float, Pose | None]]) -> float:
    """RMS distance (mm) of every pose read after the first setpoint from the last setpoint."""
    err, last = [], None
    for _, target, _, pose in calls:
        if target is not None:
            last = target
        elif last is not None and pose is not None:
            err.append(pose.distance_to(last))
    return float(np.sqrt(np.mean(np.square(err))))


def _stream(mode: str, seed: int) -> _Calls:
    """The operator's calls while the cobot follows the stream in `mode`."""
    sc = Scenario(name="stream", source="test", poses={"end": END}, cycles=1, speed_mm_s=40.0,
                  settle_s=0.0, poll_s=0.005, move_timeout_s=10.0, seed=seed,
                  control=ControlSettings(mode="stream", stream_rate_hz=RATE_HZ))
    clock: Clock = VirtualClock() if mode == "virtual" else RealClock()
    calls = _Calls()
    with Rig(load_lab("cobot"), mode, clock, seed=seed) as rig:
        arm = rig.robot()
        assert arm.read_pose().distance_to(START) < 0.05
        samples = run_pose_scenario(sc, arm, clock, observer=calls)
    trace = samples[0].trace
    assert trace is not None and trace.commands in (50, 51)     # 40 mm + reading noise
    return calls


def _same_calls_in_virtual_time(wire: _Calls, seed: int) -> _Calls:
    """The wire run's calls made at the same times on the in-process arm (virtual time)."""
    t0 = wire.calls[0][0]
    clock = VirtualClock(t0 / 1e9)
    out = _Calls()
    with Rig(load_lab("cobot"), "virtual", clock, seed=seed) as rig:
        arm = rig.robot()
        for t_ns, target, speed, _ in wire.calls:
            clock.sleep((t_ns - t0) / 1e9 - (clock.now() - t0 / 1e9))
            if target is not None:
                arm.move_to(target, speed)
                out.on_command(t_ns, 0, "", target, speed)
            else:
                out.on_pose(t_ns, arm.read_pose())
    return out


def test_a_stream_keeps_its_rate_and_tracks_alike_in_virtual_and_wire_mode() -> None:
    virtual, wire = _stream("virtual", seed=2), _stream("wire", seed=2)
    # the operator's schedule: the scenario's rate in both modes
    assert np.median(np.diff(virtual.sends_s())) == pytest.approx(1 / RATE_HZ, abs=1e-9)
    period_wire = float(np.median(np.diff(wire.sends_s())))
    assert abs(period_wire - 1 / RATE_HZ) < 0.075 / RATE_HZ, period_wire
    # the arm's response to that schedule: the same in the simulator process and in-process
    rms_virtual, rms_wire = _tracking_rms(virtual.calls), _tracking_rms(wire.calls)
    assert 10.0 < rms_virtual < 25.0          # this arm does lag a 40 mm/s stream
    rms_same = _tracking_rms(_same_calls_in_virtual_time(wire, seed=2).calls)
    assert rms_wire == pytest.approx(rms_same, rel=0.05), (rms_wire, rms_same, rms_virtual)


def test_target_mode_replay_does_not_compare_poll_distances_as_tracking() -> None:
    slow = replay("screw-guide", network="telesurgery-300ms")
    assert slow.tracking_original["n"] == slow.tracking_replay["n"] == 0
    assert not any("time-domain error" in n for n in slow.notes), slow.notes
    assert any("not a setpoint stream" in n for n in slow.notes), slow.notes
    # a stream's replay still compares its tracking error (tests/test_session_fixtures.py)
    stream = replay("teleop-stream", network="ideal")
    assert stream.tracking_replay["n"] == stream.tracking_original["n"] > 1000


if __name__ == "__main__":           # the spread behind the tolerances: python tests/this.py N
    import sys
    for seed in range(1, int(sys.argv[1]) + 1):
        v, w = _stream("virtual", seed), _stream("wire", seed)
        same = _tracking_rms(_same_calls_in_virtual_time(w, seed).calls)
        print(f"seed {seed}: virtual {_tracking_rms(v.calls):.3f} wire "
              f"{_tracking_rms(w.calls):.3f} wire's calls in virtual time {same:.3f} mm, wire "
              f"median interval {np.median(np.diff(w.sends_s())) * 1e3:.2f} ms")
