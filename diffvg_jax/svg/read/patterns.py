"""<pattern> paint servers for load_svg (functions taking the Loader first).

A ``fill`` / ``stroke`` of ``url(#p)`` naming a <pattern> becomes a :class:`diffvg_jax.Pattern`
in the painted shape's user space (semantics as resvg implements them):

  * x, y, width, height: in patternUnits (default objectBoundingBox: fractions or % of
    the shape's fill bounding box; userSpaceOnUse: lengths, % of the viewport);
  * Pattern.transform = patternTransform (with ``transform-origin``; a singular one is
    ignored) @ translate(x, y): tile space -> user space; Pattern.size = (width, height);
    x / y default to 0, the bbox corner with objectBoundingBox units;
  * content: viewBox + preserveAspectRatio map the viewBox onto the tile (and take
    precedence); else patternContentUnits=objectBoundingBox scales the content by the bbox
    size; the content then sits in one Group with that transform (none when identity);
  * href / xlink:href: attributes missing on a pattern come from the referenced patterns,
    and so do the children when it has none of its own;
  * width or height <= 0: the paint is 'none'. objectBoundingBox units on a shape with an
    empty bounding box: the paint's fallback colour, else 'none';
  * the content is parsed with the normal element machinery, its styles inherited from the
    pattern's own ancestors (not from the painted shape). Its shapes count towards the
    loader's MAX_SHAPES / MAX_POINTS limits each time the pattern is instantiated;
  * a pattern used inside its own content (directly or through other patterns) and nesting
    deeper than MAX_PATTERN_NESTING are cut with a warning (that paint becomes 'none');
  * ``dv:resolution="w h"`` (our namespace, written by save_svg) sets Pattern.resolution.
"""
from __future__ import annotations

import numpy as np

from ... import scene as S
from ..errors import MAX_DEPTH, describe
from ..values.transforms import translate, viewbox_transform
from ..values.units import parse_fraction, parse_length, parse_numbers
from .context import reading_context
from .coords import transform_about_origin, user_viewport, viewbox
from .styles import dom_style, fallback

MAX_PATTERN_NESTING = 3   # patterns painting pattern content, levels (each level renders a tile)
_ATTRS = ("patternUnits", "patternContentUnits", "patternTransform", "x", "y", "width", "height",
          "viewBox", "preserveAspectRatio", "dv:resolution")


def pattern(loader, target, bbox, user, which, fallback_text, style):
    """The Pattern paint (or None / a fallback Solid) for ``url(#...)`` naming ``target``
    on element ``user`` with fill bounding box ``bbox`` (x0, y0, x1, y1) or None."""
    stack = loader.pattern_stack
    if any(target is p for p in stack):
        loader.warn(f"{describe(user)}: {which}: pattern {describe(target)} is used inside its own content "
                    "(cut: none)", key="pattern-cycle")
        return None
    if len(stack) >= MAX_PATTERN_NESTING:
        loader.warn(f"{describe(user)}: {which}: patterns nested deeper than {MAX_PATTERN_NESTING} levels "
                    "(cut: none)", key="pattern-depth")
        return None
    chain = _chain(loader, target)
    attrs = {name: next((p.attrs[name] for p in chain if name in p.attrs), None) for name in _ATTRS}
    obb = (attrs["patternUnits"] or "objectBoundingBox").strip() != "userSpaceOnUse"
    vb = next((v for v in (viewbox(loader, p) for p in chain if "viewBox" in p.attrs) if v), None)
    content_obb = vb is None and (attrs["patternContentUnits"] or "").strip() == "objectBoundingBox"
    empty = bbox is None or not (bbox[2] - bbox[0] > 0 and bbox[3] - bbox[1] > 0)
    if (obb or content_obb) and empty:
        return fallback(fallback_text, style) if fallback_text else None
    viewport = user_viewport(loader, user)
    x, y, w, h = (_length(attrs[n], obb, viewport, axis, n in ("width", "height"), bbox)
                  for n, axis in (("x", 0), ("y", 1), ("width", 0), ("height", 1)))
    if not (w > 0 and h > 0):
        return None   # SVG: a zero-size tile disables the paint
    pt = transform_about_origin(loader, target, attrs["patternTransform"], "patternTransform", viewport)
    if abs(np.linalg.det(pt[:2, :2])) < 1e-12:
        pt = np.eye(3)   # a singular patternTransform is invalid and ignored (resvg; as gradientTransform)
    tile_to_user = pt @ translate(x, y)
    holder = next((p for p in chain if any(c.is_svg and c.tag not in ("title", "desc") for c in p.children)),
                  None)
    if holder is None:
        return None
    content_t = np.eye(3)
    if vb is not None:
        content_t = viewbox_transform(vb, (0.0, 0.0, w, h), attrs["preserveAspectRatio"] or "")
    elif content_obb:
        content_t = np.diag([bbox[2] - bbox[0], bbox[3] - bbox[1], 1.0])
    inner_vp = (vb[2], vb[3]) if vb is not None else viewport
    stack.append(target)
    try:
        with reading_context(loader, False):   # no context element inside a tile
            kids = loader.children_of(holder, dom_style(loader, holder), inner_vp, len(stack), ())
    finally:
        stack.pop()
    if not kids:
        return None   # an empty tile paints nothing
    if not np.array_equal(content_t, np.eye(3)):
        kids = [S.Group(children=tuple(kids), transform=content_t)]
    return S.Pattern(children=tuple(kids), size=[w, h], transform=tile_to_user,
                     resolution=_resolution(loader, target, attrs["dv:resolution"]))


def _chain(loader, pat):
    """The pattern and the patterns its href chain names, nearest first (cycles cut)."""
    chain, cur = [], pat
    while cur is not None and len(chain) <= MAX_DEPTH:
        if any(cur is c for c in chain):
            loader.warn(f"{describe(pat)}: href cycle between patterns (stopped)")
            break
        chain.append(cur)
        nxt = loader.referenced(cur)
        cur = nxt if nxt is not None and nxt.tag == "pattern" and nxt.is_svg else None
    return chain


def _length(text, obb, viewport, axis, is_size, bbox) -> float:
    """x / y (``is_size`` False) or width / height in user units along ``axis`` (0 / 1);
    0 (the bbox corner for objectBoundingBox x / y) when absent or invalid.
    objectBoundingBox: a fraction (or %) of the bbox."""
    if text is None:
        text = "0"
    try:
        if not obb:
            return parse_length(text, percent_of=viewport[axis])
        frac = parse_fraction(text)
        extent = bbox[axis + 2] - bbox[axis]
        return frac * extent if is_size else bbox[axis] + frac * extent
    except ValueError:
        return 0.0 if (is_size or not obb) else bbox[axis]


def _resolution(loader, pat, text):
    """Pattern.resolution (w, h) ints of ``dv:resolution``, or None (automatic)."""
    if text is None:
        return None
    try:
        vals = parse_numbers(text, "dv:resolution")
        if len(vals) == 2 and min(vals) >= 1 and all(float(v).is_integer() for v in vals):
            return (int(vals[0]), int(vals[1]))
    except ValueError:
        pass
    loader.warn(f"{describe(pat)}: bad dv:resolution {text!r} (automatic)")
    return None
