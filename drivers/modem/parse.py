"""Helpers shared by the vendor parsers: field splitting and tolerant number parsing.

Every parser in this package raises only `ATParseError` (a ProtocolError) on bad input, whatever
the input is; these helpers are where that promise is kept. A field that is empty or ``-`` means
"not available" and becomes None.
"""
from __future__ import annotations

import math
import re

from drivers.errors import ProtocolError

_HEX = re.compile(r"^[0-9A-Fa-f]+$")
NOT_AVAILABLE = ("", "-", "--")


class ATParseError(ProtocolError):
    """A modem's reply does not have the layout its parser expects."""


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
    tok = tokens[i].strip().strip('"')
    return None if tok in NOT_AVAILABLE else tok


def opt_int(tokens: list[str], i: int, what: str, *, base: int = 10,
            lo: int | None = None, hi: int | None = None,
            invalid: tuple[int, ...] = ()) -> int | None:
    """Integer token i (None when absent); values in `invalid` (sentinels) become None."""
    tok = field(tokens, i)
    if tok is None:
        return None
    try:
        value = int(tok, base)
    except ValueError:
        raise ATParseError(f"{what}: expected an integer, got {tok!r}") from None
    if value in invalid:
        return None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ATParseError(f"{what}: {value} is outside {lo}..{hi}")
    return value


def opt_float(tokens: list[str], i: int, what: str, *, lo: float = -1e6, hi: float = 1e6,
              invalid: tuple[float, ...] = ()) -> float | None:
    """Decimal token i (None when absent); values in `invalid` become None."""
    tok = field(tokens, i)
    if tok is None:
        return None
    return to_float(tok, what, lo=lo, hi=hi, invalid=invalid)


def to_float(tok: str, what: str, *, lo: float = -1e6, hi: float = 1e6,
             invalid: tuple[float, ...] = ()) -> float | None:
    try:
        value = float(tok)
    except ValueError:
        raise ATParseError(f"{what}: expected a number, got {tok!r}") from None
    if not math.isfinite(value):
        raise ATParseError(f"{what}: expected a finite number, got {tok!r}")
    if value in invalid:
        return None
    if not lo <= value <= hi:
        raise ATParseError(f"{what}: {value:g} is outside {lo:g}..{hi:g}")
    return value


def opt_hex(tokens: list[str], i: int, what: str, max_digits: int = 16) -> str | None:
    """Hex token i as upper-case text without leading zeros lost (None when absent)."""
    tok = field(tokens, i)
    if tok is None:
        return None
    return hex_text(tok, what, max_digits)


def hex_text(tok: str, what: str, max_digits: int = 16) -> str:
    tok = tok.strip()
    if tok.lower().startswith("0x"):
        tok = tok[2:]
    if not _HEX.match(tok) or len(tok) > max_digits:
        raise ATParseError(f"{what}: expected a hex number, got {tok!r}")
    return tok.upper()


def opt_digits(tokens: list[str], i: int, what: str, max_len: int = 3) -> str | None:
    """A decimal code kept as text (MCC, MNC: "01" is not "1")."""
    tok = field(tokens, i)
    if tok is None:
        return None
    if not tok.isdigit() or not tok.isascii() or len(tok) > max_len:
        raise ATParseError(f"{what}: expected up to {max_len} digits, got {tok!r}")
    return tok


def band_name(rat: str, number: int | None) -> str | None:
    """Normalised band text: LTE ``B3``, NR ``n78``."""
    if number is None:
        return None
    return f"n{number}" if rat == "NR5G" else f"B{number}"
