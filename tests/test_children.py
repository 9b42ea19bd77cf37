"""Child processes end with their parent: a sweep's pool workers, the simulator and the impairment
proxy are gone within 2 s of Ctrl-C or SIGTERM (and after a SIGKILL of the parent), and a dead
simulator is reported as such, with its exit status.

Children are found the way `ps` finds them, in /proc/<pid>/task/*/children.
"""
from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import session_events

BENCH = [sys.executable, "-m", "bench"]


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for f in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            out |= {int(x) for x in Path(f).read_text().split()}
        except OSError:
            pass
    return out


def _descendants(pid: int) -> set[int]:
    todo, seen = [pid], set()
    while todo:
        for c in _children(todo.pop()):
            if c not in seen:
                seen.add(c)
                todo.append(c)
    return seen


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"              # a zombie has ended (its parent has not reaped it yet)


def _wait_for(cond, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _gone_within(pids: set[int], timeout_s: float) -> float:
    """Seconds until every pid has ended; fails after `timeout_s`."""
    t0 = time.monotonic()
    try:
        _wait_for(lambda: not any(_alive(p) for p in pids), timeout_s, "children to end")
    except AssertionError:
        raise AssertionError(f"still alive after {timeout_s} s: "
                             f"{[_describe(p) for p in pids if _alive(p)]}") from None
    return time.monotonic() - t0


def _describe(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
        return f"{pid} state {stat[0]} ppid {stat[1]}: {cmd}"
    except OSError:
        return f"{pid} (gone)"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sweep_pool_ends_within_2s_of_an_interrupt(sig: signal.Signals) -> None:
    proc = subprocess.Popen([*BENCH, "sweep", "--delay", "0:300:5", "--cycles", "30",
                             "--jobs", "2", "--json"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        workers = _wait_for(lambda: _children(proc.pid) if len(_children(proc.pid)) >= 2
                            else None, 60, "two pool workers")
        time.sleep(0.5)                              # both are inside a point now
        t0 = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
        parent_s = time.monotonic() - t0
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        assert parent_s < 2.0, f"sweep took {parent_s:.1f} s to exit"
        _gone_within(workers, 2.0)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sweep_workers_die_with_a_killed_parent() -> None:
    proc = subprocess.Popen([*BENCH, "sweep", "--delay", "0:300:5", "--cycles", "30",
                             "--jobs", "2", "--json"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        workers = _wait_for(lambda: _children(proc.pid) if len(_children(proc.pid)) >= 2
                            else None, 60, "two pool workers")
    finally:
        proc.kill()
        proc.wait()
    _gone_within(workers, 2.0)


def test_killed_run_leaves_no_child_and_no_tmp_folder(tmp_path: Path) -> None:
    """SIGKILL of a wire-mode run behind the impairment proxy: simulator and proxy die with it
    (PR_SET_PDEATHSIG) and the proxy's scratch folder is inside the run folder, not in /tmp."""
    tmp = tmp_path / "tmp"          # the run's own TMPDIR: other runs on the machine use /tmp
    tmp.mkdir()
    out = tmp_path / "o"
    proc = subprocess.Popen([*BENCH, "run", "--cycles", "30", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TMPDIR": str(tmp)})
    try:
        _wait_for(lambda: "cycle   1/30" in (proc.stderr.readline() or ""), 60, "the run")
        kids = _descendants(proc.pid)
        assert len(kids) >= 2, kids                  # simulator and proxy
    finally:
        proc.kill()
        proc.wait()
    _gone_within(kids, 2.0)
    assert not list(tmp.iterdir())
    assert list(out.glob(".netem-*")), "the proxy's scratch folder was not in the run folder"


def test_dead_simulator_is_reported_with_its_exit_status(tmp_path: Path) -> None:
    """`record --stream` (wire mode) whose simulator is SIGKILLed mid-stream: exit 3 with one
    line naming the simulator's death, and the session shows the run's safe stop (a stop,
    one reconnect, stop_failed: there is nobody left to stop)."""
    out = tmp_path / "s.mcap"
    proc = subprocess.Popen([*BENCH, "record", "--stream", "-o", str(out), "--duration", "60",
                             "--rate", "50", "--network", "ideal"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: "recording stream" in (proc.stderr.readline() or ""), 60,
                  "the stream")
        time.sleep(0.5)
        (sim,) = _children(proc.pid)
        os.kill(sim, signal.SIGKILL)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    lines = [ln for ln in err.splitlines() if ln.startswith("hil-bench: error:")]
    assert proc.returncode == 3, err
    assert "Traceback" not in err
    assert len(lines) == 1 and "simulator process exited with status -9, killed by SIGKILL" \
        in lines[0], err
    events, commands, _ = session_events(out)
    kinds = [e["kind"] for e in events]
    assert len(commands) >= 5
    assert "stop" in kinds and "reconnect" in kinds and "stop_failed" in kinds, kinds
    assert kinds[-1] == "end"


def test_sigterm_ends_modem_watch_as_ctrl_c_does() -> None:
    """`modem watch` (which never ends by itself) on SIGTERM: exit 130 (it was 143, killed by
    the signal), one line, and its modem simulator child gone."""
    proc = subprocess.Popen([*BENCH, "modem", "watch", "--lab", "sim5g", "--interval", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: "NR5G" in (proc.stdout.readline() or "") or None, 60, "a sample")
        kids = _descendants(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "hil-bench: interrupted" and "Traceback" not in err
    _gone_within(kids, 2.0)
