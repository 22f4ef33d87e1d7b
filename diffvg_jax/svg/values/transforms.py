"""SVG transform lists, viewBox mappings and transform-origin -> float64 NumPy (3, 3) affine
matrices (last row [0, 0, 1]), and the few matrix operations load and save time need.

These run at load time in float64 NumPy, before any number becomes a float32 scene leaf;
the traceable JAX versions for rendering live in :mod:`diffvg_jax.geometry`."""
from __future__ import annotations

import math
import re

import numpy as np
import regex

from ..errors import FLOAT32_MAX
from .units import fmt32, length_or, parse_numbers, split_list

# possessive (linear-time) pattern of one transform item; its arguments are a number list
_ITEM = regex.compile(r"\s*+,?+\s*+(matrix|translate|scale|rotate|skewX|skewY)\s*+\(([^)]*+)\)\s*+,?+")
MAX_TRANSFORM_ITEMS = 1000   # items in one transform list
_ARGC = {"matrix": (6,), "translate": (1, 2), "scale": (1, 2), "rotate": (1, 3),
         "skewX": (1,), "skewY": (1,)}


def affine(a, b, c, d, e, f) -> np.ndarray:
    """The matrix of SVG's matrix(a b c d e f): x' = a x + c y + e, y' = b x + d y + f."""
    return np.array([[a, c, e], [b, d, f], [0.0, 0.0, 1.0]], dtype=np.float64)


def translate(tx, ty=0.0) -> np.ndarray:
    """Translation by (tx, ty) user units."""
    return affine(1, 0, 0, 1, tx, ty)


def scale(sx, sy=None) -> np.ndarray:
    """Scale by sx (and sy, default sx)."""
    return affine(sx, 0, 0, sx if sy is None else sy, 0, 0)


def rotate(deg, cx=0.0, cy=0.0) -> np.ndarray:
    """Rotation by ``deg`` degrees (clockwise on screen, y down) about (cx, cy)."""
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    r = affine(c, s, -s, c, 0, 0)
    return translate(cx, cy) @ r @ translate(-cx, -cy)


def parse_transform(text: str) -> np.ndarray:
    """Parse a transform list; ValueError naming the bad item if malformed."""
    m_total = np.eye(3)
    pos, text, items = 0, text.strip(), 0
    while pos < len(text):
        m = _ITEM.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"bad transform near {text[pos:pos + 20]!r}")
        items += 1
        if items > MAX_TRANSFORM_ITEMS:
            raise ValueError(f"transform list has more than {MAX_TRANSFORM_ITEMS} items")
        name, body = m.group(1), m.group(2)
        try:
            args = parse_numbers(body, f"{name} arguments")
        except ValueError as e:
            raise ValueError(f"bad arguments in {name}({body.strip()[:40]}): {e.args[0]}") from None
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
        if not np.all(np.abs(m_total) <= FLOAT32_MAX):
            raise ValueError(f"transform is not finite in float32 after {name}({body.strip()[:40]})")
        pos = m.end()
    return m_total


def format_matrix(m) -> str:
    """matrix(a b c d e f) text whose numbers parse back to the same float32 values."""
    m = np.asarray(m, dtype=np.float32)
    vals = (m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2])
    return "matrix(" + " ".join(fmt32(v) for v in vals) + ")"


def viewbox_transform(vb, viewport, par: str) -> np.ndarray:
    """SVG viewBox (x, y, w, h) + preserveAspectRatio text -> float64 (3, 3) matrix from
    viewBox units to the viewport rectangle (x, y, w, h)."""
    vx, vy, vw, vh = vb
    x, y, w, h = viewport
    toks = par.split()
    if toks and toks[0] == "defer":
        toks = toks[1:]
    align = toks[0] if toks else "xMidYMid"
    slice_ = len(toks) > 1 and toks[1] == "slice"
    sx, sy = w / vw, h / vh
    if align == "none":
        return _finite_matrix(np.array([[sx, 0, x - vx * sx], [0, sy, y - vy * sy], [0, 0, 1.0]]))
    s = max(sx, sy) if slice_ else min(sx, sy)
    m = re.match(r"x(Min|Mid|Max)Y(Min|Mid|Max)$", align)
    ax, ay = (m.group(1), m.group(2)) if m else ("Mid", "Mid")
    frac = {"Min": 0.0, "Mid": 0.5, "Max": 1.0}
    tx = x - vx * s + frac[ax] * (w - vw * s)
    ty = y - vy * s + frac[ay] * (h - vh * s)
    return _finite_matrix(np.array([[s, 0, tx], [0, s, ty], [0, 0, 1.0]]))


def _finite_matrix(m: np.ndarray) -> np.ndarray:
    """``m`` itself; ValueError when an entry is not finite in float32."""
    if not np.all(np.abs(m) <= FLOAT32_MAX):
        raise ValueError("viewBox mapping is not finite in float32 (viewBox too small or too large)")
    return m


def parse_transform_origin(text: str, viewport):
    """CSS transform-origin (keywords, lengths, %) -> (x, y) user units; % of ``viewport``
    (w, h); an invalid length counts as 0."""
    toks = split_list(text)[:2]
    if not toks:
        return 0.0, 0.0
    if len(toks) == 1:
        toks = ["center", toks[0]] if toks[0] in ("top", "bottom") else [toks[0], "center"]
    if toks[0] in ("top", "bottom") or toks[1] in ("left", "right"):
        toks = [toks[1], toks[0]]
    words = {"left": 0.0, "top": 0.0, "center": 50.0, "right": 100.0, "bottom": 100.0}

    def one(tok, ref):
        if tok in words:
            return words[tok] / 100.0 * ref
        return length_or(tok, 0.0, percent_of=ref)

    return one(toks[0], viewport[0]), one(toks[1], viewport[1])


def about(mat: np.ndarray, origin) -> np.ndarray:
    """``mat`` (3, 3) applied about the point ``origin`` (x, y) instead of (0, 0)."""
    ox, oy = origin
    return translate(ox, oy) @ mat @ translate(-ox, -oy)


def bbox_matrix(box) -> np.ndarray:
    """float64 (3, 3) mapping the unit square onto the box (x0, y0, x1, y1):
    objectBoundingBox units -> user units."""
    x0, y0, x1, y1 = box
    return np.array([[x1 - x0, 0.0, x0], [0.0, y1 - y0, y0], [0.0, 0.0, 1.0]])


def apply_affine(m: np.ndarray, pts) -> np.ndarray:
    """Points (..., 2) mapped by the (3, 3) affine ``m``, float64."""
    return np.asarray(pts, np.float64) @ m[:2, :2].T + m[:2, 2]


def invert(m: np.ndarray) -> np.ndarray:
    """float64 inverse of an invertible (3, 3) affine matrix.

    Not :func:`diffvg_jax.geometry.safe_inverse`: that one is traced JAX in the render
    dtype (float32) and zeroes singular matrices for gradients; here the matrix is a
    load-time float64 NumPy value (a viewport mapping, never singular) that becomes a
    float32 leaf only afterwards, so it must be inverted in float64 to load the same
    numbers."""
    return np.linalg.inv(m)
