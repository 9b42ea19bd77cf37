"""Limits judge themselves: pass / marginal / fail, NaN and missing always fail."""
from __future__ import annotations

import math

from bench.limits import Limit, Measurement, Outcome


def test_outcomes_around_the_marginal_band() -> None:
    lim = Limit("AP", max=1.0, unit="mm", marginal=0.8)
    assert lim.judge(0.5) is Outcome.PASS
    assert lim.judge(0.8) is Outcome.PASS
    assert lim.judge(0.9) is Outcome.MARGINAL
    assert lim.judge(1.0) is Outcome.MARGINAL
    assert lim.judge(1.0001) is Outcome.FAIL


def test_nan_and_missing_fail() -> None:
    lim = Limit("RP", max=0.1, unit="mm")
    assert lim.judge(math.nan) is Outcome.FAIL
    assert lim.judge(None) is Outcome.FAIL
    assert Measurement("RP", math.nan, "mm", lim).as_dict()["outcome"] == "fail"


def test_worst_outcome() -> None:
    assert Outcome.worst([Outcome.PASS, Outcome.MARGINAL]) is Outcome.MARGINAL
    assert Outcome.worst([Outcome.MARGINAL, Outcome.FAIL, Outcome.PASS]) is Outcome.FAIL
