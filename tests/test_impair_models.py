"""Statistical tests of the impairment models, with fixed seeds and bounds justified in each test.

Kolmogorov-Smirnov: for n independent samples the 0.1 % critical distance is 1.95 / sqrt(n); with
AR(1) correlation rho the effective sample size is about n (1 - rho) / (1 + rho).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bench.impair.dist import PARETO_ALPHA, JitterModel, JitterSpec
from bench.impair.link import Direction, recorded_link
from bench.impair.loss import LossModel, LossSpec
from bench.impair.outage import Outages, OutageSpec
from bench.impair.rate import DeliveryTrace, TokenBucket
from bench.impair.traces import TraceDelay, load_trace

TRACES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"

N = 20000
BASE, J = 0.010, 0.002


def _samples(dist: str, n: int = N, rho: float = 0.0, seed: int = 7) -> np.ndarray:
    return JitterModel(JitterSpec(BASE, J, dist, rho), np.random.default_rng(seed)).sample(n)


def _ks(x: np.ndarray, cdf) -> float:
    x = np.sort(x)
    n = len(x)
    f = cdf(x)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def _pareto_cdf(x: np.ndarray) -> np.ndarray:
    a = PARETO_ALPHA
    mean, sd = a / (a - 1), math.sqrt(a / ((a - 1) ** 2 * (a - 2)))
    v = (x - BASE) / J * sd + mean          # back to Pareto(x_m = 1) units
    return np.where(v < 1, 0.0, 1 - np.power(np.maximum(v, 1), -a))


CDFS = {
    "uniform": lambda x: np.clip((x - (BASE - J)) / (2 * J), 0, 1),
    "normal": lambda x: _phi((x - BASE) / J),
    "pareto": _pareto_cdf,
}


@pytest.mark.parametrize("dist", sorted(CDFS))
def test_distribution_matches_its_cdf(dist):
    x = _samples(dist)
    assert _ks(x, CDFS[dist]) < 1.95 / math.sqrt(N)
    # mean is the base for every shape (finite variance: SE = J / sqrt(N) = 14 us; bound 5 SE)
    assert abs(x.mean() - BASE) < 5 * J / math.sqrt(N)


def test_jitter_is_the_spread_asked_for():
    # uniform: half-width J, sd J / sqrt(3); normal: sd J. SE of an sd is about sd / sqrt(2N) (0.5 %)
    assert _samples("uniform").std() == pytest.approx(J / math.sqrt(3), rel=0.03)
    assert _samples("uniform").min() >= BASE - J and _samples("uniform").max() < BASE + J
    assert _samples("normal").std() == pytest.approx(J, rel=0.03)
    # pareto: infinite fourth moment, so the sample sd converges slowly: check quantiles instead
    x = _samples("pareto", 100000)
    for p in (0.5, 0.9, 0.99):
        expected = BASE + J * ((1 - p) ** (-1 / 3) - 1.5) / math.sqrt(0.75)
        # quantile SE = sqrt(p(1-p)/n) / f(q); at p = 0.99 that is about 1 % of (q - min)
        assert np.quantile(x, p) == pytest.approx(expected, rel=0.02)


def test_pareto_normal_is_standardised_with_a_heavy_right_tail():
    x = _samples("pareto-normal", 100000)
    assert abs(x.mean() - BASE) < 5 * J / math.sqrt(100000)
    assert x.std() == pytest.approx(J, rel=0.1)          # heavy tail: loose bound on the sd
    z = (x - BASE) / J
    assert np.quantile(z, 0.999) > 3.5 > -np.quantile(z, 0.001)   # skewed to the right


@pytest.mark.parametrize("dist", ["normal", "uniform", "pareto"])
def test_correlation_keeps_the_marginal(dist):
    rho, n = 0.9, 60000
    x = _samples(dist, n, rho)
    n_eff = n * (1 - rho) / (1 + rho)                     # about 3160
    assert _ks(x, CDFS[dist]) < 1.95 / math.sqrt(n_eff)
    lag1 = np.corrcoef(x[:-1], x[1:])[0, 1]
    assert lag1 > 0.75                                     # strongly correlated, as asked
    # netem's smoothing would shrink the jitter by sqrt((1-rho)/(1+rho)) = 0.23; this keeps it
    if dist == "normal":
        assert x.std() == pytest.approx(J, rel=0.06)


def test_same_seed_same_delays_other_seed_others():
    assert np.array_equal(_samples("normal", 100, 0.5, 3), _samples("normal", 100, 0.5, 3))
    assert not np.array_equal(_samples("normal", 100, 0.5, 3), _samples("normal", 100, 0.5, 4))


def test_delays_are_never_negative():
    x = JitterModel(JitterSpec(0.001, 0.005, "normal"), np.random.default_rng(1)).sample(5000)
    assert x.min() == 0.0 and (x > 0).mean() > 0.5


def test_bernoulli_loss_rate():
    m = LossSpec("bernoulli", p=0.05).build(np.random.default_rng(5))
    lost = np.array([m.lost() for _ in range(100000)])
    assert abs(lost.mean() - 0.05) < 5 * math.sqrt(0.05 * 0.95 / 100000)


def _bursts(lost: np.ndarray) -> np.ndarray:
    edges = np.diff(np.concatenate([[0], lost.astype(int), [0]]))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


def test_gilbert_elliott_rate_and_burst_length_match_theory():
    p, r = 0.01, 0.3
    m = LossSpec("gilbert-elliott", p=p, r=r).build(np.random.default_rng(11))
    n = 200000
    lost = np.array([m.lost() for _ in range(n)])
    rate, burst = p / (p + r), 1 / r                       # 3.23 %, 3.33 messages
    # state autocorrelation 1-p-r = 0.69 inflates the variance by (1+0.69)/(1-0.69) = 5.45:
    # SE of the rate = sqrt(rate (1-rate) 5.45 / n) = 0.09 %; bound 0.4 % (over 4 SE)
    assert abs(lost.mean() - rate) < 0.004
    b = _bursts(lost)
    # about 1900 bursts, geometric with sd sqrt(1-r)/r = 2.8: SE 0.064; bound 0.3 (about 5 SE)
    assert abs(b.mean() - burst) < 0.3
    # a Bernoulli model with the same rate has bursts of 1 / (1 - rate) = 1.03: clearly different
    bern = LossSpec("bernoulli", p=rate).build(np.random.default_rng(11))
    assert _bursts(np.array([bern.lost() for _ in range(n)])).mean() < 1.1


def test_gilbert_elliott_with_loss_in_both_states():
    spec = LossSpec("gilbert-elliott", p=0.05, r=0.2, bad_loss=0.5, good_loss=0.01)
    m = spec.build(np.random.default_rng(2))
    lost = np.array([m.lost() for _ in range(200000)])
    pi_b = 0.05 / 0.25
    assert abs(lost.mean() - ((1 - pi_b) * 0.01 + pi_b * 0.5)) < 0.006   # 10.8 %


def test_scheduled_and_markov_outages():
    o = Outages(OutageSpec(((2.0, 3.0),)), np.random.default_rng(0))
    assert not o.down(1.999) and o.down(2.0) and o.down(4.99) and not o.down(5.0)
    assert o.window(3.0) == (2.0, 5.0)
    m = Outages(OutageSpec((), 10.0, 1.0), np.random.default_rng(4))
    t = np.arange(0, 20000, 0.05)
    down = np.array([m.down(x) for x in t])
    # about 1800 up/down cycles: the time fraction down is 1/11 = 9.1 % (SE about 0.3 %)
    assert abs(down.mean() - 1 / 11) < 0.015
    assert _bursts(down).mean() * 0.05 == pytest.approx(1.0, rel=0.15)   # mean hole 1 s


def test_token_bucket_paces_at_the_rate():
    tb = TokenBucket(rate_Bps=125000.0, burst_B=3000.0)   # 1 Mbit/s
    departs = [tb.depart(0.0, 1500) for _ in range(102)]
    assert departs[0] == departs[1] == 0.0                # the burst leaves at once
    assert departs[-1] == pytest.approx(100 * 1500 / 125000.0)   # then 12 ms per packet
    assert tb.depart(10.0, 100) == 10.0                   # idle: tokens refilled


def test_mahimahi_delivery_opportunities_wrap_around():
    dt = DeliveryTrace([2, 4, 10])                        # period 10 ms, 3 x 1500 B per period
    assert dt.depart(0.0, 100) == pytest.approx(0.002)
    assert dt.depart(0.0, 3000) == pytest.approx(0.010)   # needs two: 4 ms and 10 ms
    assert dt.depart(0.0, 100) == pytest.approx(0.012)    # next period, first opportunity
    assert dt.depart(0.0305, 100) == pytest.approx(0.032)  # unused ones are not banked
    assert dt.rate_Bps() == pytest.approx(3 * 1500 / 0.010)


def test_trace_replays_its_own_quantiles():
    tr = load_trace(TRACES / "cicv5g_w2s_n8_v30_run01.txt")
    share = 0.5
    td = TraceDelay(tr, share)
    t = np.arange(0.0, td.duration_s, 0.002)
    rtt_ms = np.array([td.at(x) for x in t]) * 1000 / share
    # rows are about 55 ms apart, not exactly evenly: time-weighted quantiles differ slightly
    assert np.median(rtt_ms) == pytest.approx(np.median(tr.delay_ms), abs=1.0)
    assert np.percentile(rtt_ms, 99) == pytest.approx(np.percentile(tr.delay_ms, 99), rel=0.1)
    assert rtt_ms.max() == tr.delay_ms.max()
    assert td.at(td.duration_s + 0.001) == td.at(0.001)    # wraps around


def test_direction_keeps_streams_in_order():
    spec = JitterSpec(0.05, 0.04, "uniform")
    jm = JitterModel(spec, np.random.default_rng(1))
    d = Direction("up", lambda t: jm.next(), LossModel(), None, np.random.default_rng(2))
    arrivals = [d.send(i * 0.001, 10).t_arrive_s for i in range(2000)]
    assert all(b >= a for a, b in zip(arrivals, arrivals[1:]))
    # the head-of-line effect shows: mean delay above the base
    assert np.mean([a - i * 0.001 for i, a in enumerate(arrivals)]) > 0.06


def test_recorded_link_replays_delays_and_losses():
    link = recorded_link([0.01, None, 0.03], [0.02])
    fates = [link.uplink.send(float(i), 10) for i in range(4)]
    assert [f.lost for f in fates] == [False, True, False, False]
    assert [round(f.delay_s, 6) for f in fates if not f.lost] == [0.01, 0.03, 0.01]
    assert link.downlink.send(0.0).delay_s == pytest.approx(0.02)
