"""OpenIGTLink client: tool poses streamed by PLUS Toolkit, 3D Slicer or any OpenIGTLink server.

Written against the protocol documents (`drivers.instrument.igtl_protocol`) rather than on pyigtl,
because pyigtl's POSITION layout is not the specification's, it drops TDATA and STATUS, keeps only
the newest message per device and does not check the body CRC (see docs/instruments.md); pyigtl is
used in the tests as an independent peer instead.

A background thread reads messages; `read()` waits (up to `timeout_s`) until every configured tool
has a message that arrived after the call started. Tools are mapped from device names
(TRANSFORM/POSITION) or TDATA element names. PLUS sends valid transforms only by default, so a
tool that is not seen simply does not arrive: it is reported not visible (status "not_sent"); a
version-2 message whose ``TransformStatus`` metadata is not OK is reported "invalid". Failure
modes: DeviceError (cannot connect, connection lost), DeviceTimeout (nothing at all arrived within
`timeout_s`), ProtocolError (CRC mismatch, malformed body: the connection is dropped).
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from drivers.config import Section
from drivers.endpoint import Endpoint, TcpEndpoint
from drivers.errors import DeviceError, DeviceTimeout, ProtocolError
from drivers.instrument import igtl_protocol as G
from drivers.instrument.base import (DEFAULT_CLOCK, ClockNs, Instrument, ToolMeasurement,
                                     quaternion_from_matrix)


@dataclass(frozen=True)
class IgtlSettings:
    """Server address, tools (name -> device/element name) and what to ask for."""

    host: str = "127.0.0.1"
    port: int = G.DEFAULT_PORT
    tools: dict[str, str] = field(default_factory=lambda: {"tool": "ToolToTracker"})
    timeout_s: float = 1.0
    tdata: bool = False               # send STT_TDATA at connect (PLUS streams TDATA only then)
    resolution_ms: int = 0
    header_version: int = 2           # PlusServer answers with the highest version a client sent


class IgtlInstrument(Instrument):
    """Tool poses from an OpenIGTLink server over TCP."""

    kind = "tracker via OpenIGTLink"

    def __init__(self, settings: IgtlSettings, clock_ns: ClockNs = DEFAULT_CLOCK) -> None:
        self.settings = settings
        self.clock_ns = clock_ns
        self.name = f"openigtlink:{settings.host}:{settings.port}"
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._latest: dict[str, ToolMeasurement] = {}
        self._error: Exception | None = None
        self._stop = threading.Event()
        self._tap: Callable[[str, bytes], None] | None = None
        self.received = 0
        self.last_status: tuple[int, int, str, str] | None = None

    def connect(self) -> None:
        s = self.settings
        try:
            self._sock = socket.create_connection((s.host, s.port), timeout=s.timeout_s)
        except OSError as exc:
            raise DeviceError(f"{self.name}: cannot connect: {exc}") from None
        self._sock.settimeout(0.2)
        self._stop.clear()
        self._thread = threading.Thread(target=self._reader, name="igtl-client", daemon=True)
        self._thread.start()
        # a v2 message tells a PlusServer to answer with v2 (metadata: TransformStatus)
        first = G.pack("STT_TDATA", "", G.stt_tdata_content(s.resolution_ms), time.time(),
                       s.header_version) if s.tdata else \
            G.pack("GET_STATUS", "", b"", time.time(), s.header_version)
        self._send(first)

    def close(self) -> None:
        self._stop.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                if self.settings.tdata:
                    sock.sendall(G.pack("STP_TDATA", "", b"", time.time(),
                                        self.settings.header_version))
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
        self._thread = None

    def read(self) -> list[ToolMeasurement]:
        start = self.clock_ns()
        deadline = time.monotonic() + self.settings.timeout_s
        names = list(self.settings.tools)
        with self._cond:
            while True:
                if self._error is not None:
                    raise self._error
                fresh = {n: m for n, m in self._latest.items() if m.t_ns >= start}
                if all(n in fresh for n in names):
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    if not fresh:
                        raise DeviceTimeout(f"{self.name}: no tool message within "
                                            f"{self.settings.timeout_s:g} s")
                    break
                self._cond.wait(left)
        now = self.clock_ns()
        return [fresh.get(n) or ToolMeasurement(n, now, False, status="not_sent") for n in names]

    def set_wire_tap(self, tap: Callable[[str, bytes], None] | None) -> bool:
        self._tap = tap
        return True

    # -- internals -----------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        if self._sock is None:
            raise DeviceError(f"{self.name}: not connected")
        if self._tap:
            self._tap("tx", data)
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise DeviceError(f"{self.name}: send failed: {exc}") from None

    def _recv_exact(self, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            if self._stop.is_set() or self._sock is None:
                return None
            try:
                chunk = self._sock.recv(n - len(buf))
            except (TimeoutError, socket.timeout):
                continue
            except OSError as exc:
                raise DeviceError(f"{self.name}: connection lost: {exc}") from None
            if not chunk:
                raise DeviceError(f"{self.name}: the server closed the connection")
            buf += chunk
        if self._tap:
            self._tap("rx", bytes(buf))
        return bytes(buf)

    def _reader(self) -> None:
        try:
            while not self._stop.is_set():
                head = self._recv_exact(G.HEADER_SIZE)
                if head is None:
                    return
                size = G.parse_header(head)[4]
                body = self._recv_exact(size) if size else b""
                if body is None:
                    return
                self._handle(G.unpack(head, body))
        except (DeviceError, ProtocolError) as exc:
            if not self._stop.is_set():
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()

    def _handle(self, msg: G.Message) -> None:
        t = self.clock_ns()
        wanted = {dev: name for name, dev in self.settings.tools.items()}
        found: list[ToolMeasurement] = []
        ok = msg.metadata.get("TransformStatus", "OK").upper() == "OK"
        if msg.type == "TRANSFORM" and msg.device in wanted:
            found.append(self._from_matrix(wanted[msg.device], G.parse_transform(msg.content),
                                           t, msg.timestamp_s, ok))
        elif msg.type == "POSITION" and msg.device in wanted:
            pos, q = G.parse_position(msg.content)
            found.append(ToolMeasurement(wanted[msg.device], t, ok, pos if ok else None,
                                         q if ok else None, device_t_s=msg.timestamp_s or None,
                                         status="ok" if ok else "invalid"))
        elif msg.type == "TDATA":
            for name, _, matrix in G.parse_tdata(msg.content):
                if name in wanted:
                    found.append(self._from_matrix(wanted[name], matrix, t, msg.timestamp_s,
                                                   True))
        elif msg.type == "STATUS":
            self.last_status = G.parse_status(msg.content)
        with self._cond:
            self.received += 1
            for m in found:
                self._latest[m.tool] = m
            self._cond.notify_all()

    @staticmethod
    def _from_matrix(tool: str, m: np.ndarray, t: int, ts: float, ok: bool) -> ToolMeasurement:
        if not ok:
            return ToolMeasurement(tool, t, False, device_t_s=ts or None, status="invalid")
        r = tuple(tuple(float(v) for v in row) for row in m[:3, :3])
        return ToolMeasurement(tool, t, True, (float(m[0, 3]), float(m[1, 3]), float(m[2, 3])),
                               quaternion_from_matrix(r),  # type: ignore[arg-type]
                               device_t_s=ts or None)


@dataclass(frozen=True)
class IgtlSpec:
    """An OpenIGTLink server to read tool poses from."""

    settings: IgtlSettings
    driver: str = "openigtlink"
    protocol: str = "openigtlink"

    def open(self, endpoint: str | None = None, clock_ns: ClockNs = DEFAULT_CLOCK) -> Instrument:
        s = self.settings
        if endpoint is not None:
            host, _, port = endpoint.removeprefix("tcp://").rpartition(":")
            s = IgtlSettings(host or s.host, int(port), s.tools, s.timeout_s, s.tdata,
                             s.resolution_ms, s.header_version)
        return IgtlInstrument(s, clock_ns)

    def describe(self) -> str:
        return f"openigtlink@{self.settings.host}:{self.settings.port}"

    def endpoint(self) -> Endpoint | None:
        return TcpEndpoint(self.settings.host, self.settings.port)

    def tool_names(self) -> list[str]:
        return list(self.settings.tools)


def igtl_instrument(section: Section, base_dir: Path | None) -> IgtlSpec:
    """Factory for ``driver: openigtlink``. Keys: host, port (18944), tools {name: device name},
    stream (transform | tdata), resolution (ms between TDATA frames), timeout, header_version."""
    tools_raw = section.raw("tools", {"tool": "ToolToTracker"})
    if not isinstance(tools_raw, dict) or not tools_raw:
        raise section.error("tools", "expected a mapping of tool name -> device name")
    tools = {str(k): str(v) for k, v in tools_raw.items()}
    for name, dev in tools.items():
        if not dev or len(dev) > 20:
            raise section.error("tools", f"{name}: a device name has 1..20 characters")
    settings = IgtlSettings(
        host=section.get("host", str, "127.0.0.1"),
        port=section.get("port", int, G.DEFAULT_PORT),
        tools=tools,
        timeout_s=section.quantity("timeout", "s", 1.0, min=0.001, max=60),
        tdata=section.get("stream", str, "transform", choices=("transform", "tdata")) == "tdata",
        resolution_ms=section.get("resolution_ms", int, 0),
        header_version=section.get("header_version", int, 2, choices=(1, 2)),
    )
    if not 0 < settings.port < 65536:
        raise section.error("port", "must be 1..65535")
    return IgtlSpec(settings)
