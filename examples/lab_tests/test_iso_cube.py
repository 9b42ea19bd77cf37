"""ISO 9283 pose accuracy (AP) and repeatability (RP) on the P1..P5 test cube, under real 5G delay.

A short acceptance check (3 cycles; the full ISO 9283 test is `hil-bench run`, 30 cycles). The
limits are the built-in scenario's: AP <= 1.0 mm (marginal above 0.8), RP <= 0.1 mm. Each figure
is recorded with `measure`, so it lands in the JUnit XML and in results.json.
"""
import pytest

from bench.clock import RealClock
from bench.evaluate import evaluate
from bench.runner import run_pose_scenario
from bench.scenario import load_scenario

CYCLES = 3


@pytest.mark.network("5g-urban")
def test_iso_cube_accuracy(bench, robot, measure):
    sc = load_scenario("iso9283", cycles=CYCLES)
    samples = run_pose_scenario(sc, robot, RealClock(), bench.lab.robot.workspace)
    assert len(samples) == CYCLES * len(sc.poses)
    for m in evaluate(sc, samples).measurements:
        measure(m.name, m.value, m.unit, limit=m.limit, subject=m.subject)
