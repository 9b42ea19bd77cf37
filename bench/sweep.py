"""Latency-budget sweeps: run a scenario in virtual time at each network delay, loss probability,
outage duration and control mode, and find, per mode, the largest value of each swept axis at
which every tolerance still passes.

`delay_ms` is the one-way delay in each direction (the round trip is twice that); `loss` a
Bernoulli loss probability per message; `outage_s` one outage of that length starting
`outage_at_s` into the run. The link is modelled as `hil-bench run` models it: a lab robot on a
TCP transport gets the TCP model (lost messages are retransmitted, `bench.impair.tcp`), and every
call follows the scenario's ride-through policy. Points run in worker processes (one per core by
default); each point is deterministic for its seed.
The budget of a mode on an axis is the largest swept value v such that every point of that mode
with a value <= v on that axis, and the other axes at their smallest swept value, passed (pass or
marginal); None when the smallest value already fails; `at_least` when even the largest value
swept passed (the true budget is larger).
Failure modes: ConfigError for a bad range or a lab without a simulated robot; a point whose run
raises a device error (e.g. a lost command times out) is reported with verdict "error" and
counts as not passing.
"""
from __future__ import annotations

import dataclasses
import math
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Callable

from bench.clock import VirtualClock
from bench.control.link import delay_sources
from bench.evaluate import evaluate
from bench.lab import load_lab
from bench.scenario import load_scenario
from bench.simproc import die_with_parent
from drivers.errors import BenchError, ConfigError
from drivers.sim.inprocess import InProcessArm
from drivers.sim.shape import shaped

#: figures reported per point: the worst value over the scenario's poses
POINT_FIGURES = ("AP", "RP", "worst", "overshoot", "settling", "time_to_target")


def parse_range(text: str, what: str = "--delay") -> list[float]:
    """``START:STOP:STEP`` (inclusive of STOP) or a single value, in ms. Raises ConfigError."""
    t = text.strip().removesuffix("ms").strip()
    try:
        parts = [float(p) for p in t.split(":")]
    except ValueError:
        raise ConfigError(f"{what}: expected START:STOP:STEP in ms, got {text!r}") from None
    if len(parts) == 1:
        parts = [parts[0], parts[0], 1.0]
    if len(parts) != 3 or parts[2] <= 0 or parts[1] < parts[0] or parts[0] < 0 \
            or not all(math.isfinite(p) for p in parts):
        raise ConfigError(f"{what}: expected START:STOP:STEP with 0 <= START <= STOP and STEP > 0, "
                          f"got {text!r}")
    n = int(math.floor((parts[1] - parts[0]) / parts[2] + 1e-9)) + 1
    if n > 1000:
        raise ConfigError(f"{what}: {n} points is too many (at most 1000)")
    return [round(parts[0] + i * parts[2], 6) for i in range(n)]


def parse_loss(text: str) -> list[float]:
    """``START:STOP:STEP`` or one value: probabilities (0.01) or percentages (``1:3:1 %``)."""
    t = text.strip()
    pct = t.endswith("%")
    bad = ConfigError(f"--loss: must be a probability in [0, 1) or START:STOP:STEP of them "
                      f"(0:0.02:0.01, or percentages 0:2:1 %), got {text!r}")
    try:
        values = parse_range(t.removesuffix("%").strip(), "--loss")
    except ConfigError:
        raise bad from None
    values = [round(v / 100.0, 9) for v in values] if pct else values
    if any(not 0.0 <= v < 1.0 for v in values):
        raise bad
    return values


def point_profile(delay_ms: float, jitter_ms: float, loss: float, outage_s: float = 0.0,
                  outage_at_s: float = 1.0) -> Any:
    """A `bench.impair` profile with this one-way delay (each direction), jitter (normal
    distribution, standard deviation `jitter_ms`), Bernoulli loss probability and one outage of
    `outage_s` seconds starting `outage_at_s` into the run."""
    from bench.impair.profile import parse_profile
    delay: Any = f"{delay_ms} ms"
    if jitter_ms > 0:
        delay = {"base": f"{delay_ms} ms", "jitter": f"{jitter_ms} ms", "distribution": "normal"}
    doc: dict[str, Any] = {"name": f"sweep-{delay_ms:g}ms", "delay": delay}
    if loss > 0:
        doc["loss"] = loss
    if outage_s > 0:
        doc["outage"] = {"schedule": [{"at": f"{outage_at_s} s", "duration": f"{outage_s} s"}]}
    return parse_profile(doc, "<sweep point>", Path("."))


@dataclasses.dataclass(frozen=True)
class ShiftedDelay:
    """Every delay of `inner` plus `shift_s` (negative shortens it, never below zero); a lost
    message stays lost."""

    inner: Any
    shift_s: float

    def sample(self, t_s: float) -> float | None:
        v = self.inner.sample(t_s)
        return None if v is None else max(0.0, v + self.shift_s)


def run_point(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one sweep point (a picklable dict in, a JSON-ready dict out).

    With ``spec["network"]`` (a profile name or file) the point's link is that profile with
    ``delay_ms`` added to every one-way delay (negative: removed, down to zero), instead of a
    constant ``delay_ms``."""
    sc = load_scenario(spec["scenario"], spec.get("cycles"))
    sc = dataclasses.replace(sc, control=dataclasses.replace(sc.control, mode=spec["control"]))
    lab = load_lab(spec["lab"])
    sim = lab.robot.sim
    if not lab.robot.simulate or sim is None:
        raise ConfigError(f"{lab.path}: a virtual sweep needs a simulated robot")
    seed = spec.get("seed", sc.seed)
    params = sim.arm_params(seed)
    d, loss = spec["delay_ms"] / 1e3, spec.get("loss", 0.0)
    outage = spec.get("outage_s", 0.0)
    from bench.impair.wire import tcp_link
    tcp = tcp_link(lab.robot.spec)
    if spec.get("network"):       # a recorded link (e.g. a measured trace) shifted by delay_ms
        from bench.impair.profile import load_profile
        up, down = delay_sources(load_profile(spec["network"]), seed, tcp=tcp)
        up, down = ShiftedDelay(up, d), ShiftedDelay(down, d)
    else:
        profile = point_profile(spec["delay_ms"], spec.get("jitter_ms", 0.0), loss, outage,
                                spec.get("outage_at_s", 1.0))
        up, down = delay_sources(profile, seed, tcp=tcp)
    clock = VirtualClock()
    point: dict[str, Any] = {"control": sc.control.mode, "delay_ms": spec["delay_ms"],
                             "network": spec.get("network"),
                             "rtt_ms": 2 * spec["delay_ms"], "jitter_ms": spec.get("jitter_ms", 0.0),
                             "loss": loss, "outage_s": outage, "tcp": tcp, "cycles": sc.cycles,
                             "seed": seed}
    if sc.control.mode == "remote-loop":
        point["gain_per_s"] = sc.control.gain_per_s
        point["gain_x_rtt"] = sc.control.gain_per_s * 2 * d
    from bench.runner import run_pose_scenario  # after the scenario is known to load
    try:
        with InProcessArm(params, clock.now, name=lab.name) as raw:
            arm = shaped(raw, lab.robot.spec)   # what the lab's protocol carries, as run does
            samples = run_pose_scenario(sc, arm, clock, lab.robot.workspace,
                                        delay_up=up, delay_down=down)
    except ConfigError:
        raise
    except BenchError as exc:
        point.update(verdict="error", error=str(exc), figures={k: None for k in POINT_FIGURES},
                     failed=[])
        return point
    ev = evaluate(sc, samples)
    figures: dict[str, float | None] = {}
    for key in POINT_FIGURES:
        vals = [v for p in sc.measured if (v := ev.figure(p, key)) is not None]
        figures[key] = None if not vals or any(not math.isfinite(v) for v in vals) else max(vals)
    point.update(verdict=ev.outcome.value, error=None, figures=figures,
                 failed=sorted({m.name for m in ev.measurements if m.outcome.value == "fail"}),
                 virtual_s=round(clock.now(), 3))
    return point


def budgets(points: list[dict[str, Any]], axis: str = "delay_ms") -> dict[str, float | None]:
    """Per control mode: the largest value on `axis` with every point up to it passing (None if
    none)."""
    return {mode: b["value"] for mode, b in budget_details(points, axis).items()}


def budget_details(points: list[dict[str, Any]],
                   axis: str = "delay_ms") -> dict[str, dict[str, Any]]:
    """Per control mode: {"value": the budget on `axis` (None if the smallest value fails),
    "at_least": True when the largest value swept still passes}."""
    out: dict[str, dict[str, Any]] = {}
    others = [a for a in AXES if a != axis]
    for mode in dict.fromkeys(p["control"] for p in points):
        mine = [p for p in points if p["control"] == mode]
        # the other axes at their smallest swept value: a delay budget without loss or outage,
        # a loss budget at the smallest delay, ...
        for a in others:
            low = min((p.get(a, 0.0) for p in mine), default=0.0)
            mine = [p for p in mine if p.get(a, 0.0) == low]
        values = sorted({p.get(axis, 0.0) for p in mine})
        best = None
        for v in values:
            if any(p["verdict"] not in ("pass", "marginal") for p in mine
                   if p.get(axis, 0.0) == v):
                break
            best = v
        out[mode] = {"value": best, "at_least": best is not None and best == values[-1]}
    return out


def _worker_init(parent_pid: int) -> None:
    """In each pool worker: Ctrl-C is the parent's to handle (it ends the workers itself), and
    the worker dies with the parent even when the parent is killed (PR_SET_PDEATHSIG; a parent
    that died before this line ran is caught by the getppid check)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # a forked worker inherits the parent's SIGTERM handler, which raises KeyboardInterrupt:
    # the pool would catch that as one point's result and go on with the next point
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()
    if os.getppid() != parent_pid:
        os._exit(1)


def _end_pool(pool: ProcessPoolExecutor, grace_s: float = 1.0) -> None:
    """Cancel what has not started, SIGTERM the workers, SIGKILL any still alive after
    `grace_s`: the sweep ends within about a second of Ctrl-C, leaving no worker behind."""
    procs = list(getattr(pool, "_processes", {}).values())   # the pool has no public accessor
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace_s
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(1.0)


#: the sweep's axes: name in points -> name in the result's budgets
AXES = {"delay_ms": "delay_ms", "loss": "loss", "outage_s": "outage_s"}


def sweep(scenario: str, lab: str, controls: list[str], delays_ms: list[float],
          jitter_ms: float = 0.0, loss: float | list[float] = 0.0, cycles: int | None = None,
          seed: int | None = None, jobs: int | None = None,
          on_point: Callable[[int, int, dict], None] | None = None,
          network: str | None = None, outages_s: list[float] | None = None,
          outage_at_s: float = 1.0) -> dict[str, Any]:
    """Run every (control, delay, loss, outage) point; returns {"points": [...],
    "budget_ms": {mode: ms}, "budget": {axis: {mode: {"value", "at_least"}}}}.

    With `network` (a profile name or file, e.g. a measured link) each point runs on that link
    with `delay_ms` added to its delays, so the budget is the delay the link has to spare."""
    sc = load_scenario(scenario, cycles)          # validate before spawning workers
    load_lab(lab)
    if network is not None:
        from bench.impair.profile import load_profile
        network = load_profile(network).source
    losses = loss if isinstance(loss, list) else [loss]
    outs = outages_s or [0.0]
    specs = [{"scenario": scenario, "lab": lab, "control": c, "delay_ms": d,
              "jitter_ms": jitter_ms, "loss": lo, "outage_s": o, "outage_at_s": outage_at_s,
              "cycles": cycles, "seed": sc.seed if seed is None else seed, "network": network}
             for c in controls for d in delays_ms for lo in losses for o in outs]
    jobs = jobs or min(len(specs), os.cpu_count() or 1, 2)
    points: list[dict[str, Any]] = [{}] * len(specs)
    if jobs <= 1:
        for i, s in enumerate(specs):
            points[i] = run_point(s)
            if on_point:
                on_point(i + 1, len(specs), points[i])
    else:
        pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init,
                                   initargs=(os.getpid(),))
        try:
            futures = {pool.submit(run_point, s): i for i, s in enumerate(specs)}
            done = 0
            from concurrent.futures import as_completed
            for fut in as_completed(futures):
                points[futures[fut]] = fut.result()
                done += 1
                if on_point:
                    on_point(done, len(specs), points[futures[fut]])
        except BaseException:
            _end_pool(pool)      # Ctrl-C, SIGTERM or an error: do not wait for the other points
            raise
        pool.shutdown()
    swept = {"delay_ms": delays_ms, "loss": losses, "outage_s": outs}
    return {"scenario": sc.name, "controls": controls, "delays_ms": delays_ms, "network": network,
            "jitter_ms": jitter_ms, "loss": loss, "losses": losses, "outages_s": outs,
            "outage_at_s": outage_at_s, "points": points, "budget_ms": budgets(points),
            "budget": {axis: budget_details(points, axis) for axis, values in swept.items()
                       if axis == "delay_ms" or len(values) > 1 or values[0] > 0}}
