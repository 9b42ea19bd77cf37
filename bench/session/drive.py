"""The replay loop: re-issue a session's calls on a `RobotArm` with the recorded timing.

Two ways to walk a session, one executor (`_Player`):

- **call order** (request/reply sessions with recorded network events): the uplink events
  (attempt 1) give every call the original made, in order, with its send time; each call is
  paired with its message (the k-th ``move_to`` with the k-th command, the k-th ``read_pose``
  with the k-th pose, the k-th ``read_status`` with the k-th status) through a small look-ahead,
  and re-issued at its send time. The replay makes the same calls in the same order, so under
  the recorded delays it reproduces the original exactly, whichever order the runner wrote its
  messages in.
- **message order** (no network events, or a pipelined stream): commands and pose reads at their
  recorded times; status polls are not repeated one by one, the replay polls its own arm where
  the original waited for an arrival.

Where the original saw an arrival and the replay's arm has not arrived yet, the replay polls
until it does (at the scenario's poll interval, within its move timeout) and shifts the rest of
the schedule by the difference. Times in ns on the run's clock. Failure modes: the arm's typed
errors propagate to the caller (`replay_session` records them in the comparison).
"""
from __future__ import annotations

import contextlib
from collections import deque
from pathlib import Path
from typing import Any

import orjson

from bench.arrival import WATCHDOG_FAULT, Arrival, ProtectiveStop, arrived
from bench.clock import Clock
from bench.observer import RunObserver
from bench.scenario import Scenario
from bench.session.compare import Side
from bench.session.network import HELD_MAX, DelayFeed
from bench.session.reader import SessionReader
from bench.session.schema import (T_COMMAND, T_EVENT, T_NETWORK, T_POSE, T_STATUS,
                                  pose_from_fields)
from drivers.errors import BenchError
from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm

_TOPIC_OF_CALL = {"move_to": T_COMMAND, "read_pose": T_POSE, "read_status": T_STATUS}


class _Player:
    """Executes one original call at a time on the replay arm and keeps both sides' records."""

    def __init__(self, arm: RobotArm, clock: Clock, obs: RunObserver, scenario: Scenario | None,
                 start_ns: int, speed: float, streamed: bool = True) -> None:
        self.arm, self.clock, self.obs = arm, clock, obs
        # a bare RunObserver hears nothing: skip its calls (two per setpoint on a long stream)
        self._tell = any(getattr(type(obs), m) is not getattr(RunObserver, m)
                         for m in ("on_command", "on_pose", "on_status"))
        self.poll_s = scenario.poll_s if scenario else 0.005
        self.timeout_s = scenario.move_timeout_s if scenario else 10.0
        self.orig, self.new = Side(), Side()
        band = scenario.tracking_band_mm if scenario else 5.0
        self.orig.tracking.band_mm = self.new.tracking.band_mm = band
        self.orig.tracks = self.new.tracks = streamed
        # only the latest command's arrival matters (a later command supersedes the earlier
        # ones), so one pair of sequence numbers is kept, not a map that grows with the stream
        self.orig_seq = -1                     # the original's latest command
        self.new_seq = -1                      # the replay's latest command
        self.r0 = clock.now_ns()
        self.start_ns = start_ns
        self.inv = 1.0 / speed
        self.shift = 0
        self.commands = 0
        self.last_speed = 100.0

    def wait_until(self, t_ns: int) -> None:
        """Sleep until original time `t_ns` on the replay's (shifted) schedule."""
        wait = self.r0 + self.shift + int((t_ns - self.start_ns) * self.inv) - self.clock.now_ns()
        if wait > 0:
            self.clock.sleep(wait / 1e9)

    def command(self, t: int, d: dict[str, Any]) -> None:
        """Re-issue a command the original sent at `t` (times to arrive count from the send)."""
        f = d["target"]                        # pose_from_fields, inlined (once a setpoint)
        target = Pose(f["x_mm"], f["y_mm"], f["z_mm"], f["a_deg"], f["b_deg"], f["c_deg"])
        label, v = d["label"], d["speed_mm_s"]
        sent = self.clock.now_ns()
        seq = self.arm.move_to(target, v)
        if self._tell:
            self.obs.on_command(sent, seq, label, target, v)
        self.orig_seq, self.new_seq = d["seq"], seq
        self.last_speed = v
        self.orig.command(t, label, target)
        self.new.command(sent, label, target)
        self.commands += 1

    def pose(self, t: int, d: dict[str, Any]) -> None:
        label = d["label"]
        if label:
            self.orig.pose(t, pose_from_fields(d), label)
        else:
            self.orig.track(d["x_mm"], d["y_mm"], d["z_mm"], t)
        p = self.arm.read_pose()
        now = self.clock.now_ns()
        if self._tell:
            self.obs.on_pose(now, p, label)
        self.new.pose(now, p, label)

    def read_status(self) -> ArmStatus:
        st = self.arm.read_status()
        now = self.clock.now_ns()
        if self._tell:
            self.obs.on_status(now, st)
        if arrived(st, self.new_seq):
            self.new.arrived(now)
        return st

    def status(self, t: int, d: dict[str, Any], read: bool) -> None:
        """An original status read (`read`: repeat it on the replay arm first). On the
        original's arrival, wait for the replay's own if it has not been seen yet."""
        if read:
            self.read_status()
        if d["state"] != "arrived" or d["seq"] != self.orig_seq:
            return
        self.orig.arrived(t)
        if not self.new.t_arrived_ns:
            self._gate(t)

    def _gate(self, t_orig: int) -> None:
        rule = Arrival(self.clock, self.new_seq, self.new.last_label, self.timeout_s,
                       self.arm.name)
        resumes = 0
        while True:
            try:
                st = self.read_status()
                if self.new.t_arrived_ns or rule.judge(st):
                    break
            except ProtectiveStop as stop:
                resumes = self._resume(stop, resumes)
                rule.rearm(self.new_seq)
                continue
            rule.check_deadline()
            self.clock.sleep(self.poll_s)
        # the operator went on after the arrival: so does the replay, from its own arrival
        self.shift = self.new.t_arrived_ns - self.r0 - int((t_orig - self.start_ns) * self.inv)

    def _resume(self, stop: ProtectiveStop, resumes: int) -> int:
        """A protective stop while waiting for an arrival: the ride-through policy (reset and
        re-send the last target, as the run's control modes do) or the error."""
        policy = getattr(self.arm, "policy", None)
        trouble = getattr(self.arm, "trouble_since", None)
        caused = trouble is not None and (stop.status.fault_code == WATCHDOG_FAULT
                                          or trouble(self.new.t_command_ns / 1e9))
        action = policy.after_stop if policy is not None and caused and \
            resumes < policy.max_resumes and self.new.last_target is not None else "stop"
        self.obs.on_event(self.clock.now_ns(), "protective_stop",
                          {"label": self.new.last_label, "fault_code": stop.status.fault_code,
                           "action": "resume" if action == "skip" else action})
        if action == "stop":
            raise stop
        self.arm.reset()
        self.obs.on_event(self.clock.now_ns(), "reset", {})
        target = self.new.last_target
        assert target is not None
        self.new_seq = self.arm.move_to(target, self.last_speed)
        self.obs.on_event(self.clock.now_ns(), "resume", {"label": self.new.last_label,
                                                          "attempt": resumes + 1})
        return resumes + 1

    def event(self, d: dict[str, Any]) -> None:
        kind = d.get("kind")
        if kind == "stop":
            self.arm.stop()
            self.obs.on_event(self.clock.now_ns(), "stop", {"reason": "replayed stop"})
        elif kind == "error":
            self.orig.error = str((d.get("detail") or {}).get("message", "error"))


class _Pass:
    """One pass over a session's messages of `topics`, shared with a `DelayFeed`: the loop hands
    the network events it reads to the feed; when the feed needs a delay the loop has not
    reached yet, `pull` reads ahead, gives the feed its events and keeps the loop's messages in
    `held`, in file order (network events too when the loop reads them, `keep_network`, with
    their decoded message: the feed has them already)."""

    def __init__(self, reader: SessionReader, topics: list[str], feed: DelayFeed | None,
                 keep_network: bool = False) -> None:
        self.feed, self.keep_network = feed, keep_network
        if feed is not None and T_NETWORK not in topics:
            topics = [*topics, T_NETWORK]
        self.it = reader.raw(topics)
        self.held: deque[tuple[Any, ...]] = deque()
        if feed is not None:
            feed.pull = self.pull

    def pull(self) -> bool | None:
        """Read one message ahead for the feed: True, False at the end, None when too many are
        held already (the feed then reads that direction by itself)."""
        if len(self.held) >= HELD_MAX:
            return None
        item = next(self.it, None)
        if item is None:
            return False
        if item[0] == T_NETWORK:
            d = orjson.loads(item[2])
            self.feed.push(d)                   # type: ignore[union-attr]
            if self.keep_network:
                self.held.append((*item, d))
        else:
            self.held.append(item)
        return True

    def close(self, ended: bool) -> None:
        """The loop is done (`ended`: it read the whole file); the feed reads for itself."""
        if self.feed is not None:
            self.feed.pull = None
            self.feed.ended = self.feed.ended or ended


def _by_messages(reader: SessionReader, p: _Player, feed: DelayFeed | None) -> None:
    loads, command, pose = orjson.loads, p.command, p.pose
    push = feed.push if feed is not None else None
    # `wait_until` inlined (the same arithmetic): this loop runs twice per setpoint of a stream
    now_ns, sleep, r0, start, inv = p.clock.now_ns, p.clock.sleep, p.r0, p.start_ns, p.inv
    src = _Pass(reader, [T_COMMAND, T_POSE, T_STATUS, T_EVENT], feed)
    it, held = src.it, src.held
    ended = False
    try:
        while True:
            item = held.popleft() if held else next(it, None)
            if item is None:
                ended = True
                break
            topic, t, payload = item
            if topic == T_NETWORK:
                push(loads(payload))                 # type: ignore[misc]
                continue
            if topic == T_STATUS:
                # only arrivals matter: the original's polls of a moving arm are not repeated
                # one by one, the replay polls its own arm where the original waited (`_gate`)
                if b'"arrived"' in payload:
                    p.status(t, loads(payload), read=False)
                continue
            wait = r0 + p.shift + int((t - start) * inv) - now_ns()
            if wait > 0:
                sleep(wait / 1e9)
            if topic == T_COMMAND:
                command(t, loads(payload))
            elif topic == T_POSE:
                pose(t, loads(payload))
            else:
                p.event(loads(payload))
    finally:
        src.close(ended)


def _by_calls(reader: SessionReader, p: _Player, feed: DelayFeed | None) -> None:
    calls: deque[tuple[str, int]] = deque()
    pending: dict[str, deque[tuple[int, dict[str, Any]]]] = {
        T_COMMAND: deque(), T_POSE: deque(), T_STATUS: deque()}
    loads = orjson.loads
    src = _Pass(reader, [T_COMMAND, T_POSE, T_STATUS, T_EVENT, T_NETWORK], feed,
                keep_network=True)
    it, held = src.it, src.held
    ended = False
    try:
        while True:
            item = held.popleft() if held else next(it, None)
            if item is None:
                ended = True
                break
            topic, t, payload = item[0], item[1], item[2]
            if len(item) == 4:                  # a network event `pull` gave the feed already
                d = item[3]
            else:
                d = loads(payload)
                if topic == T_NETWORK and feed is not None:
                    feed.push(d)
            if topic == T_NETWORK:
                call = d.get("call")
                if call in _TOPIC_OF_CALL and d.get("dir") == "up" and d.get("attempt", 1) == 1:
                    calls.append((call, t))
            elif topic == T_EVENT:
                p.event(d)
                continue
            else:
                pending[topic].append((t, d))
            # run every call whose message has been read (messages follow or precede their call)
            while calls and pending[_TOPIC_OF_CALL[calls[0][0]]]:
                call, t_send = calls.popleft()
                t_msg, msg = pending[_TOPIC_OF_CALL[call]].popleft()
                p.wait_until(min(t_send, t_msg))
                if call == "move_to":
                    p.command(min(t_send, t_msg), msg)
                elif call == "read_pose":
                    p.pose(t_msg, msg)
                else:
                    p.status(t_msg, msg, read=True)
    finally:
        src.close(ended)


def drive(path: str | Path, arm: RobotArm, clock: Clock, obs: RunObserver, *,
          scenario: Scenario | None, start_ns: int, speed: float = 1.0,
          send_times: bool = True, feed: DelayFeed | None = None,
          streamed: bool = True) -> tuple[Side, Side, int]:
    """Replay the session at `path` on `arm`; returns (original, replay, commands issued).

    `send_times`: walk the session in call order when it has network events (request/reply
    sessions); False for pipelined streams. `streamed`: the session streams setpoints, so its
    unlabelled pose reads are tracking samples (False: a target-mode session, whose pose reads
    are polls while waiting for an arrival, has no tracking figures). Streams the file once:
    memory stays flat apart from the labelled target visits (and `feed`, the link's recorded
    delays, is given them from the same pass). A device error of the replay arm ends the
    replay: it is told to `obs`, the arm gets a stop, and the replay side carries the error.
    """
    p = _Player(arm, clock, obs, scenario, start_ns, speed, streamed)
    with SessionReader(path) as reader:
        # call order needs per-call events (the message-level wrapper's); a wire run's proxy
        # records chunks without calls, and its session is walked in message order
        first = next(iter(reader.raw([T_NETWORK])), None)
        by_calls = send_times and first is not None and b'"call"' in first[2]
        try:
            (_by_calls if by_calls else _by_messages)(reader, p, feed)
        except BenchError as exc:
            p.new.error = f"{type(exc).__name__}: {exc}"
            obs.on_event(clock.now_ns(), "error", {"message": str(exc)})
            with contextlib.suppress(BenchError):
                arm.stop()
        p.orig.truncated = reader.truncated
    return p.orig, p.new, p.commands
