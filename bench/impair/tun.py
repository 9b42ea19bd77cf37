"""TUN devices and network-namespace switching for the namespace forwarder (`netns.py`), with the
standard library only (fcntl ioctl, ctypes setns): the whole TUN API needed is one ioctl, which
does not earn a C-extension dependency (python-pytun); the netlink side uses pyroute2.

A TUN device belongs to the network namespace its file was opened in, and it is destroyed when
its last file descriptor closes (it is not made persistent): so a device cannot outlive the
process that holds it, even after SIGKILL, and the kernel removes its addresses and routes with it.
Linux: `TUNSETIFF` (include/uapi/linux/if_tun.h), setns(2), clone(2) flags.
Failure modes: OSError from open/ioctl/setns (callers turn it into one line, see netns.py).
"""
from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import socket
import struct
from collections.abc import Iterator

TUNSETIFF = 0x400454CA          # _IOW('T', 202, int)
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000              # no 4-byte packet-information header: reads are bare IP packets
CLONE_NEWNET = 0x40000000
IFNAMSIZ = 16

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    """Move the calling thread into the namespace open at `fd` (setns(2)); OSError on failure."""
    if _libc.setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def in_netns(path: str) -> Iterator[None]:
    """Run the block with this thread in the network namespace at `path` (e.g.
    /proc/PID/ns/net), and come back to the current one afterwards, also on errors."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(path, os.O_RDONLY)
    try:
        setns(target)
        try:
            yield
        finally:
            setns(home)
    finally:
        os.close(target)
        os.close(home)


def open_tun(name: str) -> int:
    """Create TUN device `name` in this thread's network namespace; returns its non-blocking fd.

    The device has no address and is down; it disappears when the fd is closed.
    """
    if len(name.encode()) >= IFNAMSIZ:
        raise ValueError(f"interface name {name!r} longer than {IFNAMSIZ - 1} bytes")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    os.set_blocking(fd, False)
    return fd


def disable_ipv6(dev: str) -> None:
    """Keep the kernel from sending IPv6 router solicitations and the like on `dev` (in this
    thread's namespace), so only the program's own packets cross the link; ignored without IPv6."""
    with contextlib.suppress(OSError):
        with open(f"/proc/sys/net/ipv6/conf/{dev}/disable_ipv6", "w") as fh:
            fh.write("1")


#: AF_PACKET (linux/if_packet.h, linux/filter.h): the pkttype of a packet the host sends
PACKET_OUTGOING = 4
ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
SKF_AD_PKTTYPE = 0xFFFFF000 + 4           # SKF_AD_OFF + SKF_AD_PKTTYPE
#: bytes of each packet copy kept: enough to tell packets apart (IP and TCP/UDP headers)
TAP_SNAP = 96


def open_tap(dev: str) -> socket.socket:
    """A packet socket on `dev` (in this thread's namespace) that receives a copy, cut to
    TAP_SNAP bytes, of every packet the kernel sends out of it, stamped on transmission
    (SO_TIMESTAMPNS): the moment the packet entered the link, which a read of the TUN device
    cannot tell (its reader wakes up later). A classic BPF filter (ld pkttype; jeq OUTGOING)
    keeps the packets written into the device out. Non-blocking; OSError without CAP_NET_RAW."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)     # nothing until bound
    try:
        prog = struct.pack("HBBI" * 4,
                           0x20, 0, 0, SKF_AD_PKTTYPE,          # ld [pkttype]
                           0x15, 0, 1, PACKET_OUTGOING,         # jeq #OUTGOING, keep, drop
                           0x06, 0, 0, TAP_SNAP,                # keep: ret #snap
                           0x06, 0, 0, 0)                       # drop: ret #0
        buf = ctypes.create_string_buffer(prog)
        fprog = struct.pack("HL", 4, ctypes.addressof(buf))
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
        sock.bind((dev, ETH_P_ALL))
        sock.setsockopt(socket.SOL_SOCKET, 35, 1)            # SO_TIMESTAMPNS (rxstamp.py)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
