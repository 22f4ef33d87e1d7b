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

from .units import fmt32

RGBA = Tuple[float, float, float, float]

# PIL carries the CSS colour keyword table (CSS Color 3 + rebeccapurple); reuse the data.
_NAMED = {name: ImageColor.colormap[name] for name in ImageColor.colormap}
_FUNC = re.compile(r"^(rgba?|hsla?)\(\s*(.*?)\s*\)$", re.S | re.I)
_HEX = re.compile(r"^#([0-9a-fA-F]{3,8})$")


def _clamp01(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def _number(tok: str, what: str) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise ValueError(f"bad {what} {tok!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"non-finite {what} {tok!r}")
    return v


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
    low = s.lower()
    if "icc-color(" in low:
        s = s[:low.index("icc-color(")].strip()
        low = s.lower()
    if low == "transparent":
        return (0.0, 0.0, 0.0, 0.0)
    if low in _NAMED:
        s = _NAMED[low]
        low = s
    m = _HEX.match(s)
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
    m = _FUNC.match(s)
    if not m:
        raise ValueError(f"not a CSS colour: {text.strip()!r}")
    kind, body = m.group(1).lower(), m.group(2)
    if "/" in body:
        main, _, alpha = body.partition("/")
        parts = [p for p in re.split(r"[\s,]+", main.strip()) if p] + [alpha.strip()]
    else:
        parts = [p for p in re.split(r"\s*,\s*|\s+", body) if p]
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
