"""The two checksums instrument protocols use, table-driven (built once at import).

* CRC-16/ARC (NDI Combined API): polynomial x^16+x^15+x^2+1, reflected (0xA001), init 0, no final
  XOR; check value over b"123456789" = 0xBB3D. Sources: PlusToolkit/ndicapi `ndicapi.cxx`
  `CalcCRC16`, jhu-saw/sawNDITracker `mtsNDISerial.cpp` `ComputeCRC`; constants such as
  CRC("INIT:") = 0xE3A5 and CRC("OKAY") = 0xA896 are in every NDI log (tests/data/ndi/).
* CRC-64/ECMA-182 (OpenIGTLink header): polynomial 0x42F0E1EBA9EA3693, MSB first, init 0, no final
  XOR; check value 0x6C40DF5F0B497347. Source: openigtlink/OpenIGTLink
  `Documents/Protocol/header.md`
  and `Source/igtlutil/igtl_util.c`.
"""
from __future__ import annotations


def _table16() -> list[int]:
    out = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
        out.append(c)
    return out


def _table64() -> list[int]:
    poly, mask = 0x42F0E1EBA9EA3693, (1 << 64) - 1
    out = []
    for n in range(256):
        c = n << 56
        for _ in range(8):
            c = ((c << 1) ^ poly) & mask if c & (1 << 63) else (c << 1) & mask
        out.append(c)
    return out


_T16 = _table16()
_T64 = _table64()


def crc16_arc(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC of `data` (continuing from `crc`), 0..0xFFFF."""
    t = _T16
    for b in data:
        crc = (crc >> 8) ^ t[(crc ^ b) & 0xFF]
    return crc


def crc64_ecma(data: bytes, crc: int = 0) -> int:
    """CRC-64/ECMA-182 (MSB first, init 0) of `data`, as OpenIGTLink puts it in its header."""
    t, mask = _T64, (1 << 64) - 1
    for b in data:
        crc = ((crc << 8) & mask) ^ t[((crc >> 56) ^ b) & 0xFF]
    return crc
