"""Crash safety: a recorder killed with SIGKILL at several moments leaves a file that reads back,
is reported as truncated, and holds everything up to its last flush (at most ~100 ms old)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Callable

import pytest

from bench.session import SessionReader, session_info
from bench.session.replay import replay_session
from bench.session.schema import T_COMMAND, T_POSE, T_STATUS
from bench.simproc import ChildProcess

REPO = Path(__file__).resolve().parent.parent
#: the flush interval is 100 ms: everything written more than that before the child's last
#: heartbeat must be in the file (plus one 5 ms poll); measured on the child's own time line, so
#: a loaded machine that deschedules the child does not make the check flaky
FLUSH_S = 0.1
#: for the CLI child (no heartbeat): only a sanity bound against the kill time
CLI_STALE_MAX_S = 1.5

# A scenario run in real time on the in-process simulator: commands, status polls, poses.
SCENARIO_CHILD = textwrap.dedent("""
    import sys
    from bench.clock import RealClock
    from bench.observer import Observers, RunObserver
    from bench.runner import run_pose_scenario
    from bench.scenario import load_scenario
    from bench.session import SessionRecorder
    from drivers.sim.arm import ArmParams
    from drivers.sim.inprocess import InProcessArm
    sc = load_scenario("iso9283", cycles=1000)
    clock = RealClock()
    rec = SessionRecorder(sys.argv[1], scenario=sc)
    rec.on_start(clock.now_ns(), {"mode": "wire", "seed": 1, "lab": {"name": "sim"}})

    class Heartbeat(RunObserver):
        # after the recorder got a status: "this time is written" (to the test, via stdout)
        def on_status(self, t_ns, status):
            print(t_ns, flush=True)

    with InProcessArm(ArmParams(seed=1), clock.now) as arm:
        run_pose_scenario(sc, arm, clock, observer=Observers([rec, Heartbeat()]))
""")


def _wait_started(path: Path, proc: subprocess.Popen, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        if path.exists() and path.stat().st_size > 0:
            try:
                if session_info(path)["messages"] >= 1:     # the metadata is flushed at once
                    return
            except Exception:
                pass
        time.sleep(0.01)
    raise AssertionError("recorder did not start")


def _kill_and_check(proc: subprocess.Popen, path: Path, after_s: float,
                    ready: Callable[[], bool] | None = None,
                    beats: list[str] | None = None) -> dict:
    """SIGKILL `proc` once `ready()` is true (the moment is defined by the recorder's progress,
    not by the wall clock: a loaded machine only makes it come later), or after `after_s`."""
    if ready is not None:
        _until(ready, 60.0)
    else:
        time.sleep(after_s)
    t_kill = time.monotonic_ns()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    beats = (beats or []) + (proc.stdout.read().split() if proc.stdout else [])
    info = session_info(path)
    assert info["truncated"] is True, info
    assert info["finished"] is False
    with SessionReader(path) as r:          # every message decodes, in time order per topic
        last = {}
        for m in r.messages():
            assert m.t_ns >= last.get(m.topic, 0)
            last[m.topic] = m.t_ns
    if beats:
        lag_s = (int(beats[-1]) - info["end_ns"]) / 1e9
        assert lag_s <= FLUSH_S + 0.01, f"{lag_s:.3f} s written before the kill but not on disk"
    elif after_s >= 0.15:
        stale_s = (t_kill - info["end_ns"]) / 1e9
        assert stale_s < CLI_STALE_MAX_S, f"last message {stale_s:.3f} s before the kill"
    return info



def _until(cond: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, "the recorder made no progress"
        time.sleep(0.01)


def _heartbeats(proc: subprocess.Popen, n: int, into: list[str]) -> Callable[[], bool]:
    """True once the child has reported `n` statuses written (lines kept in `into`)."""
    def ready() -> bool:
        while len(into) < n:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                raise AssertionError("the recorder ended early")
            into.append(line.strip())
        return True
    return ready


def _poses_on_disk(path: Path, n: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return session_info(path)["topics"][T_POSE] >= n
        except Exception:        # read while it is being written: try again
            return False
    return ready


def _started_then_killed(proc: subprocess.Popen, path: Path, after_s: float = 0.0,
                         ready: Callable[[], bool] | None = None,
                         beats: list[str] | None = None) -> dict:
    """Wait for the recorder `proc` to start writing `path`, SIGKILL it when `ready()` (or
    `after_s` later) and check the file it left (see `_kill_and_check`); the process is reaped
    whatever happens."""
    try:
        _wait_started(path, proc)
        return _kill_and_check(proc, path, after_s, ready, beats)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()

@pytest.mark.parametrize("statuses", [0, 10, 40])
def test_sigkill_during_a_scenario_run(tmp_path: Path, statuses: int) -> None:
    """Killed at once, and after the recorder reported 10 and 40 statuses written (the moments
    used to be 0.17 s and 0.45 s of wall time, which a loaded machine stretched: flaky)."""
    path = tmp_path / "killed.mcap"
    proc = subprocess.Popen([sys.executable, "-c", SCENARIO_CHILD, str(path)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    beats: list[str] = []
    info = _started_then_killed(proc, path, 0.0,
                                _heartbeats(proc, statuses, beats) if statuses else None, beats)
    if statuses:
        # every status the child wrote more than one flush interval before its last heartbeat
        # is on disk (the heartbeats are the child's own times: load cannot make this flaky)
        last = int(beats[-1])
        flushed = sum(1 for b in beats if last - int(b) > (FLUSH_S + 0.01) * 1e9)
        assert len(beats) >= statuses and info["topics"][T_STATUS] >= flushed
        if flushed:            # commands come before the statuses that follow them
            assert info["topics"][T_COMMAND] >= 1
        if statuses >= 40:     # 40 statuses span several flushes, whatever the load
            assert flushed >= 1
        # the cut-off session still replays (up to its last complete chunk) and says so
        c = replay_session(path)
        assert c.error is None and c.commands == info["topics"][T_COMMAND]
        assert any("truncated" in n for n in c.notes)


def test_sigkill_the_record_cli_while_following_a_simulator(tmp_path: Path) -> None:
    """`hil-bench record --follow` against a simulator process; killed twice, at two moments."""
    with ChildProcess.for_robot(REPO / "hardware" / "sim.yaml", 1) as sim:
        host, port = sim.endpoint
        for poses in (5, 40):
            # killed once that many poses are on disk: the file must still hold them all
            path = tmp_path / f"follow-{poses}.mcap"
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench", "record", "--follow", "--rate", "100",
                 "--connect", f"{host}:{port}", "-o", str(path), "-q"],
                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            info = _started_then_killed(proc, path, ready=_poses_on_disk(path, poses))
            assert info["topics"][T_POSE] >= poses


def test_sigterm_finishes_the_follow_recording(tmp_path: Path) -> None:
    """A polite stop (SIGTERM, like Ctrl-C) ends a --follow recording with a finished file."""
    path = tmp_path / "follow.mcap"
    proc = subprocess.Popen([sys.executable, "-m", "bench", "record", "--follow", "--mode",
                             "virtual", "--rate", "50", "-o", str(path), "-q"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_started(path, proc)
        time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    info = session_info(path)
    assert info["truncated"] is False and info["finished"] is True
    assert info["topics"][T_POSE] > 0
