"""The namespace forwarder's packet descriptions (bench/impair/ippacket.py): IPv4 and IPv6
headers built here field by field (RFC 791, RFC 8200, RFC 9293, RFC 768), addresses checked
against Python's `ipaddress` formatting (the code formats them with inet_ntop)."""
from __future__ import annotations

import ipaddress
import struct

from bench.impair.ippacket import describe


def _tcp(sport: int, dport: int, seq: int, flags: int, payload: bytes) -> bytes:
    # data offset 5 words (20 bytes), flags in byte 13
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + payload


def test_ipv4_tcp_syn_and_data() -> None:
    seg = _tcp(40000, 502, 123456789, 0x18, b"\x00\x01\x00\x00\x00\x06\x01\x03\x00\x00\x00\x0c")
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 1, 0x4000, 64, 6, 0,
                     ipaddress.IPv4Address("10.200.0.2").packed,
                     ipaddress.IPv4Address("10.200.0.1").packed)
    d = describe(ip + seg)
    assert d == {"proto": "tcp", "flags": "PA", "seq": 123456789, "payload": 12,
                 "src": "10.200.0.2:40000", "dst": "10.200.0.1:502"}
    syn = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0x4000, 64, 6, 0, bytes(4), bytes(4))
    assert describe(syn + _tcp(1, 2, 7, 0x02, b""))["flags"] == "S"


def test_ipv6_udp_and_short_packets() -> None:
    src, dst = ipaddress.IPv6Address("fd00::2"), ipaddress.IPv6Address("2001:db8::ff00:42:8329")
    udp = struct.pack("!HHHH", 5353, 9, 12, 0) + b"ping"
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(udp), 17, 64, src.packed, dst.packed)
    assert describe(ip + udp) == {"proto": "udp", "src": f"[{src}]:5353", "dst": f"[{dst}]:9"}
    assert describe(b"") == {"proto": "?"} and describe(b"\x45\x00") == {"proto": "?"}
