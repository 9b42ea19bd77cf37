"""Echo probes: the round trip to a TCP or UDP echo service the lab declares for a site.

Where a site has an echo service on the robot's side of the link (``qualify: {echo:
udp://10.0.0.7:7}``, RFC 862 echo or anything that sends the bytes back), the link can be
qualified without talking to the robot at all. One probe is one 32-byte message carrying its
sequence number; a UDP echo with an older sequence number is a late answer to an earlier probe
and is skipped, a TCP connection that timed out is dropped (its late bytes would be taken for the
next answer) and opened again for the next probe. Only the declared address is contacted.
Failure modes: DeviceTimeout (no echo within `timeout_s`), DeviceError (refused, unreachable,
wrong bytes back), ConfigError for a malformed URL.
"""
from __future__ import annotations

import socket
import struct
import time
from urllib.parse import urlsplit

from drivers.errors import ConfigError, DeviceError, DeviceTimeout

SIZE = 32
_MAGIC = b"hil-bench-echo\0\0"


def parse_echo_url(url: str) -> tuple[str, str, int]:
    """(``tcp``|``udp``, host, port) of ``tcp://host:port`` / ``udp://host:port``."""
    u = urlsplit(url)
    if u.scheme not in ("tcp", "udp") or not u.hostname or not u.port:
        raise ConfigError(f"echo {url!r}: expected tcp://HOST:PORT or udp://HOST:PORT")
    return u.scheme, u.hostname, u.port


class EchoProbe:
    """Probes an echo service; `read_status` is one probe (the name the probe loop calls)."""

    def __init__(self, url: str, timeout_s: float) -> None:
        self.kind, self.host, self.port = parse_echo_url(url)
        self.timeout_s = timeout_s
        self.name = f"echo {url}"
        self._sock: socket.socket | None = None
        self._seq = 0

    def connect(self) -> None:
        self.close()
        try:
            if self.kind == "udp":
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.connect((self.host, self.port))
            else:
                s = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except socket.timeout:
            raise DeviceTimeout(f"{self.name}: no connection within {self.timeout_s:g} s") \
                from None
        except OSError as exc:
            raise DeviceError(f"{self.name}: {exc}") from None
        self._sock = s

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def read_status(self) -> None:
        """Send one probe and wait for its echo (at most `timeout_s`)."""
        if self._sock is None:
            self.connect()
        assert self._sock is not None
        self._seq += 1
        msg = _MAGIC + struct.pack(">Q", self._seq) + bytes(SIZE - len(_MAGIC) - 8)
        deadline = time.monotonic() + self.timeout_s
        try:
            self._sock.send(msg)
            got = b""
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout
                self._sock.settimeout(left)
                chunk = self._sock.recv(SIZE - len(got) if self.kind == "tcp" else 2048)
                if not chunk:
                    raise DeviceError(f"{self.name}: connection closed")
                if self.kind == "udp":
                    if chunk == msg:
                        return
                    continue                  # a late echo of an earlier probe
                got += chunk
                if len(got) == SIZE:
                    if got != msg:
                        raise DeviceError(f"{self.name}: the echo differs from the probe")
                    return
        except socket.timeout:
            if self.kind == "tcp":
                self.close()                  # late bytes would answer the next probe
            raise DeviceTimeout(f"{self.name}: no echo within {self.timeout_s:g} s") from None
        except OSError as exc:
            self.close()
            raise DeviceError(f"{self.name}: {exc}") from None
