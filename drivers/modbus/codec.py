"""Conversions between physical values (mm, degrees, mm/s, plain counts) and 16-bit register words.

One place for every scale, sign and word-order rule of a register map field.
physical value = raw value x scale, where raw is the integer (or float32) the registers hold.
Failure modes: `ValueError` when a value does not fit the field's type, or a register list has the
wrong length.
"""
from __future__ import annotations

import math
import struct

# type name -> (registers, struct format of the big-endian bytes)
TYPES: dict[str, tuple[int, str]] = {
    "int16": (1, ">h"),
    "uint16": (1, ">H"),
    "int32": (2, ">i"),
    "uint32": (2, ">I"),
    "float32": (2, ">f"),
}
_INT_RANGES = {
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
}
WORD_ORDERS = ("big", "little")


def register_count(dtype: str) -> int:
    """Number of 16-bit registers a value of `dtype` occupies."""
    return TYPES[dtype][0]


def encode(value: float, dtype: str, scale: float = 1.0, word_order: str = "big") -> list[int]:
    """Physical `value` -> register words. Raises ValueError when out of the type's range."""
    if not math.isfinite(value):
        raise ValueError(f"cannot encode {value!r}")
    count, fmt = TYPES[dtype]
    if not math.isfinite(value / scale):
        raise ValueError(f"{value} is outside {dtype} range at scale {scale}")
    if dtype == "float32":
        raw: float | int = value / scale
        if abs(raw) > 3.4e38:
            raise ValueError(f"{value} does not fit float32")
    else:
        raw = round(value / scale)
        lo, hi = _INT_RANGES[dtype]
        if not lo <= raw <= hi:
            raise ValueError(f"{value} (raw {raw}) is outside {dtype} range {lo}..{hi} "
                             f"at scale {scale}")
    data = struct.pack(fmt, raw)
    words = [int.from_bytes(data[i:i + 2], "big") for i in range(0, 2 * count, 2)]
    if word_order == "little":
        words.reverse()
    return words


def decode(words: list[int], dtype: str, scale: float = 1.0, word_order: str = "big") -> float:
    """Register words -> physical value. Raises ValueError on a wrong word count or word range."""
    count, fmt = TYPES[dtype]
    if len(words) != count:
        raise ValueError(f"{dtype} needs {count} registers, got {len(words)}")
    if any(not 0 <= w <= 0xFFFF for w in words):
        raise ValueError(f"register values must be 0..65535, got {words}")
    ordered = list(reversed(words)) if word_order == "little" else list(words)
    raw = struct.unpack(fmt, b"".join(w.to_bytes(2, "big") for w in ordered))[0]
    return raw * scale
