"""`hil-bench instrument calibrate --lab LAB [--write [FILE]]`: hand-eye calibration as a lab
procedure (`bench.instrument_calibrate`): the lab's robot visits a registration pattern around a
centre pose, the lab's instrument measures each pose, and the instrument's pose in the robot base
frame (registration) and the marker's pose on the tool are solved and printed (YAML lines for
the lab file, or JSON), and with --write saved into the lab file's `instrument:` section.
Real hardware moves only with --arm. Exit codes: 0 done, 2 bad input (no instrument, a
registration that cannot be solved), 3 device error, 130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from bench.bounds import check_number, check_seed
from bench.cli.exitcodes import EXIT_PASS
from bench.clock import Clock, RealClock, VirtualClock
from bench.instrument_calibrate import calibrate, save_calibration
from bench.lab import load_lab
from bench.paths import builtin_names
from bench.scenario import load_scenario
from drivers.errors import ConfigError, SafetyError
from drivers.pose import Pose

ARM_ENV = "HIL_BENCH_ARM"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("instrument", help="measuring-instrument procedures (hand-eye calibration)")
    isub = p.add_subparsers(dest="instrument_cmd", required=True)
    c = isub.add_parser(
        "calibrate", help="hand-eye calibration: registration and marker offset of the lab's "
                          "instrument, saved in the lab file",
        description="Visit a registration pattern (the centre and the corners of a cube, tilted) "
                    "with the lab's robot, measure it with the lab's instrument, and solve the "
                    "instrument's pose in the robot base frame and the marker's pose on the tool "
                    "(Park & Martin hand-eye). The robot's rigid calibration errors are absorbed "
                    "into the registration (see docs/instruments.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  hil-bench instrument calibrate --lab my-lab.yaml --arm --write\n"
               "  hil-bench instrument calibrate --lab cobot-ndi --mode virtual --json\n"
               "  hil-bench instrument calibrate --lab cobot-ndi --write my-cobot-ndi.yaml")
    c.add_argument("--lab", required=True, help="lab file or built-in name (with instrument:)")
    c.add_argument("--mode", choices=["wire", "virtual"], default="wire",
                   help="wire: real devices or simulators over their protocols (default); "
                        "virtual: in-process simulators on a virtual clock (simulated labs)")
    c.add_argument("--center", default=None, metavar="X,Y,Z[,A,B,C]",
                   help="pattern centre, mm and deg (default: the first pose of the lab's "
                        "scenario, for iso9283 the cube centre P1)")
    c.add_argument("--size", type=float, default=60.0, help="pattern cube side, mm (60)")
    c.add_argument("--tilt", type=float, default=10.0,
                   help="tool tilt about x and y at the corners, deg (10; twice that about z)")
    c.add_argument("--speed", type=float, default=100.0, help="motion speed, mm/s (100)")
    c.add_argument("--seed", type=int, default=1, help="simulator seed (1)")
    c.add_argument("--arm", action="store_true",
                   help=f"allow motion on real hardware (or set {ARM_ENV}=1)")
    c.add_argument("--write", nargs="?", const="", default=None, metavar="FILE",
                   help="save the result in the lab file (a built-in lab: into FILE, a copy)")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.set_defaults(func=run)


def _center(text: str | None, lab_scenario: str) -> Pose:
    if text is None:
        return next(iter(load_scenario(lab_scenario, 1).poses.values()))
    try:
        vals = [float(v) for v in text.split(",")]
        return Pose.from_seq(vals if len(vals) == 6 else vals + [180.0, 0.0, 0.0])
    except ValueError:
        raise ConfigError(f"--center {text}: give x,y,z or x,y,z,a,b,c (mm, deg)") from None


def run(args: argparse.Namespace) -> int:
    check_number(args.size, "--size", low=1.0, high=1000.0)
    check_number(args.tilt, "--tilt", low=0.0, high=45.0)
    check_number(args.speed, "--speed", low=0.0, high=5000.0, low_open=True)
    check_seed(args.seed)
    lab = load_lab(args.lab)
    if lab.instrument is None:
        raise ConfigError(f"{lab.path}: the lab has no instrument: section")
    if args.write == "" and args.lab in builtin_names("lab"):
        raise ConfigError(f"--write: {args.lab} is a built-in lab; give a file to write the "
                          "calibrated copy to (--write my-lab.yaml)")
    armed = args.arm or os.environ.get(ARM_ENV, "") in {"1", "true", "yes"}
    if lab.has_real_hardware and not armed:
        raise SafetyError(f"{lab.path}: the robot is real hardware; motion needs --arm "
                          f"(or {ARM_ENV}=1). Nothing was sent.")
    if args.mode == "virtual" and lab.has_real_hardware:
        raise ConfigError("--mode virtual: only a simulated lab runs in virtual time")
    clock: Clock = VirtualClock() if args.mode == "virtual" else RealClock()
    log = (lambda msg: None) if args.json else \
        (lambda msg: print(msg, file=sys.stderr, flush=True))
    log(f"hand-eye calibration: lab {lab.name}, mode {args.mode}, 9 poses")
    cal = calibrate(lab, args.mode, clock, _center(args.center, lab.scenario),
                    size_mm=args.size, tilt_deg=args.tilt, seed=args.seed,
                    speed_mm_s=args.speed, log=log)
    written = None
    if args.write is not None:
        written = save_calibration(lab.path, cal, args.write or None)
    if args.json:
        print(json.dumps({**cal.as_dict(), "written": str(written) if written else None},
                         indent=2))
        return EXIT_PASS
    r, m = cal.registration.pose, cal.marker
    print(f"seen at {cal.seen} of {cal.poses} poses; FRE {cal.registration.fre_mm:.4f} mm\n"
          "instrument:\n"
          f"  marker: {{x: {m.x:.4f} mm, y: {m.y:.4f} mm, z: {m.z:.4f} mm, a: {m.a:.5f} deg, "
          f"b: {m.b:.5f} deg, c: {m.c:.5f} deg}}\n"
          "  registration:\n"
          f"    pose: {{x: {r.x:.4f} mm, y: {r.y:.4f} mm, z: {r.z:.4f} mm, a: {r.a:.5f} deg, "
          f"b: {r.b:.5f} deg, c: {r.c:.5f} deg}}\n"
          f"    fre: {cal.registration.fre_mm:.4f} mm\n    points: {cal.registration.n}")
    if written:
        print(f"saved in {written}")
    return EXIT_PASS
