"""A simulated tracker behind an OpenIGTLink server, streaming like PlusServer does.

To every client it sends, at the tracker's rate, a TRANSFORM (and a POSITION when asked) named
`device` (PLUS style ``<Tool>To<Reference>``, default ``ToolToTracker``), and TDATA after the
client's STT_TDATA (until STP_TDATA), rate-limited by its resolution. It answers with the highest
header version the client has sent (PlusServer's rule), so a v2 client gets ``TransformStatus``
metadata. Like PlusServer with SendValidTransformsOnly (its default), a tool the tracker cannot see
is not sent. Faults from the tracker model: silent (nothing is sent), crc (the first message of
every frame has a wrong CRC), missing (the tool is never seen). Binds 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import socket
import struct
import threading
import time

import numpy as np

from drivers.instrument import igtl_protocol as G
from drivers.instrument.base import matrix_from_quaternion
from drivers.sim.byteserver import TcpListener
from drivers.sim.tracker import TrackerModel


class IgtlServer(TcpListener):
    """Streams `model`'s observations over OpenIGTLink on host:port (0 = a free port)."""

    def __init__(self, model: TrackerModel, host: str = "127.0.0.1", port: int = 0,
                 device: str = "ToolToTracker", position: bool = False) -> None:
        super().__init__(host, port, name="igtl-sim")
        self.model = model
        self.device = device
        self.position = position
        self.url = f"{self.host}:{self.port}"
        self._lock = threading.Lock()            # the model is shared by every client thread
        self.received: list[str] = []            # message types received (tests, journal)
        self._received_cond = threading.Condition()  # signalled on every recorded request

    def wait_received(self, type_: str, timeout_s: float) -> bool:
        """Block until a client request of message type `type_` (e.g. ``GET_STATUS``) has been
        read and recorded, at most `timeout_s` seconds; True if it was. The client threads read
        requests asynchronously, so a test that asks "did the server get X" must wait for it."""
        with self._received_cond:
            return self._received_cond.wait_for(lambda: type_ in self.received, timeout_s)

    def _client(self, conn: socket.socket) -> None:
        state = {"version": 1, "tdata": False, "resol_s": 0.0, "last_tdata": 0.0}
        inbuf = b""
        period = 1.0 / self.model.params.rate()
        conn.settimeout(0.0)
        next_t = time.monotonic()
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                    if not data:
                        return
                    inbuf += data
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    return
                inbuf = self._requests(inbuf, state)
                now = time.monotonic()
                if now >= next_t:
                    next_t = max(next_t + period, now)
                    try:
                        conn.sendall(self._frame(state, now))
                    except OSError:
                        return
                time.sleep(min(0.002, max(0.0, next_t - time.monotonic())))

    def _requests(self, buf: bytes, state: dict) -> bytes:
        while len(buf) >= G.HEADER_SIZE:
            v, type_, _, _, size, _ = G.parse_header(buf[:G.HEADER_SIZE])
            if len(buf) < G.HEADER_SIZE + size:
                break
            msg = G.unpack(buf[:G.HEADER_SIZE], buf[G.HEADER_SIZE:G.HEADER_SIZE + size],
                           check_crc=False)
            buf = buf[G.HEADER_SIZE + size:]
            with self._received_cond:
                self.received.append(type_)
                self._received_cond.notify_all()
            state["version"] = max(state["version"], min(v, 2))
            if type_ == "STT_TDATA":
                state["tdata"] = True
                if len(msg.content) >= 4:
                    state["resol_s"] = struct.unpack_from(">I", msg.content)[0] / 1000.0
            elif type_ == "STP_TDATA":
                state["tdata"] = False
        return buf

    def _frame(self, state: dict, now: float) -> bytes:
        fault = self.model.params.fault
        if fault == "silent":
            return b""
        with self._lock:
            obs = self.model.observe(now)
        if not obs.visible or obs.position_mm is None or obs.orientation is None:
            return b""
        m = np.eye(4)
        m[:3, :3] = matrix_from_quaternion(obs.orientation)
        m[:3, 3] = obs.position_mm
        ts, v = time.time(), state["version"]
        meta = {"TransformStatus": "OK"}
        out = G.pack("TRANSFORM", self.device, G.transform_content(m), ts, v, meta)
        if self.position:
            out += G.pack("POSITION", self.device,
                          G.position_content(obs.position_mm, obs.orientation), ts, v, meta)
        if state["tdata"] and now - state["last_tdata"] >= state["resol_s"]:
            state["last_tdata"] = now
            cut = self.device.find("To", 1)          # "StylusToTracker" -> "Stylus"
            name = self.device[:cut] if cut > 0 else self.device
            out += G.pack("TDATA", "Tracker", G.tdata_content([(name, m)]), ts, v)
        if fault == "crc":
            out = out[:50] + bytes([out[50] ^ 0xFF]) + out[51:]
        return out
