"""Just enough of an IP header to name a packet in the event log: protocol, source and
destination (with ports for TCP and UDP), and for TCP the flags, sequence number and payload
length (so a retransmission shows as the same `seq` again). Header layouts: RFC 791 (IPv4),
RFC 8200 (IPv6 fixed header), RFC 9293 (TCP flags in byte 13), RFC 768 (UDP ports).
Never raises: a packet too short to parse is described as {"proto": "?"}. Addresses are
formatted by the C library (inet_ntop; the `ipaddress` module took 20 us a packet here).
"""
from __future__ import annotations

import socket
from typing import Any

PROTOS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}
_TCP_FLAGS = "FSRPAUEC"          # bit 0 = FIN ... bit 7 = CWR


def describe(pkt: bytes) -> dict[str, Any]:
    """{"proto", "src", "dst"[, "flags", "seq", "payload"]} of an IPv4/IPv6 packet; ports as
    "addr:port"; for IPv4 the payload length counts from the TCP header to the packet's end."""
    if not pkt:
        return {"proto": "?"}
    version = pkt[0] >> 4
    if version == 4 and len(pkt) >= 20:
        ihl = (pkt[0] & 0x0F) * 4
        proto = pkt[9]
        src = socket.inet_ntop(socket.AF_INET, pkt[12:16])
        dst = socket.inet_ntop(socket.AF_INET, pkt[16:20])
        first_fragment = (int.from_bytes(pkt[6:8], "big") & 0x1FFF) == 0
        l4 = ihl if first_fragment else -1
    elif version == 6 and len(pkt) >= 40:
        proto = pkt[6]
        src = f"[{socket.inet_ntop(socket.AF_INET6, pkt[8:24])}]"
        dst = f"[{socket.inet_ntop(socket.AF_INET6, pkt[24:40])}]"
        l4 = 40                 # extension headers are not followed: ports only without them
    else:
        return {"proto": "?"}
    out: dict[str, Any] = {"proto": PROTOS.get(proto, str(proto))}
    if proto in (6, 17) and l4 >= 0 and len(pkt) >= l4 + 4:
        sport = int.from_bytes(pkt[l4:l4 + 2], "big")
        dport = int.from_bytes(pkt[l4 + 2:l4 + 4], "big")
        src, dst = f"{src}:{sport}", f"{dst}:{dport}"
        if proto == 6 and len(pkt) >= l4 + 14:
            bits = pkt[l4 + 13]
            out["flags"] = "".join(c for i, c in enumerate(_TCP_FLAGS) if bits >> i & 1)
            out["seq"] = int.from_bytes(pkt[l4 + 4:l4 + 8], "big")
            out["payload"] = max(0, len(pkt) - l4 - (pkt[l4 + 12] >> 4) * 4)
    out["src"], out["dst"] = src, dst
    return out
