"""The lab-devices layer: the one place that opens a lab's devices (like labgrid's target).

Who opens what::

    lab file ──load_lab──> Lab (typed specs: driver, endpoint, simulator parameters)
                              │
    hil-bench run / record / replay, benchmarks ──> Rig(lab, mode, clock, seed, network, observer)
    pytest plugin's Bench (per-test proxies)    ──> robot_simulator / robot_endpoint / modem_simulator
                              │
                 rig.robot(): simulator process (wire) or in-process arm (virtual)
                              -> impairment proxy (TCP or serial, by the endpoint's type)
                              -> driver (spec.open(endpoint)), connected
                 rig.modem(): simulator process / in-process modem / real modem, connected

Nothing outside the CLI package imports it; everything that needs a lab's devices comes here.
"""
from bench.rig.modem import modem_simulator, open_modem
from bench.rig.rig import MODES, Rig
from bench.rig.robot import open_robot, robot_endpoint, robot_simulator

__all__ = ["MODES", "Rig", "modem_simulator", "open_modem", "open_robot", "robot_endpoint",
           "robot_simulator"]
