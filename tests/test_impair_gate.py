"""The shared on-time delivery step (bench/impair/gate.py `OnTime`) on a real PreciseLoop:
undelayed messages go out at once, nothing runs before its time even when the learnt early-wake
margin is larger than the time left, and a byte stream keeps its order when the margin moves.
The gate delivers an undelayed message before it logs it (and flushes every line before the next
message), opens answer windows only where a late read would show, and the loop's sleeps are
bounded (no timing is asserted: how long the loop may sleep is a pure function of its state)."""
from __future__ import annotations

import json
from pathlib import Path

from bench.impair import load_profile
from bench.impair.gate import EventLog, Gate, OnTime
from bench.impair.loop import MAX_SLEEP_NS, PreciseLoop, now_ns


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


# -- delivery before logging, answer windows, how the loop sleeps --------------------------------
def _link(tmp_path: Path, up_ms: float, down_ms: float):
    prof = tmp_path / "p.yaml"
    prof.write_text(f"name: g\nuplink: {{delay: {up_ms} ms}}\ndownlink: {{delay: {down_ms} ms}}\n")
    return load_profile(str(prof)).link(0)


def _lines(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:         # another reader, as a session's tail is
        return [json.loads(line) for line in fh if line.strip()]


def test_an_undelayed_message_is_delivered_before_its_event_line_and_nothing_waits_unflushed(
        tmp_path: Path) -> None:
    link = _link(tmp_path, 20, 0)
    path = tmp_path / "events.jsonl"
    seen_at_delivery: dict[bytes, int] = {}
    with open(path, "a", encoding="utf-8") as events:
        loop = PreciseLoop(0.0)
        gate = Gate(link, loop, events)

        def deliver(data: bytes) -> None:
            seen_at_delivery[data] = len(_lines(path))

        gate.forward(link.downlink, b"reply", now_ns(), deliver, peer="p")
        # delivered first (no line yet), then logged and flushed before forward returned
        assert seen_at_delivery == {b"reply": 0}
        assert [e["dir"] for e in _lines(path)] == ["down"]
        # a delayed message is logged when read, long before it is delivered
        gate.forward(link.uplink, b"request", now_ns(), deliver,
                     describe=lambda data: {"size": len(data)})
        assert len(_lines(path)) == 2 and _lines(path)[1]["size"] == 7
        _run_for(loop, 0.05)
    assert seen_at_delivery == {b"reply": 0, b"request": 2}


def test_a_message_passed_through_a_transparent_direction_is_counted_and_logged(
        tmp_path: Path) -> None:
    link = _link(tmp_path, 20, 0)
    assert link.downlink.transparent and not link.uplink.transparent
    path = tmp_path / "events.jsonl"
    with open(path, "a", encoding="utf-8") as events:
        loop = PreciseLoop(0.0)
        gate = Gate(link, loop, events, unit="packets")
        t = now_ns()
        gate.passed(link.downlink, b"reply!", t, describe=lambda data: {"size": len(data)})
        assert [(e["dir"], e["delay_ms"], e["lost"], e["t_ns"], e["size"])
                for e in _lines(path)] == [("down", 0.0, False, t, 6)]
        assert gate.stats["packets"] == 1 and gate.stats["bytes"] == 6
        # forward() hands such a direction's message on before anything else, too
        got: list[bytes] = []
        assert gate.forward(link.downlink, b"more", t + 5, got.append, peer="p") == t + 5
        assert got == [b"more"] and _lines(path)[1]["peer"] == "p"
    assert gate.stats["packets"] == 2
    assert gate.on_time.lateness_ns == []          # a pass-through is no timer's lateness


def test_an_answer_window_opens_only_after_a_delivery_whose_answer_comes_undelayed(
        tmp_path: Path) -> None:
    loop = PreciseLoop(0.0, nap_s=50e-6, window_s=1.0)
    link = _link(tmp_path, 20, 0)                   # requests delayed, answers not
    gate = Gate(link, loop)
    gate.forward(link.uplink, b"a", now_ns(), lambda _: None)      # waits 20 ms
    assert loop.sleep_ns(now_ns()) > 50_000
    gate.forward(link.downlink, b"b", now_ns(), lambda _: None)    # at once; its answer (up)
    assert loop.sleep_ns(now_ns()) > 50_000                         # would take 20 ms: no window
    _run_for(loop, 0.03)                            # "a" delivered: its answer comes undelayed
    assert loop.sleep_ns(now_ns()) == 50_000

    loop = PreciseLoop(0.0, nap_s=50e-6, window_s=1.0)
    slow_back = _link(tmp_path, 0, 20)              # answers take 20 ms
    gate = Gate(slow_back, loop)
    gate.forward(slow_back.downlink, b"b", now_ns(), lambda _: None)
    gate.forward(slow_back.uplink, b"c", now_ns(), lambda _: None)
    assert loop.sleep_ns(now_ns()) > 50_000         # its stamp covers the read: no naps


def test_the_loop_naps_only_inside_a_bounded_window_and_idles_without_one() -> None:
    loop = PreciseLoop(0.0, lead_s=200e-6, nap_s=50e-6, window_s=1e-3)
    now = now_ns()
    assert loop.sleep_ns(now) == MAX_SLEEP_NS        # an idle link: one long sleep in select
    loop.expect_soon()
    opened = now_ns()
    assert loop.sleep_ns(opened) == 50_000
    assert loop.sleep_ns(opened + 1_000_000 + 1) == MAX_SLEEP_NS    # the window ends by itself
    off = PreciseLoop(0.0, nap_s=50e-6, window_s=0.0)
    off.expect_soon()
    assert off.sleep_ns(now_ns()) == MAX_SLEEP_NS    # --answer-window 0: never


def test_a_precise_timer_is_approached_with_a_lead_then_naps() -> None:
    loop = PreciseLoop(0.0, lead_s=200e-6, nap_s=50e-6)
    t = now_ns() + 10_000_000
    loop.call_at(t, lambda: None)
    assert loop.sleep_ns(t - 10_000_000) == 10_000_000 - 200_000     # wakes 0.2 ms early
    assert loop.sleep_ns(t - 150_000) == 50_000                       # then naps
    assert loop.sleep_ns(t - 20_000) == 20_000                        # the last one to the time
    assert loop.sleep_ns(t + 5) == 0
    spin = PreciseLoop(0.0015)
    spin.call_at(t, lambda: None)
    assert spin.sleep_ns(t - 1_000_000) == 0          # without real time: spins the last 1.5 ms


def test_the_event_log_thread_keeps_the_order_and_close_writes_everything(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    log = EventLog(open(path, "a", encoding="utf-8"))
    for k in range(5000):
        log.write(f"{k}\n")
    log.flush()                         # returns at once: the thread flushes its batches
    log.close()                         # everything queued is written before the file closes
    assert path.read_text().splitlines() == [str(k) for k in range(5000)]
    assert log.fh.closed
