"""Network profiles: one YAML format for the virtual wrapper, the TCP proxy and the serial proxy.

Format (all keys optional except `name`; see docs/network.md for the full reference)::

    name: 5g-urban
    description: ...
    delay: {base: 7 ms, jitter: 2 ms, distribution: pareto-normal, correlation: 0.3}  # one-way
    loss: 0.1 %                     # Bernoulli; or {model: gilbert-elliott, p: 1 %, r: 30 %,
                                    #   bad_loss: 100 %, good_loss: 0 %}  (netem's p r 1-h 1-k)
    outage: {schedule: [{at: 5 s, duration: 2 s}], markov: {mean_up: 60 s, mean_down: 3 s}}
    rate: {rate: 10 Mbit/s, burst: 3 kB}            # token bucket
    delivery: traces/link.mahimahi                  # mahimahi delivery opportunities
    trace: {file: cicv5g_urban_n78_v0_run01, format: auto, split: 0.5, start: 0 s, measure: rtt}
    tcp: {min_rto: 200 ms, reset_after: 5 s}   # TCP links only: retransmission, not loss
    duplicate: 0.1 %                # serial frames, datagrams and packets (not TCP chunks)
    corrupt: 0.1 %                  # the same: one bit flipped
    reorder: 1 %                    # datagrams and packets: sent without delay (netem reorder)
    uplink: {delay: ..., loss: ...} # per-direction overrides of delay, loss, rate, delivery,
    downlink: {...}                 #   duplicate, corrupt

`delay` is one-way per direction; `trace` replaces it with a round-trip trace split by `split`
(the uplink's share); its `file` is a shipped trace's name (`hil-bench trace info --help`) or a
path. Probabilities are fractions (0.01) or percentages ("1 %"). Paths are relative to the
profile file. Failure mode: ConfigError naming the file, line and key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench.impair.dist import SHAPES, JitterModel, JitterSpec
from bench.impair.link import Departure, Direction, ImpairedLink
from bench.impair.loss import LOSS_MODELS, LossSpec
from bench.impair.outage import Outages, OutageSpec
from bench.impair.rate import DeliveryTrace, TokenBucket
from bench.impair.tcp import TcpSpec
from bench.impair.traces import READERS, TraceDelay, load_trace
from bench.paths import resolve
from drivers.config import Section, load_yaml_file
from drivers.data import find_trace
from drivers.errors import ConfigError

DIRECTION_KEYS = ("delay", "loss", "rate", "delivery", "duplicate", "corrupt", "reorder")


@dataclass(frozen=True)
class DirectionSpec:
    """Impairment of one direction (seconds, fractions, bytes per second)."""

    jitter: JitterSpec = field(default_factory=JitterSpec)
    loss: LossSpec = field(default_factory=LossSpec)
    rate_Bps: float | None = None
    burst_B: float = 3000.0
    delivery: Path | None = None
    duplicate_p: float = 0.0
    corrupt_p: float = 0.0
    reorder_p: float = 0.0


@dataclass(frozen=True)
class TraceSpec:
    """A round-trip (or one-way) delay trace replayed in time."""

    path: Path
    format: str = "auto"
    split: float = 0.5
    start_s: float = 0.0
    one_way: bool = False


@dataclass(frozen=True)
class NetworkProfile:
    """A loaded network profile. `link(seed)` builds the seeded engine."""

    name: str
    source: str
    description: str = ""
    uplink: DirectionSpec = field(default_factory=DirectionSpec)
    downlink: DirectionSpec = field(default_factory=DirectionSpec)
    trace: TraceSpec | None = None
    outages: OutageSpec = field(default_factory=OutageSpec)
    #: how a TCP link over this profile retransmits (`bench.impair.tcp`); unused on serial links
    tcp: TcpSpec = field(default_factory=TcpSpec)

    @property
    def ideal(self) -> bool:
        """True when the profile changes nothing (no delay, loss, outage, rate or trace)."""
        return (self.trace is None and self.outages.empty
                and self.uplink == DirectionSpec() and self.downlink == DirectionSpec())

    def link(self, seed: int = 0) -> ImpairedLink:
        """A fresh seeded engine for one connection (t = 0 is when it starts)."""
        seqs = np.random.SeedSequence(seed).spawn(7)
        rngs = [np.random.default_rng(s) for s in seqs]
        outages = None if self.outages.empty else Outages(self.outages, rngs[6])
        trace = load_trace(self.trace.path, self.trace.format) if self.trace else None
        dirs = []
        for i, (name, spec) in enumerate((("up", self.uplink), ("down", self.downlink))):
            if trace is not None and self.trace is not None:
                share = 1.0 if self.trace.one_way else (self.trace.split if name == "up"
                                                        else 1.0 - self.trace.split)
                delay: Callable[[float], float] = TraceDelay(trace, share, self.trace.start_s).at
            else:
                jm = JitterModel(spec.jitter, rngs[3 * i])
                delay = _constant_delay(spec.jitter.base_s) if spec.jitter.constant \
                    else _model_delay(jm)
            rate: Departure | None = None
            if spec.delivery is not None:
                dt = load_trace(spec.delivery, "mahimahi")
                rate = DeliveryTrace(list(dt.opportunities_ms), dt.source)
            elif spec.rate_Bps is not None:
                rate = TokenBucket(spec.rate_Bps, spec.burst_B)
            dirs.append(Direction(name, delay, spec.loss.build(rngs[3 * i + 1]), outages,
                                  rngs[3 * i + 2], rate, spec.duplicate_p, spec.corrupt_p,
                                  spec.reorder_p, transparent=trace is None and outages is None
                                  and spec == DirectionSpec()))
        return ImpairedLink(dirs[0], dirs[1], outages)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description for reports and session metadata."""
        def d(s: DirectionSpec) -> dict:
            return {"base_ms": s.jitter.base_s * 1e3, "jitter_ms": s.jitter.jitter_s * 1e3,
                    "distribution": s.jitter.distribution, "correlation": s.jitter.correlation,
                    "loss": s.loss.model, "loss_p": s.loss.p}
        out: dict[str, Any] = {"name": self.name, "source": self.source,
                               "uplink": d(self.uplink), "downlink": d(self.downlink)}
        if self.trace:
            out["trace"] = {"file": str(self.trace.path), "split": self.trace.split}
        out["tcp"] = {"min_rto_ms": self.tcp.min_rto_s * 1e3,
                      "reset_after_s": self.tcp.reset_after_s}
        if not self.outages.empty:
            out["outages"] = {"scheduled": [list(w) for w in self.outages.scheduled],
                              "mean_up_s": self.outages.mean_up_s,
                              "mean_down_s": self.outages.mean_down_s}
        return out


# -- parsing ---------------------------------------------------------------------------------------
def _prob(s: Section, key: str, default: float = 0.0) -> float:
    value = s.raw(key, default)
    if key not in s.data:
        return value
    if isinstance(value, str) and value.strip().endswith("%"):
        v = s.quantity(key, "%") / 100.0
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
    else:
        raise s.error(key, f"expected a probability like 0.01 or '1 %', got {value!r}")
    if not 0.0 <= v <= 1.0:
        raise s.error(key, f"a probability must be between 0 and 1 (0 % and 100 %), got {value!r}")
    return v


def _jitter(s: Section, key: str) -> JitterSpec:
    value = s.raw(key)
    if not isinstance(value, dict):
        return JitterSpec(base_s=s.quantity(key, "s", min=0.0))
    d = s.section(key)
    correlation = _prob(d, "correlation")
    if correlation >= 1.0:      # checked before JitterSpec, which refuses it with a bare ValueError
        raise d.error("correlation", "must be below 1 (1 would never move from its first value)")
    spec = JitterSpec(base_s=d.quantity("base", "s", 0.0, min=0.0),
                      jitter_s=d.quantity("jitter", "s", 0.0, min=0.0),
                      distribution=d.get("distribution", str, "uniform", choices=SHAPES),
                      correlation=correlation)
    d.done()
    return spec


def _loss(s: Section, key: str) -> LossSpec:
    value = s.raw(key)
    if not isinstance(value, dict):
        p = _prob(s, key)
        return LossSpec("bernoulli" if p > 0 else "none", p=p)
    d = s.section(key)
    model = d.get("model", str, "bernoulli", choices=LOSS_MODELS)
    ge = model == "gilbert-elliott"
    spec = LossSpec(model, p=_prob(d, "p"), r=_prob(d, "r", 1.0) if not ge else _prob(d, "r"),
                    bad_loss=_prob(d, "bad_loss", 1.0), good_loss=_prob(d, "good_loss", 0.0))
    if ge and spec.r == 0.0:
        raise d.error("r", "gilbert-elliott needs r > 0 (P(bad -> good)), or the link never "
                      "recovers")
    d.done()
    return spec


def _direction(s: Section, base: DirectionSpec, root: Path) -> DirectionSpec:
    kw: dict[str, Any] = {}
    if s.has("delay"):
        kw["jitter"] = _jitter(s, "delay")
    if s.has("loss"):
        kw["loss"] = _loss(s, "loss")
    if s.has("rate"):
        if isinstance(s.raw("rate"), dict):
            r = s.section("rate")
            kw["rate_Bps"] = r.quantity("rate", "bit/s", min=1.0) / 8.0
            kw["burst_B"] = r.quantity("burst", "B", 3000.0, min=1.0)
            r.done()
        else:
            kw["rate_Bps"] = s.quantity("rate", "bit/s", min=1.0) / 8.0
    if s.has("delivery"):
        kw["delivery"] = _path(s, "delivery", root)
    if s.has("duplicate"):
        kw["duplicate_p"] = _prob(s, "duplicate")
    if s.has("corrupt"):
        kw["corrupt_p"] = _prob(s, "corrupt")
    if s.has("reorder"):
        kw["reorder_p"] = _prob(s, "reorder")
    for key in DIRECTION_KEYS:
        s.raw(key, None)
    return DirectionSpec(**{**base.__dict__, **kw})


def _trace_file(s: Section, key: str, root: Path) -> Path:
    """A shipped trace's name (`cicv5g_urban_n78_v0_run01`, see drivers.data.find_trace), else a
    path relative to the profile's folder."""
    name = s.get(key, str)
    if "/" not in name:
        try:
            shipped = find_trace(name)
        except ConfigError as exc:
            raise s.error(key, str(exc)) from None
        if shipped is not None:
            return shipped
    return _path(s, key, root)


def _path(s: Section, key: str, root: Path) -> Path:
    p = Path(s.get(key, str))
    p = p if p.is_absolute() else root / p
    if not p.is_file():
        raise s.error(key, f"file not found: {p}")
    return p


def _outages(s: Section) -> OutageSpec:
    windows = []
    for i, item in enumerate(s.sequence("schedule", [])):
        w = Section(item, s.source, f"{s.key_path('schedule')}[{i}]", s.line_of("schedule"))
        windows.append((w.quantity("at", "s", min=0.0), w.quantity("duration", "s", min=1e-6)))
        w.done()
    up = down = None
    if s.has("markov"):
        m = s.section("markov")
        up, down = m.quantity("mean_up", "s", min=1e-3), m.quantity("mean_down", "s", min=1e-6)
        m.done()
    s.done()
    return OutageSpec(tuple(windows), up, down)


def _tcp(s: Section) -> TcpSpec:
    d = TcpSpec()
    min_rto = s.quantity("min_rto", "s", d.min_rto_s, min=1e-3)
    max_rto = s.quantity("max_rto", "s", d.max_rto_s, min=1e-3)
    if max_rto < min_rto:
        raise s.error("max_rto", "must not be below min_rto")
    out = TcpSpec(min_rto_s=min_rto, max_rto_s=max_rto,
                  initial_rto_s=s.quantity("initial_rto", "s", d.initial_rto_s, min=1e-3),
                  reset_after_s=s.quantity("reset_after", "s", d.reset_after_s, min=1e-3))
    s.done()
    return out


def parse_profile(data: Any, source: str, root: Path) -> NetworkProfile:
    """Validate a parsed profile document. Raises ConfigError naming `source`, line and key."""
    top = Section(data, source)
    name = top.get("name", str)
    description = top.get("description", str, "")
    both = _direction(top, DirectionSpec(), root)
    sections = {k: top.section(k, None) for k in ("uplink", "downlink")}
    up = _direction(sections["uplink"], both, root)
    down = _direction(sections["downlink"], both, root)
    for sec in sections.values():
        sec.done()
    trace = None
    if top.has("trace"):
        if top.has("delay") or any(sec.has("delay") for sec in sections.values()):
            raise top.error("trace", "give either a delay trace or a delay model, not both")
        t = top.section("trace")
        fmt = t.get("format", str, "auto", choices=("auto", *READERS))
        if fmt == "mahimahi":
            raise t.error("format", "a mahimahi trace is a capacity trace: use `delivery:`")
        trace = TraceSpec(path=_trace_file(t, "file", root), format=fmt,
                          split=_prob(t, "split", 0.5),
                          start_s=t.quantity("start", "s", 0.0, min=0.0),
                          one_way=t.get("measure", str, "rtt", choices=("rtt", "one-way"))
                          == "one-way")
        t.done()
        load_trace(trace.path, trace.format)   # fail at load time, not mid-run
    outages = _outages(top.section("outage")) if top.has("outage") else OutageSpec()
    top.raw("outage", None)
    tcp = _tcp(top.section("tcp")) if top.has("tcp") else TcpSpec()
    top.raw("tcp", None)
    top.done()
    return NetworkProfile(name=name, source=source, description=description, uplink=up, downlink=down,
                   trace=trace, outages=outages, tcp=tcp)


def load_profile(name_or_path: str) -> NetworkProfile:
    """Load a built-in profile by name (`5g-urban`) or a profile file. Raises ConfigError."""
    path = resolve(name_or_path, "network")
    return parse_profile(load_yaml_file(path), str(path), path.parent)


def _constant_delay(c: float) -> Callable[[float], float]:
    """A delay source (t in s -> delay in s) that always gives `c` seconds."""
    return lambda t: c


def _model_delay(model: JitterModel) -> Callable[[float], float]:
    """A delay source (t in s -> delay in s) drawing each delay from `model`."""
    return lambda t: model.next()
