"""GO / NO-GO for a measured link: its delay headroom under a scenario, and the link limits.

The headroom comes from a sweep on the measured link itself (`bench.sweep.run_point` with the
measured profile, in virtual time): every one-way delay of the replayed trace shifted by an
offset (positive: added; negative: removed, never below zero; lost probes stay lost). The margin
is the largest offset at which every tolerance of the scenario still passes in the site's control
mode: positive when the link has delay to spare, negative when it needs that much less delay, and
None when even a delay-free copy of the link fails (then delay is not the cause: outages, loss).
The search doubles the offset in steps of `step_ms` and then bisects to `step_ms`, so it assumes
a scenario that passes at some delay passes at every smaller one (the sweep's own budget rule).

GO needs all three: the scenario passes on the measured link as it is (offset 0), the fraction
of lost probes is at most `max_loss`, and the longest run of lost probes is at most
`max_outage_s` (default 1 s: TS 22.263 section 5.5 asks a medical link to reconnect within 1 s).
Failure mode: ConfigError for a scenario or lab that cannot be swept (from `bench.sweep`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from bench.sweep import run_point

PASSING = ("pass", "marginal")


@dataclass(frozen=True)
class Criteria:
    """What a link must carry: a scenario in a control mode, and link limits."""

    scenario: str = "iso9283"
    control: str = "target"
    cycles: int | None = 3
    seed: int | None = None
    max_loss: float = 0.01
    max_outage_s: float = 1.0
    step_ms: float = 10.0
    max_margin_ms: float = 160.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Decision:
    """The outcome: go, margin (one-way ms, None: delay is not the cause), reasons, points."""

    go: bool
    margin_ms: float | None
    margin_at_least: bool
    budget_ms: float | None
    reasons: list[str]
    points: list[dict[str, Any]] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "GO" if self.go else "NO-GO"

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "margin_ms": self.margin_ms,
                "margin_at_least": self.margin_at_least, "budget_ms": self.budget_ms,
                "reasons": self.reasons,
                "points": [{k: p.get(k) for k in ("delay_ms", "verdict", "failed", "error")}
                           for p in self.points]}


def _largest_passing(passes: Callable[[int], bool], limit: int) -> int:
    """The largest i in 0..limit with passes(i), given passes(0): doubling, then bisection."""
    lo, i = 0, 1
    while True:
        j = min(i, limit)
        if not passes(j):
            hi = j
            break
        lo = j
        if j == limit:
            return limit
        i *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if passes(mid) else (lo, mid)
    return lo


def _smallest_passing_below(passes: Callable[[int], bool], limit: int) -> int | None:
    """The smallest i in 1..limit with passes(-i), given not passes(0); None when none."""
    lo, i = 0, 1
    while True:
        j = min(i, limit)
        if passes(-j):
            hi = j
            break
        lo = j
        if j == limit:
            return None
        i *= 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if passes(-mid) else (mid, hi)
    return hi


def decide(profile: str, figures: dict[str, Any], lab: str, crit: Criteria) -> Decision:
    """Judge the measured link `profile` (a profile file replaying it) with its `figures`
    (`bench.qualify.trace.link_figures`) under `crit`, on `lab`'s simulated robot."""
    points: dict[float, dict[str, Any]] = {}

    def point(offset_ms: float) -> dict[str, Any]:
        if offset_ms not in points:
            points[offset_ms] = run_point({
                "scenario": crit.scenario, "lab": lab, "control": crit.control,
                "delay_ms": offset_ms, "network": profile, "cycles": crit.cycles,
                **({"seed": crit.seed} if crit.seed is not None else {})})
        return points[offset_ms]

    def passes(i: int) -> bool:
        return point(i * crit.step_ms)["verdict"] in PASSING

    reasons: list[str] = []
    loss, outage = figures.get("loss") or 0.0, figures.get("longest_outage_s", 0.0)
    if loss > crit.max_loss:
        reasons.append(f"loss {loss * 100:.2f} % > {crit.max_loss * 100:g} % "
                       f"({figures['lost']} of {figures['probes']} probes)")
    if outage > crit.max_outage_s:
        reasons.append(f"longest outage {outage:.2f} s > {crit.max_outage_s:g} s")
    base = point(0.0)
    ok = base["verdict"] in PASSING
    rtt = figures.get("rtt_ms") or {}
    p99_oneway = rtt.get("p99", 0.0) / 2.0
    at_least = False
    if ok:
        limit = max(1, int(math.floor(crit.max_margin_ms / crit.step_ms + 1e-9)))
        up = _largest_passing(passes, limit)
        margin: float | None = up * crit.step_ms
        at_least = up == limit
    else:
        what = (f"ERROR ({base['error']})" if base.get("error")
                else f"{base['verdict'].upper()} ({', '.join(base['failed'])})")
        reasons.insert(0, f"{crit.control} on the measured link: {what}")
        limit = max(1, int(math.ceil((rtt.get("max", 0.0) / 2.0) / crit.step_ms)))
        down = _smallest_passing_below(passes, limit)
        margin = None if down is None else -down * crit.step_ms
        if margin is not None:
            reasons.append(f"needs {-margin:g} ms less one-way delay "
                           f"(RTT p99 {rtt.get('p99', 0.0):g} ms)")
        else:
            reasons.append("fails even with no delay: not a latency problem")
    budget = None if margin is None else round(p99_oneway + margin, 3)
    ordered = [points[k] for k in sorted(points)]
    return Decision(go=ok and not reasons, margin_ms=margin, margin_at_least=at_least,
                    budget_ms=budget, reasons=reasons, points=ordered)
