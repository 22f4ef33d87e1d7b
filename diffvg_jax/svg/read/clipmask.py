"""clip-path, <clipPath>, mask, <mask> and nested-viewport clipping for load_svg.

Functions taking the Loader first: tree.py calls ``masking_of`` for every element with a
``clip-path`` or ``mask`` and ``viewport_clip`` for nested ``<svg>`` / ``<symbol>``
viewports; both return scene ``ClipPath`` / ``Mask`` objects expressed in the element's
own user space (the space of the Group that carries them). Clip and mask content is read
through shapes.py and the loader's ``children_of`` (see loader.py).

Semantics follow SVG / CSS Masking as resvg implements them (its reference images are the
conformance suite):
  * clipPathUnits=objectBoundingBox: the clip transform is ``transform @ bbox`` where bbox
    maps the unit square onto the referencing element's fill bounding box; an empty box
    makes the element not render. ``transform-origin`` on a clipPath is in user space.
  * A clipPath's children: shapes, text (glyph outlines) and ``use`` -> them (other
    elements are ignored with a warning); their paints and strokes do not count, their
    ``clip-rule`` is the fill rule; a child's own ``clip-path`` intersects it.
  * A reference to a missing element: drawn unclipped / unmasked (warning). A reference to
    an element of the wrong kind, an invalid clipPath transform or a mask region of zero
    size: the element is not rendered (resvg). A reference cycle: the reference is ignored.
  * <mask>: maskUnits (default objectBoundingBox) with x / y / width / height (default
    -10% / -10% / 120% / 120%), maskContentUnits, mask-type (attribute or CSS), ``mask`` on
    the mask element (multiplied).
"""
from __future__ import annotations

import contextlib
from typing import Callable

import numpy as np

from ... import scene as S
from ..dom.css import parse_url
from ..dom.xmlsafe import MASK_CONTENT_ROLE
from ..errors import MAX_DEPTH, SVGError, describe
from ..outlines import BBox, objects_bbox
from ..text import text_objects
from ..values.transforms import bbox_matrix, invert, translate
from ..values.units import parse_fraction
from . import conditions
from .coords import length, transform_of
from .shapes import shape
from .styles import computed, dom_style, specified

_SHAPE_TAGS = {"rect", "circle", "ellipse", "polyline", "polygon", "path"}   # `line` has no area
_NOT_CLIP_CHILDREN = {"g", "a", "svg", "switch", "symbol", "image", "foreignObject", "line"}
INVALID = object()            # "the element must not be rendered"


# ------------------------------------------------------------------ entry points


def masking_of(loader, node, style, viewport, depth, use_stack, content) -> object:
    """(clip, mask) of an element whose scene objects, in its own user space, are
    ``content``; either may be None. Returns INVALID when the element must not render."""
    bbox = _lazy_bbox(content)
    clip = _masking_ref(loader, node, style, "clip-path", viewport, depth, use_stack, bbox)
    if clip is INVALID:
        return INVALID
    mask = _masking_ref(loader, node, style, "mask", viewport, depth, use_stack, bbox)
    if mask is INVALID:
        return INVALID
    return clip, mask


def viewport_clip(rect, inner) -> S.ClipPath:
    """The clip of a nested viewport: ``rect`` (x, y, w, h) in the parent space (after
    the element's own transform), for a Group whose transform is that transform @
    ``inner`` (float64 (3, 3), the x / y translation and viewBox mapping)."""
    x, y, w, h = rect
    box = S.Rect(p_min=[x, y], p_max=[x + w, y + h])
    return S.ClipPath(children=(box,), transform=invert(inner))


# ------------------------------------------------------------------ references


def _reference(loader, node, style, prop, tag, depth):
    """('none' | 'ok' | 'invalid', target node) of a clip-path / mask property."""
    value = style[prop]
    if value == "none":
        return "none", None
    if depth > MAX_DEPTH:
        raise SVGError(f"{describe(node)}: {prop} references nested deeper than {MAX_DEPTH} levels")
    ref = parse_url(value)
    if not ref or ref[1]:
        loader.warn(f"{describe(node)}: {prop} {value!r} is not supported (ignored)", key=f"prop-{prop}-value")
        return "none", None
    ident = ref[0]
    target = loader.ids.get(ident)
    if target is None:
        what = "clipped" if prop == "clip-path" else "masked"
        loader.warn(f"{describe(node)}: {prop}: url(#{ident}) names no element (drawn un{what})")
        return "none", None
    if target.tag != tag or not target.is_svg:
        loader.warn(f"{describe(node)}: {prop}: url(#{ident}) is a <{target.tag}>, not a <{tag}> "
                    "(element not rendered)")
        return "invalid", None
    if id(target) in loader.masking_active or (prop == "mask" and id(node) in cut_mask_links(loader)):
        loader.warn(f"{describe(node)}: {prop}: url(#{ident}) is a reference cycle (ignored)")
        return "none", None
    return "ok", target


def cut_mask_links(loader) -> set:
    """ids of the elements whose ``mask`` reference is dropped because it leads back into a
    <mask> that (through itself or its content) references them: resvg's rule (which link
    of a cycle goes is undefined in SVG): for each <mask> in document order, a link of the
    mask or its content to the mask itself goes, and so does any link, from the element
    that mask links to or its content, back to the mask. Computed once per document."""
    if loader.cut_mask_links is not None:
        return loader.cut_mask_links
    cut = set()

    def link(n):
        ref = parse_url(specified(loader, n).get("mask", "")) if n.is_svg and id(n) not in cut else None
        target = loader.ids.get(ref[0]) if ref else None
        return target if target is not None and target.tag == "mask" else None

    for mask in (n for n in loader.root.iter() if n.is_svg and n.tag == "mask"):
        for child in mask.iter():
            target = link(child)
            if target is mask:
                cut.add(id(child))
            elif target is not None:
                cut.update(id(n) for n in target.iter() if link(n) is mask)
    loader.cut_mask_links = cut
    return cut


@contextlib.contextmanager
def _resolving(loader, node):
    """While a clipPath / mask is being built, a reference back to it is a cycle."""
    active = loader.masking_active
    active.add(id(node))
    try:
        yield
    finally:
        active.discard(id(node))


def _masking_ref(loader, node, style, prop, viewport, depth, use_stack, bbox):
    """The ClipPath (``prop`` 'clip-path') or Mask ('mask') the property names: None
    (none, or ignored), INVALID, or the object built from the referenced element."""
    tag, build = ("clipPath", _build_clip) if prop == "clip-path" else ("mask", _build_mask)
    status, target = _reference(loader, node, style, prop, tag, depth)
    if status != "ok":
        return INVALID if status == "invalid" else None
    return build(loader, target, viewport, depth, use_stack, bbox)


# ------------------------------------------------------------------ clipPath


def _build_clip(loader, cnode, viewport, depth, use_stack, bbox):
    with _resolving(loader, cnode):
        cstyle = dom_style(loader, cnode)
        mat = transform_of(loader, cnode, cstyle, viewport)
        if abs(np.linalg.det(mat[:2, :2])) < 1e-12:
            loader.warn(f"{describe(cnode)}: singular transform (clipped element not rendered)")
            return INVALID
        if cnode.attrs.get("clipPathUnits", "").strip() == "objectBoundingBox":
            units = _bbox_units(loader, cnode, bbox, "units")
            if units is INVALID:
                return INVALID
            mat = mat @ units
        inner = _masking_ref(loader, cnode, cstyle, "clip-path", viewport, depth + 1, use_stack, bbox)
        if inner is INVALID:
            return INVALID
        kids = []
        for child in cnode.children:
            kids += _clip_child(loader, child, cstyle, viewport, depth + 1, use_stack)
        return S.ClipPath(children=tuple(kids), transform=mat, clip=inner)


def _clip_child(loader, node, parent_style, viewport, depth, use_stack) -> list:
    """Scene objects (geometry only) of one clipPath child."""
    if not node.is_svg or not conditions.passes(node):
        return []
    if node.tag == "use":
        return _clip_use(loader, node, parent_style, viewport, depth, use_stack)
    if node.tag == "text":
        return _clip_text(loader, node, parent_style, viewport)
    if node.tag not in _SHAPE_TAGS:
        if node.tag in _NOT_CLIP_CHILDREN:
            loader.warn(f"{describe(node)}: <{node.tag}> is not a valid <clipPath> child (ignored)")
        return []
    style = computed(loader, node, parent_style)
    if style["display"] == "none":
        return []
    # Clip geometry: no paint, no stroke (no dashes), no markers, clip-rule as fill rule.
    geo_style = dict(style, fill="none", stroke="none")
    geo_style.update({"fill-rule": style["clip-rule"], "marker-start": "none", "marker-mid": "none",
                      "marker-end": "none"})
    transform = transform_of(loader, node, style, viewport)
    status, target = _reference(loader, node, style, "clip-path", "clipPath", depth)
    if status == "invalid":
        return []
    if status == "none":
        return shape(loader, node, geo_style, viewport, transform)
    objs = shape(loader, node, geo_style, viewport, np.eye(3))
    if not objs:
        return []
    clip = _build_clip(loader, target, viewport, depth + 1, use_stack, _lazy_bbox(objs))
    if clip is INVALID:
        return []
    return [S.Group(children=tuple(objs), transform=transform, clip=clip)]


def _clip_text(loader, node, parent_style, viewport) -> list:
    """A <text> inside a clipPath: its glyph outlines (svg/text/) with clip-rule, no paint."""
    style = computed(loader, node, parent_style)
    if style["display"] == "none" or style["visibility"] != "visible":
        return []
    objs = text_objects(loader, node, style, viewport, clip_rule=style["clip-rule"])
    return [S.Group(children=tuple(objs), transform=transform_of(loader, node, style, viewport))] if objs else []


def _clip_use(loader, node, parent_style, viewport, depth, use_stack) -> list:
    """A <use> inside a clipPath: it may only reference a shape (or text)."""
    href = node.href()
    target = loader.referenced(node)
    if target is None:
        loader.warn(f"{describe(node)}: href {href!r} names no element (ignored)")
        return []
    if target in use_stack or target is node:
        loader.warn(f"{describe(node)}: href {href!r} is a reference cycle (ignored)")
        return []
    if not target.is_svg or target.tag not in _SHAPE_TAGS | {"text"}:
        loader.warn(f"{describe(node)}: a <use> in a <clipPath> must reference a shape, not "
                    f"<{target.tag}> (ignored)")
        return []
    style = computed(loader, node, parent_style)
    if style["display"] == "none":
        return []
    x = length(loader, node, "x", viewport, 0, 0.0)
    y = length(loader, node, "y", viewport, 1, 0.0)
    mat = transform_of(loader, node, style, viewport) @ translate(x, y)
    objs = _clip_child(loader, target, style, viewport, depth + 1, use_stack + (target,))
    if not objs:
        return []
    status, ctarget = _reference(loader, node, style, "clip-path", "clipPath", depth)
    if status == "invalid":
        return []
    if status == "ok":
        clip = _build_clip(loader, ctarget, viewport, depth + 1, use_stack, _lazy_bbox(objs))
        return [] if clip is INVALID else [S.Group(children=tuple(objs), transform=mat, clip=clip)]
    return [S.replace(o, transform=mat @ np.asarray(o.transform, np.float64)) for o in objs]


# ------------------------------------------------------------------ mask


def _build_mask(loader, mnode, viewport, depth, use_stack, bbox):
    with _resolving(loader, mnode):
        mstyle = dom_style(loader, mnode)
        region = _mask_region(loader, mnode, viewport, bbox)
        if region is INVALID:
            return INVALID
        inner = _masking_ref(loader, mnode, mstyle, "mask", viewport, depth + 1, use_stack, bbox)
        if inner is INVALID:
            return INVALID
        content = np.eye(3)
        if mnode.attrs.get("maskContentUnits", "").strip() == "objectBoundingBox":
            content = _bbox_units(loader, mnode, bbox, "content")
            if content is INVALID:
                return INVALID
        holder, holder_style = mnode, mstyle
        wrapper = _content_wrapper(mnode)
        if wrapper is not None:   # written by save_svg: its transform is the Mask's
            holder_style = computed(loader, wrapper, mstyle)
            content = content @ transform_of(loader, wrapper, holder_style, viewport)
            holder = wrapper
        kids = loader.children_of(holder, holder_style, viewport, depth + 1, use_stack)
        mask_type = "alpha" if mstyle.get("mask-type", "luminance") == "alpha" else "luminance"
        return S.Mask(children=tuple(kids), transform=content, region=region, mask=inner,
                      mask_type=mask_type)


def _mask_region(loader, mnode, viewport, bbox):
    """float64 (4,) mask region (x, y, w, h) in user space, None (unbounded, written by
    save_svg as dv:region="none"), or INVALID."""
    if mnode.attrs.get("dv:region", "").strip() == "none":
        return None
    defaults = (-0.1, -0.1, 1.2, 1.2)
    names = ("x", "y", "width", "height")
    if mnode.attrs.get("maskUnits", "").strip() != "userSpaceOnUse":
        box = bbox()
        if box is None:   # resvg / browsers: the whole element is masked out
            return INVALID
        fx, fy, fw, fh = (_fraction(mnode.attrs.get(n), d) for n, d in zip(names, defaults))
        bw, bh = box[2] - box[0], box[3] - box[1]
        region = (box[0] + fx * bw, box[1] + fy * bh, fw * bw, fh * bh)
    else:
        region = tuple(length(loader, mnode, n, viewport, i % 2, d * viewport[i % 2])
                       for i, (n, d) in enumerate(zip(names, defaults)))
    if not (region[2] > 0 and region[3] > 0):
        loader.warn(f"{describe(mnode)}: mask region of size {region[2]:g} x {region[3]:g} "
                    "(element not rendered)")
        return INVALID
    return np.array(region, np.float64)


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _content_wrapper(mnode):
    """The single <g dv:role="mask-content"> child of a mask, if that is all it holds."""
    kids = [c for c in mnode.children if c.is_svg]
    if len(kids) == 1 and kids[0].tag == "g" and kids[0].attrs.get("dv:role", "").strip() == MASK_CONTENT_ROLE:
        return kids[0]
    return None


def _fraction(text, default) -> float:
    """objectBoundingBox length: a number or a percentage, as a fraction of the box."""
    if text is None:
        return default
    try:
        v = parse_fraction(text)
    except ValueError:
        return default
    return v if np.isfinite(v) else default


def _bbox_units(loader, node, bbox, what):
    """float64 (3, 3) objectBoundingBox -> user units of the referencing element's fill box
    (``bbox()``), or INVALID (with a warning) when that box is empty."""
    box = bbox()
    if box is None:
        loader.warn(f"{describe(node)}: objectBoundingBox {what} on an element with an empty "
                    "bounding box (element not rendered)")
        return INVALID
    return bbox_matrix(box)


def _lazy_bbox(objs) -> Callable[[], BBox]:
    """A function computing (once) the fill bounding box of scene objects, in their
    parent's space: (x0, y0, x1, y1) float64, or None if it has zero width or height."""
    cache = []

    def get():
        if not cache:
            cache.append(objects_bbox(objs, np.eye(3)))
        return cache[0]
    return get
