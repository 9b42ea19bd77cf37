"""Link-loss figures: what the worst links did to a run, per run and per pose.

The figures (names, units and meanings are catalogue entries, `bench.metrics.catalogue`, which
scenario tolerances, the evaluation and the reports read):

=================  =====  ===========================================================================
name               unit   meaning
=================  =====  ===========================================================================
link_down_time     s      total time without a working link (union of the outage windows)
outages            count  outage windows: the operator's calls failing (ride-through, first failure
                          to first success), a lost message until the next one of its direction got
                          through, a TCP segment from its first send to its successful retransmission
longest_outage     s      the longest of those windows
recovery_time      s      from the end of the last outage during a target visit to the target
                          reached (per pose: worst visit; per run: worst pose); 0 without an outage
protective_stops   count  protective stops of the controller (watchdog, or a stop during an outage)
reconnects         count  connections re-opened by the ride-through policy
resets             count  TCP connections reset after a stall beyond the profile's tcp.reset_after
retransmissions    count  TCP retransmissions (a segment sent again after its RTO)
lost_setpoints     count  motion commands lost on the way to the arm (uplink messages on a proxy,
                          which does not know what a chunk carries)
late_setpoints     count  motion commands that arrived only after a retransmission (TCP)
=================  =====  ===========================================================================

`LinkLossLog` is a run observer that collects the events (`network` from the impairment,
`link_lost` / `link_restored` / `reconnect` from `bench.ridethrough`, `protective_stop`, `skip`);
`figures(samples)` turns them into a `LinkLoss`. Times are ns on the run's clock in, s out.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from bench.metrics import catalogue
from bench.observer import RunObserver

#: the link-loss figures with their units (tolerance names in scenarios): the measurement
#: catalogue's entries with data "link" (their one definition is `bench.metrics.catalogue`)
LINK_LOSS_UNITS: dict[str, str] = {m.name: m.unit for m in catalogue.CATALOGUE
                                   if m.data == "link"}
#: the ones also given per pose (a tolerance on recovery_time is judged per pose)
PER_POSE = ("recovery_time", "outages")
#: tracking figures of setpoint streams (pose read at the robot against the last setpoint sent),
#: judged in stream recordings and their replays: RMS and max error (mm), time beyond the
#: scenario's tracking band (s)
TRACKING_UNITS: dict[str, str] = {m.name: m.unit for m in catalogue.CATALOGUE
                                  if m.data == "stream"}


def merge(windows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of [start, end] windows (ns), sorted, overlapping or touching ones joined."""
    out: list[list[int]] = []
    for a, b in sorted(windows):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


@dataclass
class LinkLoss:
    """The figures of one run (see the module docstring); `poses` per pose name."""

    run: dict[str, float]
    poses: dict[str, dict[str, Any]] = field(default_factory=dict)
    windows_s: list[tuple[float, float]] = field(default_factory=list)

    def figure(self, key: str, pose: str | None = None) -> float | None:
        if pose is None:
            return self.run.get(key)
        v = self.poses.get(pose, {}).get(key)
        return None if v is None else float(v)

    def as_dict(self) -> dict[str, Any]:
        return {"run": dict(self.run), "poses": {k: dict(v) for k, v in self.poses.items()},
                "outage_windows_s": [[round(a, 6), round(b, 6)] for a, b in self.windows_s]}


class LinkLossLog(RunObserver):
    """Collects the link events of a run (see the module docstring)."""

    every_network_event = False     # plain deliveries only matter right after a loss

    def __init__(self) -> None:
        self.t0_ns: int | None = None
        self.windows: list[tuple[int, int]] = []
        self._open_lost: dict[str, int] = {}          # direction -> first lost message's t_ns
        self._failing: int | None = None
        self.counts = {"protective_stops": 0, "reconnects": 0, "resets": 0, "retransmissions": 0,
                       "lost_setpoints": 0, "late_setpoints": 0, "skipped": 0}

    def on_start(self, t_ns: int, meta: dict[str, Any]) -> None:
        if self.t0_ns is None:
            self.t0_ns = t_ns

    def on_event(self, t_ns: int, kind: str, detail: dict[str, Any]) -> None:
        if self.t0_ns is None:
            self.t0_ns = t_ns
        c = self.counts
        if kind == "network":
            d = detail.get("dir", "up")
            if detail.get("cause") == "reset" and d == "both":
                c["resets"] += 1              # the connection, not a message
                return
            setpoint = detail.get("call", "move_to" if d == "up" else "") == "move_to" \
                and d == "up"
            if detail.get("lost"):
                self._open_lost.setdefault(d, t_ns)
                c["lost_setpoints"] += int(setpoint)
                return
            start = self._open_lost.pop(d, None)
            if start is not None:
                self.windows.append((start, t_ns))
            n = int(detail.get("retransmits", 0))
            if n:
                c["retransmissions"] += n
                c["late_setpoints"] += int(setpoint)
                stall = int(float(detail.get("retransmitted_after_ms", 0.0)) * 1e6)
                self.windows.append((t_ns, t_ns + stall))
        elif kind == "link_lost":
            if self._failing is None:
                self._failing = t_ns
        elif kind == "link_restored":
            down = int(float(detail.get("down_s", 0.0)) * 1e9)
            self.windows.append((t_ns - down, t_ns))
            self._failing = None
        elif kind == "reconnect":
            c["reconnects"] += 1
        elif kind == "protective_stop":
            c["protective_stops"] += 1
        elif kind == "skip":
            c["skipped"] += 1

    def outage_windows(self, end_ns: int | None = None) -> list[tuple[int, int]]:
        """Merged outage windows (ns); ones still open end at `end_ns` (or where they began)."""
        ws = list(self.windows)
        for start in [*self._open_lost.values(), *([self._failing] if self._failing else [])]:
            ws.append((start, max(start, end_ns or start)))
        return merge(ws)

    def figures(self, samples: Sequence[Any], end_ns: int | None = None) -> LinkLoss:
        """The figures, with per-pose ones from the samples' command/arrival times."""
        ws = self.outage_windows(end_ns)
        durations = [(b - a) / 1e9 for a, b in ws]
        poses: dict[str, dict[str, Any]] = {}
        for s in samples:
            p = poses.setdefault(s.pose, {"recovery_time": 0.0, "outages": 0,
                                          "visits_through_outage": []})
            hit = [(a, b) for a, b in ws if a <= s.t_arrived_ns and b >= s.t_command_ns]
            if not hit:
                continue
            p["outages"] += len(hit)
            p["visits_through_outage"].append(s.cycle)
            rec = max(0.0, (s.t_arrived_ns - max(b for _, b in hit)) / 1e9)
            p["recovery_time"] = max(p["recovery_time"], rec)
        run: dict[str, float] = {
            "link_down_time": round(sum(durations), 6), "outages": float(len(ws)),
            "longest_outage": round(max(durations, default=0.0), 6),
            "recovery_time": max((p["recovery_time"] for p in poses.values()), default=0.0),
            **{k: float(v) for k, v in self.counts.items()}}
        t0 = self.t0_ns or 0
        return LinkLoss(run, poses, [((a - t0) / 1e9, (b - t0) / 1e9) for a, b in ws])
