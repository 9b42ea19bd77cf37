"""`hil-bench analyze FILE.csv [--json] [--scenario S]`: ISO 9283 figures of external measurements.

Reads a laser/optical tracker export (see `bench.instrument` for the columns) or a point file
(SpatialAnalyzer ASCII export and other name-x-y-z exports: `bench.instrument_points`; a point's
name is its pose, its occurrence the cycle, the commanded positions come from --scenario),
computes per pose the catalogue's static figures (`bench.metrics.catalogue`): AP (with x/y/z components), RP, worst,
n and, with orientation columns, APa/b/c and RPa/b/c as ISO 9283 defines them (wrapped angle
differences) plus the command-frame rotation vector AP_rot (not ISO); prints a table or, with
--json, {"poses": {name: {...}}}. With --scenario, the figures are also judged
against that scenario's tolerances (time-domain limits cannot be judged from static
measurements and are listed as not judged). The file is read strictly (`bench.instrument`):
a duplicated column or (pose, cycle) row, a pose commanded at two places or binary content is
refused with its line, and so is a pose with a single cycle when the scenario judges RP (or any
other figure that needs 2 cycles). Exit codes: 0 done (or pass/marginal with --scenario),
1 a tolerance failed, 2 bad input.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import fields

from bench.cli.exitcodes import EXIT_FAIL, EXIT_PASS
from bench.instrument import InstrumentData, read_instrument_csv
from bench.limits import Measurement, Outcome
from bench.metrics import catalogue
from bench.metrics.iso9283 import PoseStats, pose_table
from bench.point_files import UNITS_MM
from bench.scenario import Scenario, load_scenario
from drivers.errors import ConfigError

#: the figures a file of measured poses gives (the rest of the catalogue needs traces, approach
#: directions, drift blocks or paths, and is listed as not judged)
STATIC = [f.name for f in fields(PoseStats) if f.name in catalogue.BY_NAME]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze", help="ISO 9283 figures of measurements from an external instrument (CSV)",
        description="Compute ISO 9283 pose accuracy and repeatability per pose from a CSV of "
                    "commanded and measured poses (laser tracker, optical tracker).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="columns: pose,cycle,cmd_x,cmd_y,cmd_z,x,y,z (mm) [,cmd_a,cmd_b,cmd_c,a,b,c (deg)]\n"
               "examples:\n  hil-bench analyze tracker.csv\n  hil-bench analyze tracker.csv --json\n"
               "  hil-bench analyze tracker.csv --scenario iso9283\n"
               "  hil-bench analyze tracker-frame.csv --register registration.yaml\n"
               "  hil-bench analyze tracker-frame.csv --register auto --json\n"
               "  hil-bench analyze repeatability.csv --reference mean")
    p.add_argument("file", help="measurement CSV, or a point file (SpatialAnalyzer ASCII "
                                "export, laser-tracker points: name x y z)")
    p.add_argument("--format", default="auto", choices=["auto", "csv", "points"],
                   help="the file's format (auto: csv when it has pose and cycle columns, "
                        "else points; a point's name is its pose, its occurrence the cycle)")
    p.add_argument("--unit", default=None, choices=list(UNITS_MM),
                   help="point files: the coordinates' unit (default: a `// units:` comment, "
                        "else mm)")
    p.add_argument("--decimal", default=".", choices=[".", ","],
                   help="point files: the decimal mark (',': fields are not comma-separated)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--scenario", default=None,
                   help="judge against this scenario's tolerances (built-in name or YAML)")
    p.add_argument("--register", default=None, metavar="FILE|auto",
                   help="the measured poses are in the instrument's frame: bring them into the "
                        "robot base frame with a saved registration (a lab file's "
                        "instrument.registration, or a file with pose:/fre:/points:), a "
                        "registration pattern's point file (names = the --scenario's poses) or "
                        "`auto` (fit on the file's commanded poses; absorbs rigid robot errors)")
    p.add_argument("--reference", default=None, choices=["first", "mean"],
                   help="repeatability-only data: compare each pose with its first measurement "
                        "or with the mean of its measurements instead of the commanded pose")
    p.set_defaults(func=run)


def _clean(v: object) -> object:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _check_cycles(data: InstrumentData, sc: Scenario) -> None:
    """Refuse a file whose poses have too few cycles for a figure the scenario judges (RP and
    every other sample deviation need 2), naming the pose's first line: ConfigError."""
    counts = data.cycles_of()
    for key in sc.tolerances:
        m = catalogue.get(key)
        if m is None or key not in STATIC or m.min_cycles < 2:
            continue
        for pose, (n, line) in counts.items():
            if n < m.min_cycles:
                raise ConfigError(
                    f"{data.source}:{line}: pose {pose}: {n} cycle{'s' if n != 1 else ''}, but "
                    f"{key} needs at least {m.min_cycles} (tolerance at "
                    f"{sc.where('tolerance:' + key)})")


def _guide_measurements(data: InstrumentData, sc: Scenario,
                        out: dict) -> list[Measurement]:
    """The scenario's guide-axis figures (`bench.metrics.trajectory`) judged on the file, when
    the file can give them: the tool-z axis needs orientation columns, `axis: points` only
    positions. Adds the mean/worst summary to `out["trajectory"]`."""
    from bench.evaluate_figures import guide_figures
    from bench.runner import Sample
    from drivers.pose import Pose
    if sc.guide is None or not (data.has_orientation or sc.guide.axis == "points"):
        return []
    samples = [Sample(p, int(c), Pose.from_seq(cmd), Pose.from_seq(att), 0, 0, 0)
               for p, c, cmd, att in zip(data.poses, data.cycles, data.commanded, data.attained)]
    figs, summary = guide_figures(sc, samples)
    out["trajectory"] = {"guide": sc.guide.subject,
                         **{k: _clean(v) for k, v in (summary or {}).items()}}
    return [Measurement(key, None if v is None or not math.isfinite(v) else v,
                        sc.tolerances[key].unit, sc.tolerances[key], subject)
            for subject, vals in figs.items() for key, v in vals.items() if key in sc.tolerances]


def run(args: argparse.Namespace) -> int:
    from bench.instrument_points import detect_format, read_point_measurements
    sc = load_scenario(args.scenario) if args.scenario else None
    fmt = detect_format(args.file) if args.format == "auto" else args.format
    if fmt == "points":
        data = read_point_measurements(args.file, sc, unit=args.unit, decimal=args.decimal,
                                       need_commanded=not args.reference)
    else:
        data = read_instrument_csv(args.file)
    if sc is not None:
        _check_cycles(data, sc)
    registration = None
    if args.register:
        from bench.instrument_analysis import register_data, registration_summary
        data, reg, origin = register_data(data, args.register, sc, unit=args.unit,
                                          decimal=args.decimal)
        if sc is not None:
            limits = [lim.max for k, lim in sc.tolerances.items() if k in ("AP", "RP", "worst")]
            if limits:
                reg.check(min(limits), "the tightest position tolerance")
        registration = registration_summary(reg, origin)
    if args.reference:
        from bench.instrument_analysis import reference_data
        data = reference_data(data, args.reference)
    try:
        table = pose_table(data.poses, data.commanded, data.attained)
    except ValueError as exc:                # the reader's checks make this a bug, not bad input
        raise ConfigError(f"{data.source}: {exc}") from None
    out: dict = {"source": data.source, "format": fmt, "orientation": data.has_orientation,
                 "poses": {str(k): {kk: _clean(vv) for kk, vv in st.as_dict().items()}
                           for k, st in table.items()}}
    if registration is not None:
        out["registration"] = registration
    if args.reference:
        out["reference"] = args.reference
    measurements: list[Measurement] = []
    if sc is not None:
        for name, st in table.items():
            for key, lim in sc.tolerances.items():
                if key not in STATIC:
                    continue
                v = catalogue.judged_value(key, getattr(st, key))
                measurements.append(Measurement(key, v, lim.unit, lim, str(name)))
        measurements += _guide_measurements(data, sc, out)
        judged = {m.name for m in measurements}
        out["measurements"] = [m.as_dict() for m in measurements]
        out["not_judged"] = sorted(k for k in sc.tolerances if k not in judged)
        out["verdict"] = Outcome.worst([m.outcome for m in measurements]).value
    if args.json:
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        def f(v: object) -> str:
            return "       -" if v is None else f"{v:8.4f}"
        cols = [k for k in STATIC if any(k in st for st in out["poses"].values())]
        print(f"{'pose':<8}{'n':>4}  " + " ".join(
            f"{k:>8}" for k in cols) + "\n" + " " * 14 + " ".join(
            f"{catalogue.BY_NAME[k].unit:>8}" for k in cols))
        for name, st in out["poses"].items():
            print(f"{name:<8}{st['n']:>4}  " + " ".join(f(st.get(k)) for k in cols))
        if args.scenario:
            for m in measurements:
                if m.outcome is not Outcome.PASS:
                    print(f"  {m.subject} {m.name} = {f(m.value).strip()} {m.unit}: "
                          f"{m.outcome.value.upper()} (limit {m.limit.describe() if m.limit else '-'})")
            if out["not_judged"]:
                print(f"  not judged (the file cannot give them: time-resolved data, link "
                      "events, a guide axis's orientation): "
                      f"{', '.join(out['not_judged'])}")
            print(f"verdict: {out['verdict'].upper()}")
    if args.scenario and out["verdict"] == "fail":
        return EXIT_FAIL
    return EXIT_PASS
