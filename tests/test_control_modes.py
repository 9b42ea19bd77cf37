"""Control modes over a delayed link, in virtual time: the link's timing, supervisory control's
indifference to delay, and the remote closed loop going unstable when gain x RTT passes pi/2."""
import math

import numpy as np
import pytest

from bench.clock import VirtualClock
from bench.control.link import ConstantDelay, ArmChannel
from bench.control.modes import ControlSettings, MoveContext, RemoteLoopMode, TargetMode
from drivers.pose import Pose
from drivers.sim.arm import ArmParams
from drivers.sim.inprocess import InProcessArm

HOME = Pose(400, 0, 300, 180, 0, 0)


class _Lossy:
    def __init__(self, pattern):
        self.pattern = list(pattern)

    def sample(self, t_s):
        return self.pattern.pop(0) if self.pattern else 0.0


def _arm(clock):
    return InProcessArm(ArmParams(repeatability_mm=0.0, home=HOME, seed=1), clock.now)


def test_link_delivers_commands_late_in_order_and_drops_lost_ones():
    clock = VirtualClock()
    with _arm(clock) as arm:
        link = ArmChannel(arm, clock, _Lossy([0.05, None, 0.01]), ConstantDelay(0.02))
        link.send_move(Pose(410, 0, 300, 180, 0, 0), 100.0)
        link.send_move(Pose(420, 0, 300, 180, 0, 0), 100.0)      # lost
        link.send_move(Pose(430, 0, 300, 180, 0, 0), 100.0)      # sent 0.01 s: stays behind #1
        link.advance(0.049)
        assert arm.arm.last_target is None                         # nothing arrived yet
        link.advance(0.002)
        assert arm.arm.last_target.x == 430                        # #1 then #3 at t = 0.05
        assert link.pending == 0
        r = link.sample()                                          # robot-side reading now
        assert link.latest is None or link.latest.t_s < r.t_s
        link.advance(0.0201)
        assert link.latest is not None and link.latest.t_s == pytest.approx(r.t_s)
        assert [d[1] for d in link.delays].count("up") == 3 and link.delays[1][2] is None


def _ctx(mode, gain=4.0, timeout=10.0):
    return MoveContext("P", 1000.0, 0.005, timeout, 0.1,
                       ControlSettings(mode=mode, gain_per_s=gain, period_s=0.01))


def test_target_mode_only_gets_slower_with_delay():
    target = Pose(460, 0, 300, 180, 0, 0)
    results = []
    for one_way in (0.0, 0.1):
        clock = VirtualClock()
        with _arm(clock) as arm:
            link = ArmChannel(arm, clock, ConstantDelay(one_way), ConstantDelay(one_way))
            tr = TargetMode().approach(link, target, _ctx("target"))
            results.append((tr.t_s[-1], np.linalg.norm(tr.positions[-1] - tr.target),
                            tr.figures(0.1).overshoot_mm))
    (t0, e0, o0), (t1, e1, o1) = results
    assert t1 - t0 == pytest.approx(0.2, abs=0.011)   # one round trip later, to a poll
    assert e0 == pytest.approx(0, abs=1e-9) and e1 == pytest.approx(0, abs=1e-9)
    assert o0 == 0 and o1 == 0


def _remote_loop(k_rtt, gain=4.0):
    rtt = k_rtt / gain
    clock = VirtualClock()
    with _arm(clock) as arm:
        link = ArmChannel(arm, clock, ConstantDelay(rtt / 2), ConstantDelay(rtt / 2))
        return RemoteLoopMode().approach(link, Pose(420, 0, 300, 180, 0, 0),
                                         _ctx("remote-loop", gain, timeout=12.0))


def test_remote_loop_is_stable_below_pi_over_2_and_unstable_above():
    stable = _remote_loop(1.0)
    assert stable.settled
    assert stable.figures(0.1).overshoot_mm > 0.5           # oscillatory (K T > 1/e) but decays
    calm = _remote_loop(0.25)
    assert calm.settled and calm.figures(0.1).overshoot_mm < 0.1
    unstable = _remote_loop(2.0)                            # K T = 2.0 > pi/2
    assert not unstable.settled
    e = np.linalg.norm(unstable.positions - unstable.target, axis=1)
    t = unstable.t_s
    late = e[t > t[-1] * 0.75].max()
    assert late > 2.0                                      # still swinging by mm at the end
    assert unstable.figures(0.1, final=unstable.target).corrective_moves >= 6
    assert 1.0 < math.pi / 2 < 2.0
