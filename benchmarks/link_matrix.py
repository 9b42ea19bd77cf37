"""Every shipped network profile x {ISO 9283 cube, screw guide, teleop stream}: the verdict and the
link-loss figures, as a Markdown table (the product's own proof that the worst links end in a
measured result).

    python benchmarks/link_matrix.py [--cycles 5] [--mode virtual|wire] [--profiles a,b]

iso9283 and screw-guide are `hil-bench run` (virtual time by default; `--mode wire` runs them
against the simulator process through the TCP impairment proxy, in real time); teleop is
`hil-bench replay fixtures/sessions/teleop-stream.mcap --network PROFILE` (virtual). Columns:
verdict (exit code), outages, time without link, longest outage, worst recovery time,
protective stops, reconnects, TCP retransmissions, lost/late setpoints, and what failed.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.cli import main  # noqa: E402
from bench.impair import profile_names  # noqa: E402
from bench.session.replay import replay_session  # noqa: E402


def _row(scenario: str, profile: str, rc: int, verdict: str, run: dict | None,
         failed: list[str], wall_s: float) -> str:
    if run is None:
        figs = " | ".join("-" for _ in range(8))
    else:
        figs = (f"{run['outages']:.0f} | {run['link_down_time']:.2f} | "
                f"{run['longest_outage']:.2f} | {run['recovery_time']:.2f} | "
                f"{run['protective_stops']:.0f} | {run['reconnects']:.0f} | "
                f"{run['retransmissions']:.0f} | {run['lost_setpoints']:.0f}/"
                f"{run['late_setpoints']:.0f}")
    return (f"| {profile} | {scenario} | {verdict.upper()} ({rc}) | {figs} | "
            f"{', '.join(failed) or '-'} | {wall_s:.1f} |")


def run_case(scenario: str, profile: str, cycles: int, mode: str, tmp: Path) -> str:
    out = tmp / f"{scenario}-{profile}"
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = main(["run", scenario, "--cycles", str(cycles), "--mode", mode, "--network",
                   profile, "-q", "--out", str(out)])
    wall = time.perf_counter() - t0
    report = json.loads((out / "report.json").read_text())
    failed = sorted({f"{m['name']}" for m in report["measurements"] if m["outcome"] == "fail"})
    if report.get("error"):
        failed.append(report["error"][:60])
    run = (report.get("link_loss") or {}).get("run")
    return _row(scenario, profile, rc, report["verdict"], run, failed, wall)


def teleop_case(profile: str) -> str:
    t0 = time.perf_counter()
    c = replay_session(REPO / "fixtures" / "sessions" / "teleop-stream.mcap", network=profile)
    wall = time.perf_counter() - t0
    rc = 3 if c.error else 0 if c.passed else 1
    failed = [f"{m['name']} {m['value']:.1f} {m['unit']}" for m in c.failed]
    if c.error:
        failed.append(c.error[:60])
    run = (c.link_loss or {}).get("run")
    return _row("teleop (replay)", profile, rc, c.verdict_replay, run, failed, wall)


def main_() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cycles", type=int, default=5, help="cycles of each run (default 5)")
    ap.add_argument("--mode", choices=["virtual", "wire"], default="virtual")
    ap.add_argument("--profiles", default="", help="comma-separated (default: every shipped one)")
    args = ap.parse_args()
    profiles = [p for p in args.profiles.split(",") if p] or profile_names()
    print("| profile | scenario | verdict (exit) | outages | s without link | longest s | "
          "recovery s | protective stops | reconnects | retransmissions | lost/late setpoints "
          "| failed | wall s |")
    print("|---" * 13 + "|")
    with tempfile.TemporaryDirectory(prefix="hil-matrix-") as tmp:
        for profile in profiles:
            for scenario in ("iso9283", "screw-guide"):
                print(run_case(scenario, profile, args.cycles, args.mode, Path(tmp)), flush=True)
            print(teleop_case(profile), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main_())
