"""Wire mode: an impairment proxy (TCP, UDP, or serial for a device path) started as a child process
between a driver and its device, and its per-message events forwarded to the run's observer.

The proxy appends one JSON line per chunk to an events file; `ForwardEvents` wraps the robot and,
after each call, hands the new lines to `observer.on_event(t_ns, "network", detail)` on the
runner's thread (t_ns is CLOCK_MONOTONIC, the RealClock's time base, in every process).
Failure mode: DeviceError when the proxy does not start (its last stderr line is included).
"""
from __future__ import annotations

import contextlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from bench.impair.profile import NetworkProfile
from bench.observer import RunObserver
from bench.outputs import scratch_dir
from bench.simproc import ChildProcess
from drivers.endpoint import Endpoint, TcpEndpoint, UdpEndpoint
from drivers.pose import Pose
from drivers.robot import ArmStatus, RobotArm


class EventTail:
    """Reads the lines appended to a proxy's events file since the last call."""

    def __init__(self, path: Path, observer: RunObserver) -> None:
        self.path = path
        self.observer = observer
        self._pos = 0
        self._partial = ""

    def drain(self) -> int:
        """Forward new complete lines to the observer; returns how many were forwarded."""
        try:
            with open(self.path, encoding="utf-8") as fh:
                fh.seek(self._pos)
                text = fh.read()
                self._pos = fh.tell()
        except FileNotFoundError:
            return 0
        text = self._partial + text
        lines = text.split("\n")
        self._partial = lines.pop()
        n = 0
        for line in lines:
            if not line:
                continue
            ev = json.loads(line)
            t_ns = ev.pop("t_ns")
            ev.pop("kind", None)
            self.observer.on_event(t_ns, "network", ev)
            n += 1
        return n


def _scratch() -> tempfile.TemporaryDirectory:
    """A temporary folder for a proxy's event file: inside the run's folder when there is one
    (a SIGKILLed run leaves it there, with its results, not in /tmp), else in /tmp."""
    where = scratch_dir()
    return tempfile.TemporaryDirectory(prefix=".netem-" if where else "hil-netem-", dir=where)


@dataclass
class Proxy:
    """A running proxy: where to connect, its ready line, and how to collect its events."""

    endpoint: tuple[str, int] | str
    info: dict
    drain: Callable[[], int]


@contextlib.contextmanager
def _proxy(args: list[str], profile: NetworkProfile, seed: int, observer: RunObserver | None,
           endpoint: Callable[[ChildProcess], tuple[str, int] | str]) -> Iterator[Proxy]:
    """Start the proxy command `args` (`hil-bench netem ...`) under `profile` with its events file
    in `_scratch()`, yield where the client connects (`endpoint` of the process), stop it on exit
    after forwarding its last events."""
    with _scratch() as tmp:
        events = Path(tmp) / "events.jsonl"
        full = [*args, "--profile", profile.source, "--seed", str(seed), "--events", str(events)]
        with ChildProcess(full) as proc:
            tail = EventTail(events, observer or RunObserver())
            try:
                yield Proxy(endpoint(proc), proc.info, tail.drain)
            finally:
                tail.drain()


@contextlib.contextmanager
def tcp_proxy(upstream: tuple[str, int], profile: NetworkProfile, seed: int,
              observer: RunObserver | None = None) -> Iterator[Proxy]:
    """Start `hil-bench netem proxy` to `upstream` under `profile`; stop it on exit."""
    with _proxy(["netem", "proxy", "--listen", "127.0.0.1:0",
                 "--upstream", f"{upstream[0]}:{upstream[1]}"], profile, seed, observer,
                lambda proc: proc.endpoint) as px:
        yield px


@contextlib.contextmanager
def udp_proxy(upstream: tuple[str, int], profile: NetworkProfile, seed: int,
              observer: RunObserver | None = None) -> Iterator[Proxy]:
    """Start `hil-bench netem udp` to `upstream` under `profile`; peers send to `endpoint`."""
    with _proxy(["netem", "udp", "--listen", "127.0.0.1:0",
                 "--upstream", f"{upstream[0]}:{upstream[1]}"], profile, seed, observer,
                lambda proc: proc.endpoint) as px:
        yield px


@contextlib.contextmanager
def serial_proxy(device: str, profile: NetworkProfile, seed: int, baud: int, framing: str,
                 observer: RunObserver | None = None) -> Iterator[Proxy]:
    """Start `hil-bench netem serial` between a new pty (the driver's side) and `device`."""
    with _proxy(["netem", "serial", "--a", "pty", "--b", device, "--baud", str(baud),
                 "--framing", framing], profile, seed, observer,
                lambda proc: str(proc.info["a"])) as px:
        yield px


def tcp_link(spec: object) -> bool:
    """Whether a robot's link is a TCP connection (Modbus TCP, RTU/ASCII frames over TCP, a
    serial device server): then a lost segment is retransmitted, not lost (`bench.impair.tcp`).
    Serial lines are not. `spec` is a robot spec with a typed `endpoint()`."""
    endpoint = getattr(spec, "endpoint", None)
    return callable(endpoint) and isinstance(endpoint(), TcpEndpoint)


@contextlib.contextmanager
def impaired_endpoint(endpoint: Endpoint | UdpEndpoint, profile: NetworkProfile, seed: int,
                      observer: RunObserver | None = None) -> Iterator[Proxy]:
    """The right proxy for a device's link: the TCP proxy for a TCP endpoint, the UDP proxy for a
    UDP one, the frame-aware serial proxy (the endpoint's baud rate and framing) for a serial
    line."""
    if isinstance(endpoint, TcpEndpoint):
        with tcp_proxy(endpoint.address, profile, seed, observer) as px:
            yield px
        return
    if isinstance(endpoint, UdpEndpoint):
        with udp_proxy(endpoint.address, profile, seed, observer) as px:
            yield px
        return
    with serial_proxy(endpoint.port, profile, seed, endpoint.baudrate, endpoint.framing,
                      observer) as px:
        yield px


class ForwardEvents(RobotArm):
    """Delegates to `inner`; after every call forwards the proxy's new events."""

    def __init__(self, inner: RobotArm, drain: Callable[[], int], via: str) -> None:
        self.inner = inner
        self.drain = drain
        self.name = f"{inner.name} via {via}"

    def _call(self, fn: Callable, *args):
        try:
            return fn(*args)
        finally:
            self.drain()

    def connect(self) -> None:
        self._call(self.inner.connect)

    def close(self) -> None:
        self._call(self.inner.close)

    def read_pose(self) -> Pose:
        return self._call(self.inner.read_pose)

    def move_to(self, target: Pose, speed_mm_s: float) -> int:
        return self._call(self.inner.move_to, target, speed_mm_s)

    def read_status(self) -> ArmStatus:
        return self._call(self.inner.read_status)

    def stop(self) -> None:
        self._call(self.inner.stop)

    def reset(self) -> None:
        self._call(self.inner.reset)
