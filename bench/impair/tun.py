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
import mmap
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
SO_TIMESTAMPNS = 35
SKF_AD_PKTTYPE = 0xFFFFF000 + 4           # SKF_AD_OFF + SKF_AD_PKTTYPE
#: bytes of each packet copy kept: enough to tell packets apart (IP and TCP/UDP headers)
TAP_SNAP = 96
#: the tap's receive ring (linux/if_packet.h, PACKET_RX_RING with TPACKET_V2): TAP_FRAMES frames
#: of TAP_FRAME bytes (a tpacket2_hdr and sockaddr_ll, aligned to 80 bytes, then the copy),
#: 16 to a page-sized block, so frame i starts at i * TAP_FRAME
SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_VERSION = 10
TPACKET_V2 = 1
TP_STATUS_USER = 1
TAP_FRAME = 256
TAP_BLOCK = 4096
TAP_FRAMES = 1024
#: tpacket2_hdr: tp_status, tp_len, tp_snaplen, tp_mac, tp_net, tp_sec, tp_nsec
_TP2 = struct.Struct("IIIHHII")


class Tap:
    """Copies (cut to TAP_SNAP bytes) of every packet the kernel sends out of a device, each
    with the moment it was sent (CLOCK_REALTIME ns, stamped by the kernel when it hands the
    packet to the device): the moment the packet entered the link, which a read of the TUN
    device cannot tell (its reader wakes up later). The copies come through a ring of frames
    shared with the kernel (PACKET_RX_RING): taking one is a read of memory, not a system call,
    which matters on the path of an undelayed packet."""

    def __init__(self, sock: socket.socket, ring: mmap.mmap) -> None:
        self.sock = sock
        self.ring = ring
        self._next = 0

    def take(self) -> tuple[bytes, int] | None:
        """The oldest copy not yet taken and its stamp (ns, CLOCK_REALTIME); None if none."""
        off = self._next * TAP_FRAME
        status, _, snaplen, mac, _, sec, nsec = _TP2.unpack_from(self.ring, off)
        if not status & TP_STATUS_USER:
            return None
        data = self.ring[off + mac:off + mac + snaplen]
        self.ring[off:off + 4] = b"\0\0\0\0"          # TP_STATUS_KERNEL: the frame is free
        self._next = (self._next + 1) % TAP_FRAMES
        return data, sec * 1_000_000_000 + nsec

    def close(self) -> None:
        self.ring.close()
        self.sock.close()


def open_tap(dev: str) -> Tap:
    """A tap (`Tap`) on `dev` (in this thread's namespace). A classic BPF filter (ld pkttype;
    jeq OUTGOING) keeps the packets written into the device out. OSError without CAP_NET_RAW or
    where the kernel has no packet rings."""
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
        # software stamps on (as SO_TIMESTAMPNS does for a socket): the kernel stamps each
        # copy when it hands it to the taps
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        blocks = TAP_FRAMES * TAP_FRAME // TAP_BLOCK
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING,
                        struct.pack("IIII", TAP_BLOCK, blocks, TAP_FRAME, TAP_FRAMES))
        ring = mmap.mmap(sock.fileno(), TAP_BLOCK * blocks, mmap.MAP_SHARED,
                         mmap.PROT_READ | mmap.PROT_WRITE)
        sock.bind((dev, ETH_P_ALL))
    except OSError:
        sock.close()
        raise
    return Tap(sock, ring)
