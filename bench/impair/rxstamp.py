"""When a message really arrived: the kernel's receive timestamp of a socket (SO_TIMESTAMPNS),
so that a proxy's own wake-up and read do not count as part of the delay it injects.

Linux stamps every packet on arrival (CLOCK_REALTIME, a struct timespec of two 64-bit longs,
asm-generic/socket.h: SO_TIMESTAMPNS = SCM_TIMESTAMPNS = 35) and returns the stamp with
`recvmsg`: for a datagram its own, for a TCP read the stamp of the last segment read (tcp(7)).
The age of the stamp is taken on the wall clock and subtracted from the monotonic read time, so
the result is on CLOCK_MONOTONIC like everything else in the bench.
Failure modes: none raised here; without stamps (another OS, an old kernel, a wall-clock step
of a second or more) the read time is used.
"""
from __future__ import annotations

import socket
import struct
import time
from typing import Any

from bench.impair.loop import now_ns

SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("qq")
_ANC = socket.CMSG_SPACE(_TIMESPEC.size)


def enable(sock: socket.socket) -> None:
    """Ask the kernel to stamp what `sock` receives; silently nothing where unsupported."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    except OSError:
        pass


def recv(sock: socket.socket, size: int = 65536) -> tuple[bytes, Any, int]:
    """(data, sender address or None, arrival in monotonic ns) of one `recvmsg`. Raises what
    `recvmsg` raises (BlockingIOError on a non-blocking socket with nothing to read)."""
    data, anc, _, addr = sock.recvmsg(size, _ANC)
    now = now_ns()
    for level, kind, raw in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(raw) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack(raw[:_TIMESPEC.size])
            age = time.time_ns() - (sec * 1_000_000_000 + nsec)
            if 0 <= age < 1_000_000_000:          # ignore a wall-clock step
                return data, addr, now - age
    return data, addr, now
