"""Helpers shared by the vendor parsers: field splitting and tolerant number parsing.

Two failure levels, because real firmware prints odd values (NR SINR in 0.1 dB steps, RSSI
without its minus sign, a PCI past its range) and one odd field must not throw a reading away:

- a reply that cannot be split into its documented layout at all (no line with the expected
  prefix, an unknown RAT or state) raises `ATParseError` (a ProtocolError);
- one field that does not fit (not a number, outside its documented range) becomes None, and a
  warning naming the field and the raw value is added to the `Warnings` list the parser was
  given. Without such a list (``warn=None``) the helpers are strict and raise ATParseError.

Every parser in this package raises only ATParseError on bad input, whatever the input is
(property-tested). A field that is empty or ``-`` means "not available" and becomes None
without a warning.
"""
from __future__ import annotations

import math
import re

from drivers.errors import ProtocolError

_HEX = re.compile(r"^[0-9A-Fa-f]+$")
NOT_AVAILABLE = ("", "-", "--", "---")

# Documented value ranges used to tell an odd field from a real value (3GPP TS 38.133 / 36.133
# reporting ranges, widened by a few dB: SS-RSRP -156..-31 dBm, SS-RSRQ -43..20 dB,
# SS-SINR -23..40 dB; LTE RSRP -140..-44 dBm, RSRQ -19.5..-3 dB, RSSNR -23..40 dB).
RSRP_RANGE = (-160.0, -25.0)
RSRQ_RANGE = (-45.0, 20.0)
SINR_RANGE = (-25.0, 45.0)
RSSI_RANGE = (-130.0, -10.0)
LTE_PCI_MAX = 503
NR_PCI_MAX = 1007
LTE_ARFCN_MAX = 262143
NR_ARFCN_MAX = 3279165
#: E-UTRAN cell identity is 28 bits, NR cell identity 36 bits (TS 36.331 / TS 38.331)
LTE_CELL_BITS = 28
NR_CELL_BITS = 36
TAC_BITS = 24


class ATParseError(ProtocolError):
    """A modem's reply does not have the layout its parser expects."""


Warnings = list[str]
"""Where a parser puts one line per odd field: ``'<field>: <raw value> <why>'``."""


def odd(warn: Warnings | None, what: str, message: str) -> None:
    """Record an odd field (None stays strict: raise ATParseError naming the field)."""
    text = f"{what}: {message}"
    if warn is None:
        raise ATParseError(text)
    warn.append(text)


def split_fields(text: str) -> list[str]:
    """Split a reply's parameters on commas, honouring double quotes; strips spaces and quotes.

    ``'"servingcell","NOCONN",214,01'`` -> ``['servingcell', 'NOCONN', '214', '01']``.
    """
    out: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def payloads(lines: list[str], prefix: str) -> list[str]:
    """The text after `prefix` (e.g. ``+QENG:``) of each line that starts with it."""
    stripped = (ln.strip() for ln in lines)
    return [ln[len(prefix):].strip() for ln in stripped if ln.startswith(prefix)]


def rows_of(lines: list[str], prefix: str) -> list[list[str]]:
    """The comma fields of every `prefix` line; ATParseError when the reply has none."""
    rows = [split_fields(p) for p in payloads(lines, prefix)]
    if not rows:
        raise ATParseError(f"no {prefix} line in the reply")
    return rows


def field(tokens: list[str], i: int) -> str | None:
    """Token i, or None when missing (trailing fields may be absent) or not available."""
    if i >= len(tokens):
        return None
    tok = tokens[i].strip().strip('"').strip()
    return None if tok in NOT_AVAILABLE else tok


def opt_int(tokens: list[str], i: int, what: str, *, base: int = 10,
            lo: int | None = None, hi: int | None = None,
            invalid: tuple[int, ...] = (), warn: Warnings | None = None) -> int | None:
    """Integer token i (None when absent); values in `invalid` (sentinels) become None.

    Not an integer, or outside lo..hi: an odd field (see module docstring)."""
    tok = field(tokens, i)
    if tok is None:
        return None
    try:
        value = int(tok, base)
    except ValueError:
        odd(warn, what, f"{tok!r} is not {'a hex' if base == 16 else 'an'} integer")
        return None
    if value in invalid:
        return None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        shown = tok if base == 10 else f"{tok} (= {value})"
        odd(warn, what, f"{shown} is outside {lo}..{hi}")
        return None
    return value


def opt_float(tokens: list[str], i: int, what: str, *, lo: float = -1e6, hi: float = 1e6,
              invalid: tuple[float, ...] = (), warn: Warnings | None = None) -> float | None:
    """Decimal token i (None when absent); values in `invalid` become None."""
    tok = field(tokens, i)
    if tok is None:
        return None
    return to_float(tok, what, lo=lo, hi=hi, invalid=invalid, warn=warn)


def to_float(tok: str, what: str, *, lo: float = -1e6, hi: float = 1e6,
             invalid: tuple[float, ...] = (), warn: Warnings | None = None) -> float | None:
    """A decimal text -> float; odd field when not a finite number or outside lo..hi."""
    try:
        value = float(tok)
    except ValueError:
        odd(warn, what, f"{tok!r} is not a number")
        return None
    if not math.isfinite(value):
        odd(warn, what, f"{tok!r} is not a finite number")
        return None
    if value in invalid:
        return None
    if not lo <= value <= hi:
        odd(warn, what, f"{tok} is outside {lo:g}..{hi:g}")
        return None
    return value


def opt_hex(tokens: list[str], i: int, what: str, bits: int = 64,
            warn: Warnings | None = None) -> str | None:
    """Hex token i as canonical upper-case hex text (None when absent); see `hex_text`."""
    tok = field(tokens, i)
    if tok is None:
        return None
    return hex_text(tok, what, bits, warn)


def hex_text(tok: str, what: str, bits: int = 64, warn: Warnings | None = None) -> str | None:
    """A hex identity (cell id, TAC) as canonical text: upper case, no ``0x``, no leading zeros.

    Modules print the same identity with different padding: Quectel pads an NR cell id to 9
    digits (``000BC614E``), Balong firmware pads it to 16 in +C5GREG (``0000000C027F5065``),
    Sierra pads an LTE cell id to 8 (``023E3E34``). The value is what identifies the cell, so
    the padding is dropped. Odd field when not hex or wider than `bits`."""
    text = tok.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    if not _HEX.match(text) or not text.isascii():
        odd(warn, what, f"{tok!r} is not a hex number")
        return None
    value = int(text, 16)
    if value >> bits:
        odd(warn, what, f"{tok} is wider than {bits} bits")
        return None
    return f"{value:X}"


def opt_digits(tokens: list[str], i: int, what: str, max_len: int = 3,
               warn: Warnings | None = None) -> str | None:
    """A decimal code kept as text (MCC, MNC: "01" is not "1")."""
    tok = field(tokens, i)
    if tok is None:
        return None
    if not tok.isdigit() or not tok.isascii() or len(tok) > max_len:
        odd(warn, what, f"{tok!r} is not up to {max_len} digits")
        return None
    return tok


def band_name(rat: str, number: int | None) -> str | None:
    """Normalised band text: LTE ``B3``, NR ``n78``."""
    if number is None:
        return None
    return f"n{number}" if rat == "NR5G" else f"B{number}"
