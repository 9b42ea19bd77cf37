"""The recorded delays a replay takes from its own pass over the session (`DelayFeed`) are the
ones a reader of their own would give, in order, per direction: whether the loop has pushed them
already, the feed has to read ahead of the loop, a direction piles up unread, or no loop runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.session import drive as drive_mod
from bench.session import network as net_mod
from bench.session.network import DelayFeed, _delays
from bench.session.reader import SessionReader
from bench.session.replay import replay_session

REPO = Path(__file__).resolve().parent.parent
# a request/reply session: both directions recorded, each call's events around its message
SESSION = REPO / "fixtures" / "sessions" / "screw-guide.mcap"
END = -1.0


def _expected() -> dict[str, list[float | None]]:
    return {d: list(_delays(SESSION, d)) for d in ("up", "down")}


def _take(feed: DelayFeed, direction: str, n: int) -> list[float | None]:
    return [feed.next(direction, END) for _ in range(n)]


def test_without_a_loop_each_direction_reads_its_own() -> None:
    want = _expected()
    assert len(want["up"]) > 100 and len(want["down"]) > 100
    feed = DelayFeed(SESSION)
    up = _take(feed, "up", 10)
    down = _take(feed, "down", len(want["down"]) + 2)
    up += _take(feed, "up", len(want["up"]))
    assert up == want["up"] + [END] * 10
    assert down == want["down"] + [END, END]


def test_the_loop_pass_feeds_both_directions_and_reads_ahead_when_asked() -> None:
    want = _expected()
    feed = DelayFeed(SESSION)
    with SessionReader(SESSION) as r:
        src = drive_mod._Pass(r, [], feed)         # only the feed's events
        # nothing read yet: every delay is read ahead by `pull`, down far behind up
        up = _take(feed, "up", len(want["up"]) // 2)
        down = _take(feed, "down", 5)
        assert len(feed.lanes["down"].held) > 50        # read ahead for up, kept for down
        for _, _, payload in src.it:                # the loop reads the rest
            feed.push(net_mod.orjson.loads(payload))
        src.close(True)
    up += _take(feed, "up", len(want["up"]))
    down += _take(feed, "down", len(want["down"]))
    assert up == want["up"] + [END] * (len(up) - len(want["up"]))
    assert down == want["down"] + [END] * (len(down) - len(want["down"]))


def test_a_direction_that_piles_up_unread_reads_the_rest_itself(
        monkeypatch: pytest.MonkeyPatch) -> None:
    want = _expected()
    monkeypatch.setattr(net_mod, "HELD_MAX", 7)
    feed = DelayFeed(SESSION)
    with SessionReader(SESSION) as r:
        for i, (_, _, payload) in enumerate(r.raw([net_mod.T_NETWORK])):
            feed.push(net_mod.orjson.loads(payload))
            if i == 40:
                first = _take(feed, "up", 3)
    assert feed.lanes["up"].own is not None and len(feed.lanes["down"].held) == 0
    rest = _take(feed, "up", len(want["up"]))
    assert first + rest == want["up"] + [END] * 3
    assert _take(feed, "down", len(want["down"]) + 1) == want["down"] + [END]


def test_a_replay_through_the_feed_is_the_replay_with_delays_read_apart(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole replay of a recorded-delay session through the loop's feed, against the same
    replay with the delays read by readers of their own (no feed given to the loop); the feed
    never needed a reader of its own (one pass over the file)."""
    original_drive = drive_mod.drive

    def no_feed(*args, **kwargs):                   # the loop without the shared pass
        kwargs["feed"] = None
        return original_drive(*args, **kwargs)

    monkeypatch.setattr("bench.session.replay.drive", no_feed)
    apart = replay_session(SESSION)
    monkeypatch.undo()
    own_reads: list[str] = []
    read_own = DelayFeed._read_own

    def counted(feed: DelayFeed, direction: str):
        own_reads.append(direction)
        return read_own(feed, direction)

    monkeypatch.setattr(DelayFeed, "_read_own", counted)
    shared = replay_session(SESSION)
    assert own_reads == []
    strip = {"wall_s", "realtime_factor"}
    a, b = ({k: v for k, v in x.as_dict().items() if k not in strip} for x in (apart, shared))
    assert a == b
    assert a["commands"] == 18 and a["error"] is None and a["link_loss"]["run"]
