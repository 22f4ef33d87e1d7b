"""SVG transform lists -> float64 (3, 3) affine matrices (last row [0, 0, 1])."""
from __future__ import annotations

import math
import re

import numpy as np

from .units import NUMBER, finite

_ITEM = re.compile(r"\s*,?\s*(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)\s*,?", re.S)
_ARGC = {"matrix": (6,), "translate": (1, 2), "scale": (1, 2), "rotate": (1, 3),
         "skewX": (1,), "skewY": (1,)}


def affine(a, b, c, d, e, f) -> np.ndarray:
    """The matrix of SVG's matrix(a b c d e f): x' = a x + c y + e, y' = b x + d y + f."""
    return np.array([[a, c, e], [b, d, f], [0.0, 0.0, 1.0]], dtype=np.float64)


def translate(tx, ty=0.0) -> np.ndarray:
    return affine(1, 0, 0, 1, tx, ty)


def scale(sx, sy=None) -> np.ndarray:
    return affine(sx, 0, 0, sx if sy is None else sy, 0, 0)


def rotate(deg, cx=0.0, cy=0.0) -> np.ndarray:
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    r = affine(c, s, -s, c, 0, 0)
    return translate(cx, cy) @ r @ translate(-cx, -cy)


def parse_transform(text: str) -> np.ndarray:
    """Parse a transform list; ValueError naming the bad item if malformed."""
    m_total = np.eye(3)
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _ITEM.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"bad transform near {text[pos:pos + 20]!r}")
        name, body = m.group(1), m.group(2)
        tokens = re.findall(NUMBER, body)
        if re.sub(NUMBER, "", body).replace(",", "").strip():
            raise ValueError(f"bad arguments in {name}({body.strip()})")
        args = [finite(float(t), f"{name} argument") for t in tokens]
        if len(args) not in _ARGC[name]:
            raise ValueError(f"{name}() takes {' or '.join(map(str, _ARGC[name]))} numbers, got {len(args)}")
        if name == "matrix":
            mat = affine(*args)
        elif name == "translate":
            mat = translate(*args)
        elif name == "scale":
            mat = scale(*args)
        elif name == "rotate":
            mat = rotate(*args)
        elif name == "skewX":
            mat = affine(1, 0, math.tan(math.radians(args[0])), 1, 0, 0)
        else:
            mat = affine(1, math.tan(math.radians(args[0])), 0, 1, 0, 0)
        m_total = m_total @ mat
        pos = m.end()
    return m_total


def format_matrix(m) -> str:
    """matrix(a b c d e f) text whose numbers parse back to the same float32 values."""
    m = np.asarray(m, dtype=np.float32)
    vals = (m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2])
    return "matrix(" + " ".join(fmt32(v) for v in vals) + ")"


def fmt32(v) -> str:
    """Shortest decimal text that reads back (as float32) to the float32 ``v``."""
    s = np.format_float_positional(np.float32(v), unique=True, trim="-")
    if len(s) > 24:  # huge or tiny: scientific is shorter and still exact
        s = np.format_float_scientific(np.float32(v), unique=True, trim="-")
    return s


def fmt64(v) -> str:
    """Decimal text of a float64 that reads back exactly (for derived values such as widths)."""
    return repr(float(v))
