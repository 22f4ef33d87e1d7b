"""SVG lengths, number lists, fractions and opacities -> float64 user units (px) / floats,
resolved as resvg does; and floats -> the decimal text save_svg writes (fmt32 / fmt64).

Absolute units at 96 dpi: 1in = 96px, 1cm = 96/2.54, 1mm = 96/25.4, 1pt = 4/3, 1pc = 16.
``em`` is the element's font-size (default 12, resvg's), ``ex`` half of it, ``%`` a
fraction of a reference length the caller supplies (viewport width, height or their
normalised diagonal sqrt((w^2 + h^2) / 2), per the SVG spec).
"""
from __future__ import annotations

import math
from typing import List, Optional

import numpy as np
import regex

from ..errors import FLOAT32_MAX

DEFAULT_FONT_SIZE = 12.0

_ABS = {"": 1.0, "px": 1.0, "in": 96.0, "cm": 96.0 / 2.54, "mm": 96.0 / 25.4,
        "pt": 4.0 / 3.0, "pc": 16.0}
# Linear-time patterns (the ``regex`` package): possessive quantifiers never give back what
# they matched, so a number, a length or a list is read in one pass whatever follows it.
NUMBER = r"[+-]?+(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][+-]?+\d++)?+"
_LENGTH = regex.compile(rf"\s*+({NUMBER})\s*+(px|in|cm|mm|pt|pc|em|ex|%)?+\s*+")
_NUM_RE = regex.compile(NUMBER)
_SEP = regex.compile(r"[\s,]*+")


def finite(value: float, what: str) -> float:
    """``value`` itself; ValueError naming ``what`` when it is inf or nan, or too large
    for float32 (every number read from a file becomes a float32 scene leaf)."""
    if not abs(value) <= FLOAT32_MAX:
        raise ValueError(f"non-finite {what}" if not math.isfinite(value)
                         else f"{what} is too large for float32")
    return value


def parse_float(text: str, what: str = "number") -> float:
    """One SVG number (no 'nan', 'inf', '1_0' as Python's float() would take), finite in
    float32; ValueError naming ``what`` otherwise."""
    m = _NUM_RE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"bad {what} {text.strip()[:40]!r}")
    return finite(float(m.group(0)), f"{what} {text.strip()[:40]!r}")


def parse_length(text: str, *, font_size: float = DEFAULT_FONT_SIZE,
                 percent_of: Optional[float] = None) -> float:
    """One length in px. ValueError if malformed, non-finite, or a % without a reference."""
    m = _LENGTH.fullmatch(text)
    if not m:
        raise ValueError(f"bad length {text.strip()[:40]!r}")
    value = float(m.group(1))
    unit = m.group(2) or ""
    if unit in _ABS:
        out = value * _ABS[unit]
    elif unit == "em":
        out = value * font_size
    elif unit == "ex":
        out = value * font_size / 2.0
    else:
        if percent_of is None:
            raise ValueError(f"percentage {text.strip()[:40]!r} not allowed here")
        out = value / 100.0 * percent_of
    return finite(out, f"length {text.strip()[:40]!r}")


def split_list(text: str) -> List[str]:
    """Tokens of a comma / whitespace separated list."""
    return text.replace(",", " ").split()


def parse_numbers(text: str, what: str = "number list") -> List[float]:
    """All numbers of a list such as points="1,2 3-4" (SVG allows '3-4' as two numbers).

    Stops at the first character that is not part of a number list and raises ValueError
    with the numbers read so far available as ``err.args[1]``."""
    out, pos, n = [], 0, len(text)
    while True:
        pos = _SEP.match(text, pos).end()
        if pos >= n:
            return out
        m = _NUM_RE.match(text, pos)
        if not m:
            raise ValueError(f"bad {what} near {text[pos:pos + 12]!r}", out)
        v = float(m.group(0))
        if not abs(v) <= FLOAT32_MAX:
            raise ValueError(f"non-finite (in float32) value in {what}", out)
        out.append(v)
        pos = m.end()


def length_or(text: Optional[str], default, *, font_size: float = DEFAULT_FONT_SIZE,
              percent_of: Optional[float] = None):
    """``parse_length`` in px, or ``default`` when ``text`` is None or not a valid length."""
    if text is None:
        return default
    try:
        return parse_length(text, font_size=font_size, percent_of=percent_of)
    except ValueError:
        return default


def viewport_diagonal(w: float, h: float) -> float:
    """The normalised diagonal sqrt((w^2 + h^2) / 2) of a viewport (user units), the
    reference of percentages that are neither horizontal nor vertical."""
    return math.sqrt((w * w + h * h) / 2.0)


def parse_fraction(text: str) -> float:
    """A number or a percentage as a fraction ('50%' -> 0.5, '0.5' -> 0.5). ValueError if
    malformed or not finite in float32."""
    t = text.strip()
    return parse_float(t[:-1], "percentage") / 100.0 if t.endswith("%") else parse_float(t)


def parse_opacity(text) -> Optional[float]:
    """An opacity (number or %) clamped to [0, 1]; None when ``text`` is missing, malformed
    or not finite."""
    try:
        v = parse_fraction(text)
    except (ValueError, AttributeError):
        return None
    if not math.isfinite(v):
        return None
    return min(max(v, 0.0), 1.0)


def parse_offset(text: str) -> float:
    """A gradient stop offset (number or %) clamped to [0, 1]; 0 when invalid."""
    v = parse_opacity(text)
    return 0.0 if v is None else v


# ---------------------------------------------------------------------------------------
# numbers -> text (save_svg)
# ---------------------------------------------------------------------------------------


def fmt32(v) -> str:
    """Shortest decimal text that reads back (as float32) to the float32 ``v``."""
    s = np.format_float_positional(np.float32(v), unique=True, trim="-")
    if len(s) > 24:  # huge or tiny: scientific is shorter and still exact
        s = np.format_float_scientific(np.float32(v), unique=True, trim="-")
    return s


def fmt64(v) -> str:
    """Decimal text of a float64 that reads back exactly (for derived values such as widths)."""
    return repr(float(v))
