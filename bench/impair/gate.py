"""What every message-forwarding impairment path does with one message, in one place: ask the
engine (`link.py`) for its fate, log the fate as one JSON line, count it, and schedule its
delivery on the precise loop (`loop.py`). Used by the UDP proxy and the namespace forwarder.

A message read at monotonic time `t_ns` gets ``direction.send((t_ns - t0_ns) / 1e9, len)``; when
not lost it is delivered at ``t0_ns + t_arrive_s`` (a second copy at the same moment when the
engine duplicates it, as netem does; one bit flipped when it corrupts it). Event line, e.g.::

    {"t_ns": 123, "kind": "network", "dir": "up", "lost": false, "delay_ms": 20.0, "bytes": 12,
     "peer": "127.0.0.1:40000"}

`t_ns` is CLOCK_MONOTONIC (the bench's RealClock in every process); extra fields come from the
caller (`peer` for the UDP proxy, `proto`/`src`/`dst` for IP packets). Failure modes: none of its
own; a `deliver` callback must not raise (callers catch their socket errors).

Wake-up compensation: a loop wakes some microseconds after the deadline it asked for (timer
slack, scheduler, Python; 5-30 us after the loop's naps, tens more after a long sleep). The gate
learns the median of that lateness (it moves its estimate by 2 us towards each observed lateness'
sign, bounded by 0.1 ms: that bounds how early a delivery can be after a burst of late ones) and
sets its timers that much early, so the median delivery lands on the requested time instead of
after it (`OnTime`, also used by the TCP proxy). A message with no delay left is delivered at once, from the read
that brought it, unless something else is due first: no extra trip through the loop, and its
event line comes after it. Event lines go to the file through `EventLog`, a thread of its own,
so that a slow disk never stalls the loop.

Answers: after a delivery, when the other direction has recently carried messages with less
than SHORT_DELAY_NS of delay (e.g. an undelayed downlink carrying replies), the gate tells the
loop an answer is probably coming (`PreciseLoop.expect_soon`): the loop then naps instead of
sleeping, so the answer is read by an awake CPU. A longer delay needs no such help: a message's
time is its kernel stamp, and its timer is set from that however late the read.
"""
from __future__ import annotations

import functools
import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TextIO, cast

from bench.impair.link import Direction, Fate, ImpairedLink
from bench.impair.loop import PreciseLoop, now_ns
from bench.impair.profile import NetworkProfile

#: the wake-up lateness compensation: step per delivery, upper bound, and how far ahead a timer
#: must have been set to count (a message due now says nothing about wake-up latency; from 0.3 ms
#: on, a real-time loop wakes early and naps to the time, so short timers teach too: the 1 ms
#: delays of a link learn their own offset)
EARLY_STEP_NS = 2_000
EARLY_MAX_NS = 100_000
TRACK_AHEAD_NS = 300_000
LATENESS_KEEP = 1_000_000
#: a direction whose messages take less than this answers "soon": after a delivery the other way
#: the loop keeps its wake-ups short for a while (`PreciseLoop.expect_soon`), for as long as it
#: carried something in the last ANSWER_MEMORY_NS
SHORT_DELAY_NS = 500_000
ANSWER_MEMORY_NS = 2_000_000_000


class EventLog:
    """An event file written by a thread of its own, so that the disk never stalls the loop:
    a write and flush of one line took 57 us at the median here but 0.5-2.7 ms sixteen times in
    25 s (ext4 on a virtual disk), and the loop is single-threaded: every delivery due meanwhile
    would wait. `write` queues the line (the loop's cost: an append and a wake-up); the thread
    writes and flushes what is queued, in order, holding the GIL only to hand it to the file;
    `close` writes everything still queued, then closes the file (a stopped proxy loses no line;
    SIGKILL loses at most what was queued, normally microseconds' worth). It inherits the
    creating thread's real-time priority, so it never holds the GIL while preempted by an
    ordinary process."""

    def __init__(self, fh: TextIO) -> None:
        self.fh = fh
        self._lines: deque[str] = deque()
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="event-log", daemon=True)
        self._thread.start()

    def write(self, line: str) -> int:
        self._lines.append(line)
        self._wake.set()
        return len(line)

    def flush(self) -> None:
        """Nothing to do here: the thread flushes every batch it writes."""

    def _run(self) -> None:
        lines = self._lines
        while True:
            self._wake.wait()
            self._wake.clear()
            while lines:
                batch = []
                while lines:
                    batch.append(lines.popleft())
                self.fh.write("".join(batch))
                self.fh.flush()
            if self._closing and not lines:
                return

    def close(self) -> None:
        """Write what is queued, stop the thread, close the file."""
        self._closing = True
        self._wake.set()
        self._thread.join()
        self.fh.close()


def background_log(fh: TextIO) -> TextIO:
    """`fh` behind an `EventLog` (write, flush, close as a text file's)."""
    return cast(TextIO, EventLog(fh))


def answer_due(seen: tuple[int, int] | None, now: int) -> bool:
    """Whether a direction that last carried a message at `seen` = (monotonic ns, its delay ns)
    answers soon and where a late read would show: within the last ANSWER_MEMORY_NS, with under
    SHORT_DELAY_NS of delay (a longer delay hides the read's wake-up: a message's time is its
    kernel stamp, and its timer is set from that)."""
    return seen is not None and seen[1] < SHORT_DELAY_NS and now - seen[0] < ANSWER_MEMORY_NS


def quantile_ms(sorted_ns: list[int], q: float) -> float:
    """The `q` quantile (0-1, nearest rank) of non-empty ascending ns values, in ms to 1 us."""
    return round(sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1e6, 3)


class OnTime:
    """Runs callbacks at their due times on `loop`, set early by the learnt median wake-up
    lateness (module docstring), and keeps how late each one ran. Shared by the gate and the
    TCP proxy."""

    def __init__(self, loop: PreciseLoop) -> None:
        self.loop = loop
        #: how early timers are set so that the median delivery is on time (ns, learnt)
        self.early_ns = 0
        #: delivery time - due time of each message delivered (ns; the first LATENESS_KEEP)
        self.lateness_ns: list[int] = []

    def at(self, release: int, run: Callable[[], None], not_before: int = 0) -> int:
        """Call `run` at monotonic `release` ns: at once when that time has come and nothing
        is due before it (an undelayed message takes no trip through the loop). Returns the
        wake-up time set; a byte stream passes its previous one as `not_before`, so that a
        change of the early-wake estimate never lets a chunk overtake the one before it."""
        wake = release - self.early_ns
        if wake < not_before:
            wake = not_before
        now = now_ns()
        if wake <= now < release:
            wake = release      # due sooner than the early-wake margin: wait, never run early
        if self.loop.due_now(wake, now):             # the common undelayed case, kept cheap
            run()
            self.ran(now - release)
            return wake
        track = wake - now > TRACK_AHEAD_NS     # only timers that really waited teach

        def fire() -> None:
            late = now_ns() - release
            if len(self.lateness_ns) < LATENESS_KEEP:
                self.lateness_ns.append(late)
            if track:       # follow the median wake-up lateness (sign steps: a median tracker)
                step = EARLY_STEP_NS if late > 0 else -EARLY_STEP_NS
                self.early_ns = min(max(self.early_ns + step, 0), EARLY_MAX_NS)
            run()
        self.loop.call_at(wake, fire)
        return wake

    def ran(self, late_ns: int) -> None:
        """Keep how late (ns) a message due at once was run (by a caller that ran it itself)."""
        if len(self.lateness_ns) < LATENESS_KEEP:
            self.lateness_ns.append(late_ns)

    def lateness(self) -> dict[str, float]:
        """How late deliveries were against their due times, in ms (median, p99, max, min;
        negative: early), and the learnt early-wake margin (ms), for the stopped line: the
        engine's own precision on exactly this traffic."""
        if not self.lateness_ns:
            return {}
        v = sorted(self.lateness_ns)
        return {"late_ms_median": quantile_ms(v, 0.5), "late_ms_p99": quantile_ms(v, 0.99),
                "late_ms_max": round(v[-1] / 1e6, 3), "late_ms_min": round(v[0] / 1e6, 3),
                "early_ms": round(self.early_ns / 1e6, 3)}


class Gate:
    """Applies one link to messages and delivers them on time. `unit` names the stats counter."""

    def __init__(self, link: ImpairedLink, loop: PreciseLoop, events: TextIO | None = None,
                 unit: str = "messages", datagrams: bool = True,
                 t0_ns: int | None = None) -> None:
        self.link = link
        self.loop = loop
        self.events = events
        self.unit = unit
        self.t0_ns = now_ns() if t0_ns is None else t0_ns
        # datagrams and IP packets may overtake each other (jitter, reorder), like netem's tfifo;
        # byte streams may not (they keep the engine's default order)
        self.ordered = not datagrams
        self.on_time = OnTime(loop)
        self.stats: dict[str, float] = {unit: 0, "lost": 0, "bytes": 0, "duplicated": 0,
                                      "corrupted": 0, "reordered": 0}
        # per direction: (when it last carried a message, that message's delay), monotonic ns;
        # and the other direction, which carries the answers to what this one delivers
        self._recent: dict[int, tuple[int, int]] = {}
        self._other = {id(link.uplink): link.downlink, id(link.downlink): link.uplink}

    def forward(self, direction: Direction, data: bytes, t_ns: int,
                deliver: Callable[[bytes], None],
                describe: Callable[[bytes], dict[str, Any]] | None = None,
                **fields: Any) -> int | None:
        """Impair `data` read at `t_ns`; returns its delivery time (monotonic ns), None if lost.

        A message due at once is delivered first, before any bookkeeping, and its event line
        is written after it (the log's cost is not added to its delay); `describe(data)` adds
        fields to the line, computed only when there is an event log. `events.flush()` follows
        every line (with an `EventLog`, the thread writes and flushes). A `transparent`
        direction's message is handed on before its fate is even drawn (`passed`)."""
        if direction.transparent:
            deliver(data)
            self.passed(direction, data, t_ns, describe, **fields)
            return t_ns
        fate = direction.send((t_ns - self.t0_ns) / 1e9, len(data), self.ordered)
        release = None
        if not fate.lost:
            release = self.t0_ns + int(round(fate.t_arrive_s * 1e9))
            on_time = self.on_time
            now = now_ns()
            if (release <= now and fate.corrupt_bit is None and not fate.duplicate
                    and self.loop.due_now(release - on_time.early_ns, now)):
                deliver(data)               # due at once: the common undelayed case
                on_time.ran(now - release)
                self._delivered(direction)
            else:
                data = self._impair(data, fate)
                on_time.at(release, functools.partial(
                    self._deliver, direction, data, 2 if fate.duplicate else 1, deliver))
            self._recent[id(direction)] = (t_ns, release - t_ns)
        self._account(data, t_ns, fate, describe, fields)
        return release

    def passed(self, direction: Direction, data: bytes, t_ns: int,
               describe: Callable[[bytes], dict[str, Any]] | None = None,
               **fields: Any) -> None:
        """Account for `data`, entered at `t_ns` and already handed on as it was read: the way
        through a `transparent` direction, where nothing can befall a message and so its
        delivery need not wait for the engine (stats, event line and answer windows as
        `forward` keeps them; its fate says delay 0). `forward` does both for such a direction;
        a caller that can hand a message on before it knows its entry time (the namespace
        forwarder: the tap's stamp comes after) calls this itself."""
        fate = direction.send((t_ns - self.t0_ns) / 1e9, len(data), self.ordered)
        self._recent[id(direction)] = (t_ns, 0)
        self._delivered(direction)
        self._account(data, t_ns, fate, describe, fields)

    def _account(self, data: bytes, t_ns: int, fate: Fate,
                 describe: Callable[[bytes], dict[str, Any]] | None,
                 fields: dict[str, Any]) -> None:
        st = self.stats
        st[self.unit] += 1
        st["bytes"] += len(data)
        if fate.lost:
            st["lost"] += 1
        if fate.reordered:
            st["reordered"] += 1
        if self.events is not None:
            ev = {"t_ns": t_ns, "kind": "network", **fate.as_event(), "bytes": len(data),
                  **fields, **(describe(data) if describe is not None else {})}
            self.events.write(json.dumps(ev) + "\n")
            self.events.flush()

    def _impair(self, data: bytes, fate: Fate) -> bytes:
        if fate.duplicate:
            self.stats["duplicated"] += 1
        if fate.corrupt_bit is None:
            return data
        buf = bytearray(data)
        buf[fate.corrupt_bit // 8] ^= 1 << (fate.corrupt_bit % 8)
        self.stats["corrupted"] += 1
        return bytes(buf)

    def _deliver(self, direction: Direction, data: bytes, copies: int,
                 deliver: Callable[[bytes], None]) -> None:
        deliver(data)
        if copies > 1:          # netem's duplicate: a second copy at the same moment
            deliver(data)
        self._delivered(direction)

    def _delivered(self, direction: Direction) -> None:
        if self.answers_soon(direction):
            self.loop.expect_soon()

    def answers_soon(self, direction: Direction) -> bool:
        """Whether an answer to what `direction` just delivered is expected soon where a late
        read would show (`answer_due`, on the other direction)."""
        return answer_due(self._recent.get(id(self._other[id(direction)])), now_ns())

    def lateness(self) -> dict[str, float]:
        """How late deliveries were against their due times (`OnTime.lateness`)."""
        return self.on_time.lateness()


def directional_link(uplink: NetworkProfile, downlink: NetworkProfile, seed: int) -> ImpairedLink:
    """A link whose uplink follows `uplink`'s profile and whose downlink follows `downlink`'s
    (each with its own outages, trace and seeded randomness); one profile: its own link."""
    if uplink is downlink:
        return uplink.link(seed)
    up, down = uplink.link(seed), downlink.link(seed + 1)
    return ImpairedLink(up.uplink, down.downlink, up.outages)
