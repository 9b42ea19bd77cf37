"""The frame-aware serial impairment proxy between two serial endpoints (own process).

Endpoints: ``pty`` (the proxy creates a pseudo-terminal in raw mode and announces the path a
program opens), a device or pty path, or any pyserial URL (``socket://host:port``). Bytes from
endpoint A go to B over the link's uplink, from B to A over its downlink.

Bytes are reassembled into frames before they are delayed, because a serial receiver splits
frames by timing (delaying bytes one by one would tear frames apart):
  rtu   a frame ends after a silence of 3.5 character times (fixed 1.75 ms above 19200 baud,
        Modbus over Serial Line v1.02 section 2.5.1.1)
  line  a frame ends at a line ending (\\n, \\r\\n or \\r): AT commands, G-code; bytes left
        without one (GRBL's real-time `?`) end a frame after the RTU silence
  raw   each read is a frame
A frame's time is when its last byte was read. Whole frames are delayed, lost, duplicated or have
one bit flipped by the engine (`link.py`), then written with one write at their arrival time, and
no earlier than the previous frame of the same direction needs on the wire at the configured baud
rate (len x bits_per_char / baud), so the receiver sees a line paced like the real one.
"""
from __future__ import annotations

import functools
import json
import os
import re
import tty
from dataclasses import dataclass, field
from typing import TextIO

from bench.impair.link import Direction, ImpairedLink
from bench.impair.loop import PreciseLoop, now_ns
from drivers.errors import ConfigError

FRAMINGS = ("rtu", "line", "raw")
_LINE = re.compile(rb"\r\n|\n|\r")


def silent_interval_s(baud: int, bits_per_char: int = 11) -> float:
    """Modbus RTU t3.5: 3.5 character times, fixed at 1.75 ms above 19200 baud."""
    return 0.00175 if baud > 19200 else 3.5 * bits_per_char / baud


class Endpoint:
    """A readable/writable serial endpoint with a file descriptor for select()."""

    path = ""

    def fileno(self) -> int:
        raise NotImplementedError

    def read(self) -> bytes:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class PtyEndpoint(Endpoint):
    """A new pty in raw mode; the proxy keeps the master and one slave fd (so reads never EIO)."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self.master)
        self.path = os.ttyname(self._slave)
        os.set_blocking(self.master, False)

    def fileno(self) -> int:
        return self.master

    def read(self) -> bytes:
        try:
            return os.read(self.master, 4096)
        except BlockingIOError:
            return b""

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.master, view)
            except BlockingIOError:
                continue            # the pty buffer is full: a short spin, frames are small
            view = view[n:]

    def close(self) -> None:
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


class PySerialEndpoint(Endpoint):
    """A device path or pyserial URL, opened non-blocking."""

    def __init__(self, url: str, baud: int) -> None:
        import serial

        try:
            self.port = serial.serial_for_url(url, baudrate=baud, timeout=0)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise ConfigError(f"cannot open serial endpoint {url!r}: {exc}") from None
        self.path = url

    def fileno(self) -> int:
        return self.port.fileno()

    def read(self) -> bytes:
        return self.port.read(4096) or b""

    def write(self, data: bytes) -> None:
        self.port.write(data)

    def close(self) -> None:
        self.port.close()


def open_endpoint(spec: str, baud: int) -> Endpoint:
    """``pty`` -> a new pty; anything else -> a path or pyserial URL."""
    return PtyEndpoint() if spec == "pty" else PySerialEndpoint(spec, baud)


@dataclass
class _Flow:
    """One direction: source, destination, reassembly buffer and pacing state."""

    name: str
    src: Endpoint
    dst: Endpoint
    direction: Direction
    buf: bytearray = field(default_factory=bytearray)
    t_last_ns: int = 0
    busy_until_ns: int = 0
    pending_check: bool = False


class SerialProxy:
    """Forwards whole frames between two endpoints through a link."""

    def __init__(self, a: Endpoint, b: Endpoint, link: ImpairedLink, loop: PreciseLoop, baud: int = 19200,
                 framing: str = "rtu", bits_per_char: int = 10,
                 events: TextIO | None = None) -> None:
        if framing not in FRAMINGS:
            raise ConfigError(f"--framing: {framing!r} is not one of {', '.join(FRAMINGS)}")
        if baud <= 0:
            raise ConfigError("--baud: must be > 0")
        self.a, self.b, self.loop, self.events = a, b, loop, events
        self.framing = framing
        self.char_ns = int(bits_per_char / baud * 1e9)
        self.silence_ns = int(silent_interval_s(baud, bits_per_char) * 1e9)
        self.t0_ns = now_ns()
        self.stats = {"frames": 0, "lost": 0, "bytes": 0, "duplicated": 0, "corrupted": 0}
        for flow in (_Flow("up", a, b, link.uplink), _Flow("down", b, a, link.downlink)):
            loop.add_reader(flow.src.fileno(), functools.partial(self._read, flow))

    def _read(self, flow: _Flow) -> None:
        try:
            data = flow.src.read()
        except OSError:
            data = b""
        if not data:
            return
        t = now_ns()
        if self.framing == "raw":
            self._frame(flow, data, t)
            return
        flow.buf += data
        flow.t_last_ns = t
        if self.framing == "line":
            parts = _LINE.split(bytes(flow.buf))
            ends = _LINE.findall(bytes(flow.buf))
            for body, end in zip(parts, ends):
                self._frame(flow, body + end, t)
            flow.buf = bytearray(parts[-1])
            if not flow.buf:
                return
            # bytes without a line ending (GRBL's one-character real-time commands such as
            # `?`) go as a frame of their own after the same silence as RTU
        if not flow.pending_check:
            flow.pending_check = True
            self.loop.call_at(t + self.silence_ns, lambda: self._silence(flow), precise=False)

    def _silence(self, flow: _Flow) -> None:
        now = now_ns()
        if now - flow.t_last_ns < self.silence_ns:        # more bytes came: wait again
            self.loop.call_at(flow.t_last_ns + self.silence_ns, lambda: self._silence(flow),
                              precise=False)
            return
        flow.pending_check = False
        frame, flow.buf = bytes(flow.buf), bytearray()
        if frame:
            self._frame(flow, frame, flow.t_last_ns)

    def _frame(self, flow: _Flow, frame: bytes, t_ns: int) -> None:
        fate = flow.direction.send((t_ns - self.t0_ns) / 1e9, len(frame))
        self.stats["frames"] += 1
        self.stats["bytes"] += len(frame)
        if self.events is not None:
            self.events.write(json.dumps({"t_ns": t_ns, "kind": "network", **fate.as_event(),
                                          "bytes": len(frame)}) + "\n")
            self.events.flush()
        if fate.lost:
            self.stats["lost"] += 1
            return
        if fate.corrupt_bit is not None:
            buf = bytearray(frame)
            buf[fate.corrupt_bit // 8] ^= 1 << (fate.corrupt_bit % 8)
            frame = bytes(buf)
            self.stats["corrupted"] += 1
        tx = len(frame) * self.char_ns
        release = max(self.t0_ns + int(round(fate.t_arrive_s * 1e9)), flow.busy_until_ns + tx)
        flow.busy_until_ns = release
        self.loop.call_at(release, lambda: flow.dst.write(frame))
        if fate.duplicate:
            self.stats["duplicated"] += 1
            flow.busy_until_ns = release + tx
            self.loop.call_at(release + tx, lambda: flow.dst.write(frame))

    def close(self) -> None:
        for ep in (self.a, self.b):
            try:
                self.loop.remove_reader(ep.fileno())
            except (OSError, ValueError):
                pass
            ep.close()
