"""The shared on-time delivery step (bench/impair/gate.py `OnTime`) on a real PreciseLoop:
undelayed messages go out at once, nothing runs before its time even when the learnt early-wake
margin is larger than the time left, and a byte stream keeps its order when the margin moves."""
from __future__ import annotations

from bench.impair.gate import OnTime
from bench.impair.loop import PreciseLoop, now_ns


def _run_for(loop: PreciseLoop, seconds: float) -> None:
    loop.call_at(now_ns() + int(seconds * 1e9), loop.stop, precise=False)
    loop.run()


def test_due_now_runs_inline_and_nothing_runs_early() -> None:
    loop = PreciseLoop(0.0)
    on_time = OnTime(loop)
    ran: list[tuple[str, int]] = []
    on_time.at(now_ns(), lambda: ran.append(("now", now_ns())))
    assert [k for k, _ in ran] == ["now"]                      # before the loop ran at all
    on_time.early_ns = 300_000                                 # a learnt 0.3 ms margin
    due = now_ns() + 100_000                                   # due in 0.1 ms: inside it
    on_time.at(due, lambda: ran.append(("soon", now_ns())))
    assert len(ran) == 1
    _run_for(loop, 0.01)
    assert ran[1][0] == "soon" and ran[1][1] >= due            # waited for its time
    assert on_time.lateness()["late_ms_max"] >= 0.0


def test_a_stream_keeps_its_order_when_the_margin_grows() -> None:
    loop = PreciseLoop(0.0)
    on_time = OnTime(loop)
    order: list[int] = []
    base = now_ns() + 5_000_000
    wake = on_time.at(base, lambda: order.append(1))
    on_time.early_ns = 10_000                  # learnt meanwhile: the next would wake earlier
    on_time.at(base + 2_000, lambda: order.append(2), not_before=wake)
    _run_for(loop, 0.02)
    assert order == [1, 2]
