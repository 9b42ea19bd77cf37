"""Black-box impairment: run an unmodified program in its own network namespace whose only way
out is a TUN device that the bench's engine forwards, packet by packet (`hil-bench netem ns`).

    program (new netns, new pid ns)                    bench process (host netns)
      hil0  NS_ADDR  peer HOST_ADDR, default route ->  read hil0 -> uplink   -> write hilnsPID
                                                       read hilnsPID -> downlink -> write hil0
      host: hilnsPID  HOST_ADDR  peer NS_ADDR  (the host kernel answers for HOST_ADDR)

Every IP packet the program sends (TCP, UDP, ICMP) is read from the namespace's TUN, given its
fate by the engine through `gate.py` (delay, jitter, loss, outages, rate, trace replay; packets may
overtake each other as in netem) and written to the host's TUN at its arrival time by the
precise loop; replies take the downlink the other way. A packet's time is when its kernel sent
it into the TUN device, not when this process woke up to read it: a packet tap on each device
(`tun.open_tap`: AF_PACKET with a BPF filter for outgoing packets, stamped by the kernel, read
from a ring shared with the kernel, so no system call per packet) gives each packet's entry
time, matched to the TUN read by content (`TapStamps`; the read time where a copy is missing).
A direction that changes nothing (`Direction.transparent`: in the profile, no delay, loss, rate,
outage, trace, duplication, corruption or reordering; commonly the downlink when only the uplink
is impaired) hands each packet on as soon as it is read, before the engine or the tap is asked
anything; it is accounted for afterwards (`Gate.passed`: counted, in the event log with its tap
stamp and delay 0). Its crossing (entry stamp to written) is in the stopped line as
`pass_ms_median` / `pass_ms_p99`.
The program reaches the host (its simulators, proxies) at HOST_ADDR; its own 127.0.0.1 stays
inside the namespace. Other destinations go to the host kernel like any routed packet (dropped
unless the host forwards).

Cleanup is structural, so it also holds after SIGKILL of the bench: both TUN devices exist only
while their file descriptors are open (the bench holds them; the kernel deletes the devices and
their addresses and routes when they close); the namespace has no name in /run/netns and lives
only as long as a process is in it: `unshare --net --pid --fork --kill-child` is started with
PR_SET_PDEATHSIG=SIGKILL, so the bench's death kills `unshare`, which kills the namespace's init,
which takes every process of the pid namespace with it.

Libraries: pyroute2 (netlink: addresses, links, routes, in either namespace, without parsing
`ip` output); the TUN ioctl and setns(2) are stdlib (`tun.py`); util-linux `unshare` for the
namespaces (Debian: util-linux, always installed).
Failure modes: `support()` says what is missing (root, /dev/net/tun, unshare, pyroute2), the CLI
exits 2 with that line; DeviceError when the namespace cannot be set up.
"""
from __future__ import annotations

import functools
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from bench.impair.gate import LATENESS_KEEP, Gate, background_log, quantile_ms
from bench.impair.ippacket import describe
from bench.impair.link import Direction, ImpairedLink
from bench.impair.loop import (WINDOW_S, PreciseLoop, now_ns, proxy_loop, reduce_timer_slack,
                               try_realtime)
from bench.impair.tun import Tap, disable_ipv6, in_netns, open_tap, open_tun
from drivers.errors import ConfigError, DeviceError

NS_DEV = "hil0"
#: /30 blocks for the point-to-point link are taken from here, one per bench process
DEFAULT_POOL = ipaddress.ip_network("10.200.0.0/14")
GATE_FD = 9
#: PID 1 of the new pid namespace: wait for the bench's go (the TUN is up), then run the command
#: as a child (not exec: a pid namespace's init ignores signals it has no handler for, Ctrl-C
#: must still reach the program) and exit with its status
_GATE = f'read -r _ <&{GATE_FD} || exit 125; exec {GATE_FD}<&-; "$@"; exit $?'
BATCH = 64


def support() -> tuple[bool, str]:
    """(True, "") when `netem ns` can run here; else (False, what is missing, one line)."""
    if os.geteuid() != 0:
        return False, "needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to create namespaces and TUN)"
    if not os.path.exists("/dev/net/tun"):
        return False, "no /dev/net/tun (the kernel lacks TUN support or the device is not mapped)"
    try:
        os.close(os.open("/dev/net/tun", os.O_RDWR))
    except OSError as exc:
        return False, f"cannot open /dev/net/tun: {exc.strerror}"
    if not shutil.which("unshare"):
        return False, "the `unshare` command is not installed (Debian: util-linux)"
    try:
        import pyroute2  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return False, "the Python package pyroute2 is not installed (pip install pyroute2)"
    return True, ""


@dataclass(frozen=True)
class Addresses:
    host: str
    ns: str


def pick_addresses(net: str | None, pid: int) -> Addresses:
    """HOST_ADDR and NS_ADDR: the first two hosts of `net` (a /30 or larger), or of a /30 from
    10.200.0.0/14 chosen by `pid` (so parallel benches do not collide). ConfigError if bad."""
    if net is None:
        base = int(DEFAULT_POOL.network_address) + 4 * (pid % (DEFAULT_POOL.num_addresses // 4))
        network = ipaddress.ip_network(f"{ipaddress.IPv4Address(base)}/30")
    else:
        try:
            network = ipaddress.ip_network(net, strict=True)
        except ValueError as exc:
            raise ConfigError(f"--net: {exc}") from None
        if network.version != 4 or network.num_addresses < 4:
            raise ConfigError(f"--net: need an IPv4 network of at least 4 addresses, got {net}")
    hosts = list(network.hosts())[:2]
    return Addresses(str(hosts[0]), str(hosts[1]))


class TapStamps:
    """When each packet read from a TUN device entered it: the stamp of its copy on the
    device's tap (`tun.Tap`), matched by content (copies and reads come in the same order; a
    copy the tap missed leaves its packet with the read time)."""

    def __init__(self, tap: Tap) -> None:
        self.tap = tap
        self.copies: deque[tuple[bytes, int]] = deque(maxlen=4096)
        self.matched = 0

    def time_of(self, pkt: bytes, read_ns: int) -> int:
        """The entry time (monotonic ns) of `pkt`, read at `read_ns`; `read_ns` without a copy
        (or when the wall clock stepped by a second or more since)."""
        copies = self.copies
        wall_minus_mono = None
        while True:
            for i, (snap, t) in enumerate(copies):
                if pkt.startswith(snap):
                    for _ in range(i + 1):          # this one and older ones never read
                        copies.popleft()
                    self.matched += 1
                    return t if 0 <= read_ns - t < 1_000_000_000 else read_ns
            got = self.tap.take()
            if got is None:
                return read_ns
            if wall_minus_mono is None:     # the stamps are wall-clock time
                wall_minus_mono = time.time_ns() - now_ns()
            copies.append((got[0], got[1] - wall_minus_mono))


class NsForwarder:
    """Moves IP packets between the namespace's TUN and the host's TUN through a link."""

    def __init__(self, fd_ns: int, fd_host: int, link: ImpairedLink, loop: PreciseLoop,
                 events: TextIO | None = None,
                 taps: tuple[Tap | None, Tap | None] = (None, None)) -> None:
        self.gate = Gate(link, loop, events, unit="packets")
        self.stats = self.gate.stats
        self.stats["write_errors"] = 0
        self.stats["passed"] = 0        # handed on as read: through a transparent direction
        #: entry stamp to the end of the write, of each packet passed through (ns; the first
        #: LATENESS_KEEP): the whole crossing of this process, which no timer can hide
        self.crossing_ns: list[int] = []
        self.fds = (fd_ns, fd_host)
        self.loop = loop
        to_host = functools.partial(self._write, fd_host)
        to_ns = functools.partial(self._write, fd_ns)
        self.stamps = tuple(TapStamps(tap) if tap is not None else None for tap in taps)
        up, down = self.stamps
        loop.add_reader(fd_ns, lambda: self._pump(fd_ns, to_host, link.uplink, up))
        loop.add_reader(fd_host, lambda: self._pump(fd_host, to_ns, link.downlink, down))

    def _pump(self, src: int, deliver: Callable[[bytes], None], direction: Direction,
              stamps: TapStamps | None) -> None:
        forward = self.gate.forward
        for _ in range(BATCH):
            try:
                pkt = os.read(src, 65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            t = now_ns()
            if direction.transparent:   # nothing can befall it: on at once, accounted after
                deliver(pkt)
                done = now_ns()
                if stamps is not None:
                    t = stamps.time_of(pkt, t)
                if len(self.crossing_ns) < LATENESS_KEEP:
                    self.crossing_ns.append(done - t)
                self.gate.passed(direction, pkt, t, describe)
                self.stats["passed"] += 1
                continue
            if stamps is not None:  # when it entered the device, not when this process woke
                t = stamps.time_of(pkt, t)
            # the packet's description (3 us) is for the event log, made after a due delivery
            forward(direction, pkt, t, deliver, describe)

    def _write(self, fd: int, pkt: bytes) -> None:
        try:
            os.write(fd, pkt)
        except OSError:             # a corrupted header the kernel refuses, or the device left
            self.stats["write_errors"] += 1

    def close(self) -> None:
        self.stats.update(self.gate.lateness())
        if self.crossing_ns:
            v = sorted(self.crossing_ns)
            self.stats["pass_ms_median"] = quantile_ms(v, 0.5)
            self.stats["pass_ms_p99"] = quantile_ms(v, 0.99)
        self.stats["stamped"] = sum(s.matched for s in self.stamps if s is not None)
        for fd in self.fds:
            self.loop.remove_reader(fd)


def _child_setup(gate_fd: int) -> None:
    """In the `unshare` child, before exec: die with the bench (SIGKILL, even if the bench is
    SIGKILLed), ordinary scheduling, and the go-pipe on a fixed descriptor for the gate script
    (dash takes one-digit descriptors only; Python's own descriptors are not inheritable, so
    close_fds=False leaks nothing else)."""
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)              # PR_SET_PDEATHSIG
    try:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
    except OSError:
        pass
    os.dup2(gate_fd, GATE_FD)


def _wait_new_netns(pid: int, timeout_s: float = 10.0) -> str:
    mine = os.readlink("/proc/self/ns/net")
    path = f"/proc/{pid}/ns/net"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if os.readlink(path) != mine:
                return path
        except OSError:
            raise DeviceError("netem ns: `unshare` exited before creating the namespace "
                              "(does this kernel allow network namespaces?)") from None
        time.sleep(0.002)
    raise DeviceError(f"netem ns: no new network namespace after {timeout_s:g} s")


def _configure(ns_path: str, host_dev: str, addr: Addresses) -> None:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        if ipr.get_addr(address=addr.host):
            raise ConfigError(f"--net: {addr.host} is already an address of this host")
        idx = ipr.link_lookup(ifname=host_dev)[0]
        ipr.addr("add", index=idx, local=addr.host, address=addr.ns, prefixlen=32)
        ipr.link("set", index=idx, state="up")
    with IPRoute(netns=ns_path) as ipr:
        lo = ipr.link_lookup(ifname="lo")[0]
        ipr.link("set", index=lo, state="up")
        idx = ipr.link_lookup(ifname=NS_DEV)[0]
        ipr.addr("add", index=idx, local=addr.ns, address=addr.host, prefixlen=32)
        ipr.link("set", index=idx, state="up")
        ipr.route("add", dst="0.0.0.0", dst_len=0, oif=idx)


def run_in_netns(command: list[str], link: ImpairedLink, *, events_path: str | None = None,
                 net: str | None = None, spin_s: float = 0.0015, realtime: bool = True,
                 window_s: float = WINDOW_S,
                 status: TextIO = sys.stderr, info: dict | None = None,
                 grace_s: float = 2.0) -> int:
    """Run `command` in a new network namespace impaired by `link`; returns its exit status.

    Prints a JSON ready line (addresses, devices, realtime) and a stopped line (counts) to
    `status`. SIGINT/SIGTERM: the command gets `grace_s` to end (a terminal's Ctrl-C reaches it
    directly), then the namespace is killed; the result is then 130.
    """
    ok, reason = support()
    if not ok:
        raise ConfigError(f"netem ns: {reason}")
    if not command:
        raise ConfigError("netem ns: no command given (hil-bench netem ns --profile P -- CMD ...)")
    addr = pick_addresses(net, os.getpid())
    host_dev = f"hilns{os.getpid()}"
    events: TextIO | None
    try:
        events = open(events_path, "a", encoding="utf-8") if events_path else None
    except OSError as exc:
        raise ConfigError(f"--events: cannot write {events_path}: {exc.strerror}") from None
    reduce_timer_slack()
    r, w = os.pipe()
    env = dict(os.environ, HIL_NS_HOST=addr.host, HIL_NS_ADDR=addr.ns)
    try:
        proc = subprocess.Popen(["unshare", "--net", "--pid", "--fork", "--kill-child", "--",
                                 "sh", "-c", _GATE, "sh", *command], env=env,
                                close_fds=False, preexec_fn=lambda: _child_setup(r))
    except OSError as exc:
        os.close(r)
        os.close(w)
        if events is not None:
            events.close()
        raise DeviceError(f"netem ns: cannot start unshare: {exc}") from None
    os.close(r)
    from pyroute2 import NetlinkError

    fds: list[int] = []
    taps: list[Tap | None] = []
    forwarder = None
    stopped_by: list[int] = []
    handlers: dict[int, object] = {}
    try:
        ns_path = _wait_new_netns(proc.pid)
        try:
            with in_netns(ns_path):
                fds.append(open_tun(NS_DEV))
                disable_ipv6(NS_DEV)
            fds.append(open_tun(host_dev))
            disable_ipv6(host_dev)
            _configure(ns_path, host_dev, addr)
        except (OSError, NetlinkError) as exc:
            raise DeviceError(f"netem ns: setting up the namespace failed: {exc}") from None
        with in_netns(ns_path):
            taps.append(_tap(NS_DEV))
        taps.append(_tap(host_dev))
        rt = realtime and try_realtime()
        loop = proxy_loop(rt, spin_s, window_s)
        if events is not None:          # a thread of its own writes it (gate.EventLog)
            events = background_log(events)
        forwarder = NsForwarder(fds[0], fds[1], link, loop, events, (taps[0], taps[1]))
        _watch_child(loop, proc)
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(
                sig, lambda s, _f: _on_signal(loop, proc, stopped_by, s, grace_s))
        print(json.dumps({"event": "ready", "netns": ns_path, "host_addr": addr.host,
                          "ns_addr": addr.ns, "host_dev": host_dev, "ns_dev": NS_DEV,
                          "realtime": rt, "pid": os.getpid(), **(info or {})}),
              file=status, flush=True)
        os.write(w, b"go\n")
        loop.run()
        forwarder.close()
        forwarder.stats.update(loop.usage())
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)    # type: ignore[arg-type]
        os.close(w)
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
        for tap in taps:
            if tap is not None:
                tap.close()
        for fd in fds:
            os.close(fd)
        if events is not None:
            events.close()
    if forwarder is not None:
        print(json.dumps({"event": "stopped", "exit_code": rc, **forwarder.stats}), file=status,
              flush=True)
    return 130 if stopped_by else rc


def _tap(dev: str) -> Tap | None:
    """The packet tap giving `dev`'s packets their entry times (`tun.open_tap`); None where it
    cannot be had: the read time is used then."""
    try:
        return open_tap(dev)
    except OSError:
        return None


def _watch_child(loop: PreciseLoop, proc: subprocess.Popen) -> None:
    """Stop the loop once the command has ended (polled every 20 ms)."""
    def check() -> None:
        if proc.poll() is not None:
            loop.stop()
        else:
            loop.call_at(now_ns() + 20_000_000, check, precise=False)
    loop.call_at(now_ns() + 20_000_000, check, precise=False)


def _on_signal(loop: PreciseLoop, proc: subprocess.Popen, stopped_by: list[int], sig: int,
               grace_s: float) -> None:
    if stopped_by:                      # a second signal: stop now
        proc.kill()
        return
    stopped_by.append(sig)
    kill: Callable[[], None] = proc.kill
    loop.call_at(now_ns() + int(grace_s * 1e9), kill, precise=False)
