"""Pseudo-terminals for simulators: a serial line any serial program can open by path.

`PtyPair` is a null-modem made of two pty pairs and a copier on the event loop: the simulator
opens `device_path` (e.g. with pymodbus' serial server), clients open `client_path`. Both slave ends
are put in raw mode at once (a fresh pty echoes and translates CR/LF) and held open for the link's
lifetime (otherwise reading a master fails with EIO once nobody holds its slave). ptys do not
emulate baud rate or parity: bytes arrive as fast as they are written.
"""
from __future__ import annotations

import asyncio
import os
import tty


def raw_pty() -> tuple[int, int, str]:
    """One pty pair with the slave in raw mode: (master fd, slave fd, slave path)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


class PtyPair:
    """Two pty pairs joined master to master. Call `start(loop)` then `close()`."""

    def __init__(self) -> None:
        self._m1, self._s1, self.device_path = raw_pty()
        self._m2, self._s2, self.client_path = raw_pty()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Begin copying bytes both ways on `loop`."""
        self._loop = loop
        loop.add_reader(self._m1, self._copy, self._m1, self._m2)
        loop.add_reader(self._m2, self._copy, self._m2, self._m1)

    @staticmethod
    def _copy(src: int, dst: int) -> None:
        try:
            data = os.read(src, 4096)
            if data:
                os.write(dst, data)
        except OSError:      # a side went away; the link stays up for the next opener
            pass

    def close(self) -> None:
        """Stop copying and close every fd. Safe to call twice."""
        if self._loop is not None:
            for fd in (self._m1, self._m2):
                try:
                    self._loop.remove_reader(fd)
                except (ValueError, RuntimeError):
                    pass
            self._loop = None
        for fd in (self._m1, self._s1, self._m2, self._s2):
            try:
                os.close(fd)
            except OSError:
                pass
        self._m1 = self._s1 = self._m2 = self._s2 = -1
