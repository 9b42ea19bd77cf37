"""Simulator processes: `hil-bench sim serve` started as a child, its endpoint read from the one
JSON line it prints when ready, and stopped (SIGTERM, then SIGKILL) on exit, leaving no process or
port behind. Failure mode: DeviceError with the child's stderr when it does not become ready.
"""
from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from drivers.errors import DeviceError


def die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it when the bench dies (even by SIGKILL)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


#: a child gets this long to end after SIGTERM (a simulator or proxy stops in tens of ms), then it
#: is killed: every child is gone within 2 s of the bench's Ctrl-C or SIGTERM
STOP_GRACE_S = 1.5


class ChildProcess:
    """Context manager around one simulator child process."""

    def __init__(self, args: list[str], ready_timeout_s: float = 20.0) -> None:
        self.args = args
        self.ready_timeout_s = ready_timeout_s
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}

    @classmethod
    def for_robot(cls, lab_path: Path, seed: int | None = None,
                  journal: Path | None = None) -> "ChildProcess":
        args = ["sim", "serve", "--lab", str(lab_path), "--device", "robot", "--port", "0"]
        if seed is not None:
            args += ["--seed", str(seed)]
        if journal is not None:
            args += ["--journal", str(journal)]
        return cls(args)

    @classmethod
    def for_modem(cls, lab_path: Path) -> "ChildProcess":
        """The lab's simulated modem (`sim serve --device modem`); its address is `url`."""
        return cls(["sim", "serve", "--lab", str(lab_path), "--device", "modem", "--port", "0"])

    @property
    def url(self) -> str:
        """The address a modem simulator printed: a serial URL (pty path, socket://) or
        host:port for a Modbus one."""
        return str(self.info["url"])

    @property
    def endpoint(self) -> tuple[str, int] | str:
        """``(host, port)`` of a TCP endpoint, or the path of a serial (pty) endpoint."""
        if "path" in self.info:
            return str(self.info["path"])
        return self.info["host"], int(self.info["port"])

    def __enter__(self) -> "ChildProcess":
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # Own session: a Ctrl-C in the terminal reaches only the bench, which must still be able
        # to send the robot a stop through the simulator before stopping it.
        self.proc = subprocess.Popen([sys.executable, "-m", "bench", *self.args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=env, text=True,
                                     start_new_session=True, preexec_fn=die_with_parent)
        try:
            self.info = self._read_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def read_ready(self) -> dict[str, Any]:
        """The next ready line: a process serving several devices (a simulated robot with the
        lab's simulated instrument beside it) prints one per device. DeviceError on timeout."""
        return self._read_ready()

    def _read_ready(self) -> dict[str, Any]:
        assert self.proc and self.proc.stdout
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = self.proc.stdout.readline()
            if not line:
                break
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                continue
            if msg.get("event") == "ready":
                return msg
        err = ""
        if self.proc.poll() is not None and self.proc.stderr:
            tail = self.proc.stderr.read().strip().splitlines()[-1:] or [""]
            err = f": {tail[0]}"
        raise DeviceError(f"simulator ({' '.join(self.args)}) did not become ready within "
                          f"{self.ready_timeout_s:g} s{err}")

    def stop(self) -> None:
        """SIGTERM, wait up to `STOP_GRACE_S`, then SIGKILL. Safe to call twice."""
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
        for stream in (p.stdout, p.stderr):
            if stream:
                stream.close()

    def exit_status(self, wait_s: float = 0.0) -> int | None:
        """The child's exit status if it has ended (within `wait_s`), else None. Negative: the
        signal that killed it (as subprocess reports it)."""
        p = self.proc
        if p is None:
            return None
        try:
            return p.wait(timeout=wait_s) if wait_s > 0 else p.poll()
        except subprocess.TimeoutExpired:
            return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        # A device error while the simulator is gone is the simulator's death, not the link's:
        # say so (its exit status and last stderr line) instead of the driver's socket message.
        died = None
        if isinstance(exc, DeviceError):
            died = self.exit_status(wait_s=0.2)
        self.stop()
        if died is not None:
            raise DeviceError(self._death(died)) from exc

    def _death(self, status: int) -> str:
        how = ""
        if status < 0:
            try:
                how = f", killed by {signal.Signals(-status).name}"
            except ValueError:
                how = f", killed by signal {-status}"
        last = ""
        if self.proc is not None and self.proc.stderr and not self.proc.stderr.closed:
            with contextlib.suppress(OSError, ValueError):
                lines = [ln for ln in self.proc.stderr.read().splitlines() if ln.strip()]
                last = f"; its last words: {lines[-1][:200]}" if lines else ""
        return (f"simulator process exited with status {status}{how} "
                f"(hil-bench {' '.join(self.args[:2])}, pid {self.info.get('pid', '?')}){last}")
