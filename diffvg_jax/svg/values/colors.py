"""CSS colour syntax -> straight RGBA floats in [0, 1].

Accepted: the CSS named colours, ``transparent``, ``#rgb``, ``#rgba``, ``#rrggbb``,
``#rrggbbaa``, ``rgb()`` / ``rgba()`` with numbers or percentages (comma or space
separated, optional ``/ alpha``), ``hsl()`` / ``hsla()``. Channel values are clamped as
CSS does. A trailing ``icc-color(...)`` is ignored (its sRGB fallback is used).
"""
from __future__ import annotations

import colorsys
import re
from typing import Tuple

from PIL import ImageColor

from .units import fmt32, parse_float, split_list

RGBA = Tuple[float, float, float, float]

# PIL carries the CSS colour keyword table (CSS Color 3 + rebeccapurple); reuse the data.
_NAMED = {name: ImageColor.colormap[name] for name in ImageColor.colormap}
_FUNCS = ("rgba", "rgb", "hsla", "hsl")
_HEX = re.compile(r"#([0-9a-fA-F]{3,8})")
MAX_COLOR_CHARS = 1000   # a longer value is not a colour (checked before any parsing)


def _clamp01(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def _number(tok: str, what: str) -> float:
    return parse_float(tok, what)


def _function(s: str, low: str):
    """(kind, body) of 'rgb(...)' style text, or None: split by hand, in linear time."""
    if not low.endswith(")"):
        return None
    for kind in _FUNCS:
        if low.startswith(kind + "("):
            return kind, s[len(kind) + 1:-1].strip()
    return None


def _channel(tok: str) -> float:
    if tok.endswith("%"):
        return _clamp01(_number(tok[:-1], "colour percentage") / 100.0)
    return _clamp01(_number(tok, "colour channel") / 255.0)


def _alpha(tok: str) -> float:
    if tok.endswith("%"):
        return _clamp01(_number(tok[:-1], "alpha percentage") / 100.0)
    return _clamp01(_number(tok, "alpha"))


def parse_color(text: str) -> RGBA:
    """Parse one CSS colour (no 'currentColor', no 'none'); ValueError if it is not one."""
    s = text.strip()
    if len(s) > MAX_COLOR_CHARS:
        raise ValueError(f"not a CSS colour: {s[:40]!r}... ({len(s)} characters)")
    low = s.lower()
    if "icc-color(" in low:
        s = s[:low.index("icc-color(")].strip()
        low = s.lower()
    if low == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    if low in _NAMED:
        s = _NAMED[low]
        low = s
    m = _HEX.fullmatch(s)
    if m:
        h = m.group(1)
        if len(h) in (3, 4):
            vals = [int(c * 2, 16) for c in h]
        elif len(h) in (6, 8):
            vals = [int(h[i:i + 2], 16) for i in range(0, len(h), 2)]
        else:
            raise ValueError(f"bad hex colour {text.strip()!r}")
        if len(vals) == 3:
            vals.append(255)
        return tuple(v / 255.0 for v in vals)
    got = _function(s, low)
    if got is None:
        raise ValueError(f"not a CSS colour: {text.strip()[:40]!r}")
    kind, body = got
    if "/" in body:
        main, _, alpha = body.partition("/")
        parts = split_list(main) + [alpha.strip()]
    else:
        parts = split_list(body)
    if len(parts) not in (3, 4):
        raise ValueError(f"{kind}() needs 3 or 4 values: {text.strip()!r}")
    a = _alpha(parts[3]) if len(parts) == 4 else 1.0
    if kind.startswith("rgb"):
        if len({p.endswith("%") for p in parts[:3]}) > 1:
            raise ValueError(f"{kind}() mixes numbers and percentages: {text.strip()!r}")
        r, g, b = (_channel(p) for p in parts[:3])
        return (r, g, b, a)
    hue = _number(parts[0].rstrip("deg") if parts[0].endswith("deg") else parts[0], "hue")
    sat = _clamp01(_number(parts[1].rstrip("%"), "saturation") / 100.0)
    light = _clamp01(_number(parts[2].rstrip("%"), "lightness") / 100.0)
    r, g, b = colorsys.hls_to_rgb((hue / 360.0) % 1.0, light, sat)
    return (r, g, b, a)


def _percentages(rgb) -> str:
    return ", ".join(f"{float(c) * 100.0!r}%" for c in rgb[:3])


def format_color(rgb) -> str:
    """rgb(r%, g%, b%) text that parses back to the same float32 channels (float32 rgb)."""
    return "rgb(" + _percentages(rgb) + ")"


def format_rgba(rgba) -> str:
    """rgba(r%, g%, b%, a) text that parses back to the same float32 (4,) ``rgba``."""
    return "rgba(" + _percentages(rgba) + f", {fmt32(rgba[3])})"
