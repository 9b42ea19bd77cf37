"""Serve a byte-stream responder (`feed(bytes) -> bytes`) on a raw pty or on TCP, in a thread.

Used by the instrument simulators and the AT modem simulator. The pty's slave is put in raw mode
at once (a fresh pty echoes and translates CR/LF) and held open for the server's lifetime; `url`
is what a client opens: the slave's path, or pyserial ``socket://host:port`` for TCP (one
responder per connection).
"""
from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from typing import Callable, Protocol, Self


class Responder(Protocol):
    def feed(self, data: bytes) -> bytes:
        """Bytes from the client -> bytes to send back (possibly empty)."""
        ...


class PtyServer:
    """`make()`'s responder on one pty pair; `url` is the slave path (e.g. /dev/pts/7)."""

    def __init__(self, make: Callable[[], Responder]) -> None:
        self.responder = make()
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.url = self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sim-pty", daemon=True)

    def start(self) -> "PtyServer":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                time.sleep(0.01)
                continue
            out = self.responder.feed(data)
            if out:
                try:
                    os.write(self._master, out)
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass


class TcpListener:
    """Accepts TCP connections on host:port (0 = a free port) in a thread and serves each one on
    its own thread with `_client(conn)` (subclasses: `TcpServer`, the OpenIGTLink simulator).
    `stop()` closes the listening socket and joins the threads (up to 2 s each)."""

    url: str

    def __init__(self, host: str = "127.0.0.1", port: int = 0, name: str = "sim-tcp") -> None:
        self._sock = socket.create_server((host, port))
        self._sock.settimeout(0.1)
        self.host, self.port = self._sock.getsockname()[:2]
        self.path = ""
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, name=name, daemon=True)

    def start(self) -> Self:
        self._accept.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            t = threading.Thread(target=self._client, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _client(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()
        try:
            self._sock.close()
        except OSError:
            pass
        for t in [self._accept, *self._threads]:
            if t.is_alive():
                t.join(2)


class TcpServer(TcpListener):
    """A fresh `make()` responder per TCP connection on host:port (0 = a free port)."""

    def __init__(self, make: Callable[[], Responder], host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__(host, port)
        self.make = make
        self.url = f"socket://{self.host}:{self.port}"

    def _client(self, conn: socket.socket) -> None:
        responder = self.make()
        conn.settimeout(0.1)
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except (TimeoutError, socket.timeout):
                    continue
                except OSError:
                    return
                if not data:
                    return
                out = responder.feed(data)
                if out:
                    try:
                        conn.sendall(out)
                    except OSError:
                        return
