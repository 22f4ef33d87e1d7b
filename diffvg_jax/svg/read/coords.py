"""Coordinates of elements for load_svg: lengths in user units (px), viewBoxes, and
transforms (with CSS transform-origin) as float64 (3, 3) matrices."""
from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import numpy as np

from ..dom.xmlsafe import Node
from ..errors import describe
from ..values.transforms import about, parse_transform, parse_transform_origin
from ..values.units import length_or, parse_length, parse_numbers, viewport_diagonal
from .styles import dom_style, specified

Viewport = Tuple[float, float]   # (w, h) user units: the reference of percentages
MIN_VIEWBOX = 1e-30   # a smaller viewBox size is ignored: its scale would not fit float32


def length(loader, node: Node, attr: str, viewport: Viewport, axis: int, default, style=None):
    """Attribute ``attr`` as a length in user units; ``axis`` 0 / 1 / 2 picks the viewport
    width, height or diagonal for %. Missing: ``default``; invalid: a warning and ``default``."""
    text = node.attrs.get(attr)
    if text is None:
        return default
    fs = float(style["font-size"]) if style else float(dom_style(loader, node)["font-size"])
    ref = viewport[axis] if axis in (0, 1) else viewport_diagonal(*viewport)
    try:
        return parse_length(text, font_size=fs, percent_of=ref)
    except ValueError as e:
        loader.warn(f"{describe(node)}: {attr}: {e} (using the default)")
        return default


def positive32(lo, hi) -> bool:
    """True when the box lo..hi (float64 (2,) corners) still has a positive size once its
    corners are stored as float32 (the scene's p_min / p_max): a box that is empty in
    float32 is dropped at load, as save_svg would write it and load would read it back."""
    with np.errstate(over="ignore"):   # (an overflow is refused by the finite checks)
        lo32, hi32 = np.asarray(lo, np.float64).astype(np.float32), np.asarray(hi, np.float64).astype(np.float32)
    return bool(np.all(hi32 > lo32))


def diagonal_length(loader, text: str, viewport: Viewport, fs: float, default: float, node: Node,
                    what: str) -> float:
    """A property length (stroke-width, ...) with % of the viewport diagonal; invalid: a
    warning naming ``what`` and ``default``."""
    try:
        return parse_length(text, font_size=fs, percent_of=viewport_diagonal(*viewport))
    except ValueError as e:
        loader.warn(f"{describe(node)}: {what}: {e} (using {default})")
        return default


def axis_length(text: Optional[str], viewport: Viewport, axis: int) -> Optional[float]:
    """A length with % of viewport[axis]; None when missing or invalid (no warning)."""
    return length_or(text, None, percent_of=viewport[axis])


def viewbox(loader, node: Node) -> Optional[Tuple[float, float, float, float]]:
    """The element's viewBox (x, y, w, h), or None (missing, or invalid with a warning)."""
    text = node.attrs.get("viewBox")
    if text is None:
        return None
    try:
        vals = parse_numbers(text, "viewBox")
    except ValueError as e:
        loader.warn(f"{describe(node)}: viewBox: {e.args[0]} (ignored)")
        return None
    if len(vals) != 4 or not (vals[2] >= MIN_VIEWBOX and vals[3] >= MIN_VIEWBOX):
        loader.warn(f"{describe(node)}: viewBox {text.strip()!r} must be 4 numbers with a size of at least {MIN_VIEWBOX} (ignored)")
        return None
    return tuple(vals)


def transform_of(loader, node: Node, style, viewport: Viewport) -> np.ndarray:
    """float64 (3, 3) of the element's transform (a CSS transform overrides the attribute)."""
    text = node.attrs.get("transform")
    css_t = specified(loader, node).get("transform")
    if css_t is not None:
        text = None if css_t == "none" else css_t
    return transform_about_origin(loader, node, text, "transform", viewport)


def transform_about_origin(loader, node: Node, text: Optional[str], attr: str,
                           viewport: Union[Viewport, Callable[[], Viewport]]) -> np.ndarray:
    """float64 (3, 3) of a transform list ``text`` (None: identity) applied about the
    node's CSS transform-origin; a bad list warns, naming ``attr``, and is ignored.
    ``viewport``: for % in the origin, or a function giving it (called only then)."""
    mat = np.eye(3)
    if text:
        try:
            mat = parse_transform(text)
        except ValueError as e:
            loader.warn(f"{describe(node)}: {attr}: {e} (ignored)")
    origin = specified(loader, node).get("transform-origin")
    if origin and text:
        mat = about(mat, parse_transform_origin(origin, viewport() if callable(viewport) else viewport))
    return mat


def user_viewport(loader, node: Node) -> Viewport:
    """Viewport (w, h) of an element for userSpaceOnUse percentages: its nearest <svg>
    ancestor's viewBox size, else that <svg>'s size, else the document's."""
    p = node.parent
    while p is not None:
        if p.tag == "svg":
            vb = viewbox(loader, p)
            if vb:
                return (vb[2], vb[3])
            if p is loader.root:
                return loader.doc_size
            w = axis_length(p.attrs.get("width"), loader.doc_size, 0)
            h = axis_length(p.attrs.get("height"), loader.doc_size, 1)
            return (w or loader.doc_size[0], h or loader.doc_size[1])
        p = p.parent
    return loader.doc_size
