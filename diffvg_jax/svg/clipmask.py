"""clip-path, <clipPath>, mask, <mask> and nested-viewport clipping for load_svg.

``ClipMaskLoader`` is a mixin of ``parse._Loader``: the loader calls ``masking_of`` for every
element with a ``clip-path`` or ``mask`` and ``viewport_clip`` for nested ``<svg>`` /
``<symbol>`` viewports; both return scene ``ClipPath`` / ``Mask`` objects expressed in the
element's own user space (the space of the Group that carries them).

Semantics follow SVG / CSS Masking as resvg implements them (its reference images are the
conformance suite):
  * clipPathUnits=objectBoundingBox: the clip transform is ``transform @ bbox`` where bbox
    maps the unit square onto the referencing element's fill bounding box; an empty box
    makes the element not render. ``transform-origin`` on a clipPath is in user space.
  * A clipPath's children: shapes and ``use`` -> shape (text is unsupported; other
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
import re
from typing import Callable, Optional, Tuple

import numpy as np

from .. import scene as S
from . import paths
from .errors import MAX_DEPTH, describe
from .transforms import translate

_URL = re.compile(r"^url\(\s*(['\"]?)#([^)'\"]*)\1\s*\)\s*(.*)$", re.S)
_SHAPE_TAGS = {"rect", "circle", "ellipse", "polyline", "polygon", "path"}   # `line` has no area
_NOT_CLIP_CHILDREN = {"g", "a", "svg", "switch", "symbol", "image", "foreignObject", "line"}
INVALID = object()            # "the element must not be rendered"
MASK_CONTENT_ROLE = "mask-content"   # dv:role of the <g> save_svg wraps a mask's content in

BBox = Optional[Tuple[float, float, float, float]]


class ClipMaskLoader:
    """Mixin for ``parse._Loader`` (uses its ids, styles, transforms, shapes and warnings)."""

    # ------------------------------------------------------------------ entry points

    def masking_of(self, node, style, viewport, depth, use_stack, content) -> object:
        """(clip, mask) of an element whose scene objects, in its own user space, are
        ``content``; either may be None. Returns INVALID when the element must not render."""
        bbox = _lazy_bbox(content)
        clip = self._clip_ref(node, style, viewport, depth, use_stack, bbox)
        if clip is INVALID:
            return INVALID
        mask = self._mask_ref(node, style, viewport, depth, use_stack, bbox)
        if mask is INVALID:
            return INVALID
        return clip, mask

    def viewport_clip(self, node, rect, inner) -> S.ClipPath:
        """The clip of a nested viewport: ``rect`` (x, y, w, h) in the parent space (after
        the element's own transform), for a Group whose transform is that transform @
        ``inner`` (float64 (3, 3), the x / y translation and viewBox mapping)."""
        x, y, w, h = rect
        box = S.Rect(p_min=[x, y], p_max=[x + w, y + h])
        return S.ClipPath(children=(box,), transform=np.linalg.inv(inner))

    # ------------------------------------------------------------------ references

    def _reference(self, node, style, prop, tag, depth):
        """('none' | 'ok' | 'invalid', target node) of a clip-path / mask property."""
        value = style[prop]
        if value == "none":
            return "none", None
        if depth > MAX_DEPTH:
            raise ValueError(f"{describe(node)}: {prop} references nested deeper than {MAX_DEPTH} levels")
        m = _URL.match(value)
        if not m or m.group(3).strip():
            self.warn(f"{describe(node)}: {prop} {value!r} is not supported (ignored)", key=f"prop-{prop}-value")
            return "none", None
        target = self.ids.get(m.group(2))
        if target is None:
            what = "clipped" if prop == "clip-path" else "masked"
            self.warn(f"{describe(node)}: {prop}: url(#{m.group(2)}) names no element (drawn un{what})")
            return "none", None
        if target.tag != tag or not target.is_svg:
            self.warn(f"{describe(node)}: {prop}: url(#{m.group(2)}) is a <{target.tag}>, not a <{tag}> "
                      "(element not rendered)")
            return "invalid", None
        if id(target) in self._active_refs():
            self.warn(f"{describe(node)}: {prop}: url(#{m.group(2)}) is a reference cycle (ignored)")
            return "none", None
        return "ok", target

    def _active_refs(self) -> set:
        return self.__dict__.setdefault("_masking_active", set())

    @contextlib.contextmanager
    def _resolving(self, node):
        """While a clipPath / mask is being built, a reference back to it is a cycle."""
        active = self._active_refs()
        active.add(id(node))
        try:
            yield
        finally:
            active.discard(id(node))

    def _clip_ref(self, node, style, viewport, depth, use_stack, bbox):
        status, target = self._reference(node, style, "clip-path", "clipPath", depth)
        if status != "ok":
            return INVALID if status == "invalid" else None
        return self._build_clip(target, viewport, depth, use_stack, bbox)

    def _mask_ref(self, node, style, viewport, depth, use_stack, bbox):
        status, target = self._reference(node, style, "mask", "mask", depth)
        if status != "ok":
            return INVALID if status == "invalid" else None
        return self._build_mask(target, viewport, depth, use_stack, bbox)

    # ------------------------------------------------------------------ clipPath

    def _build_clip(self, cnode, viewport, depth, use_stack, bbox):
        with self._resolving(cnode):
            cstyle = self.dom_style(cnode)
            mat = self.transform_of(cnode, cstyle, viewport)
            if abs(np.linalg.det(mat[:2, :2])) < 1e-12:
                self.warn(f"{describe(cnode)}: singular transform (clipped element not rendered)")
                return INVALID
            if cnode.attrs.get("clipPathUnits", "").strip() == "objectBoundingBox":
                box = bbox()
                if box is None:
                    self.warn(f"{describe(cnode)}: objectBoundingBox units on an element with an empty "
                              "bounding box (element not rendered)")
                    return INVALID
                mat = mat @ _bbox_matrix(box)
            inner = self._clip_ref(cnode, cstyle, viewport, depth + 1, use_stack, bbox)
            if inner is INVALID:
                return INVALID
            kids = []
            for child in cnode.children:
                kids += self._clip_child(child, cstyle, viewport, depth + 1, use_stack)
            return S.ClipPath(children=tuple(kids), transform=mat, clip=inner)

    def _clip_child(self, node, parent_style, viewport, depth, use_stack) -> list:
        """Scene objects (geometry only) of one clipPath child."""
        if not node.is_svg:
            return []
        if node.tag == "use":
            return self._clip_use(node, parent_style, viewport, depth, use_stack)
        if node.tag == "text":
            self.warn(f"{describe(node)}: <text> is not supported (ignored)", key="element-text")
            return []
        if node.tag not in _SHAPE_TAGS:
            if node.tag in _NOT_CLIP_CHILDREN:
                self.warn(f"{describe(node)}: <{node.tag}> is not a valid <clipPath> child (ignored)")
            return []
        style = self.computed(node, parent_style)
        if style["display"] == "none":
            return []
        # Clip geometry: no paint, no stroke (no dashes), no markers, clip-rule as fill rule.
        geo_style = dict(style, fill="none", stroke="none")
        geo_style.update({"fill-rule": style["clip-rule"], "marker-start": "none", "marker-mid": "none",
                          "marker-end": "none"})
        transform = self.transform_of(node, style, viewport)
        status, target = self._reference(node, style, "clip-path", "clipPath", depth)
        if status == "invalid":
            return []
        if status == "none":
            return self.shape(node, geo_style, viewport, transform)
        objs = self.shape(node, geo_style, viewport, np.eye(3))
        if not objs:
            return []
        clip = self._build_clip(target, viewport, depth + 1, use_stack, _lazy_bbox(objs))
        if clip is INVALID:
            return []
        return [S.Group(children=tuple(objs), transform=transform, clip=clip)]

    def _clip_use(self, node, parent_style, viewport, depth, use_stack) -> list:
        """A <use> inside a clipPath: it may only reference a shape (or text)."""
        href = (node.attrs.get("href", node.attrs.get("xlink:href")) or "").strip()
        target = self.ids.get(href[1:]) if href.startswith("#") else None
        if target is None:
            self.warn(f"{describe(node)}: href {href!r} names no element (ignored)")
            return []
        if target in use_stack or target is node:
            self.warn(f"{describe(node)}: href {href!r} is a reference cycle (ignored)")
            return []
        if not target.is_svg or target.tag not in _SHAPE_TAGS | {"text"}:
            self.warn(f"{describe(node)}: a <use> in a <clipPath> must reference a shape, not "
                      f"<{target.tag}> (ignored)")
            return []
        style = self.computed(node, parent_style)
        if style["display"] == "none":
            return []
        x = self.length(node, "x", viewport, 0, 0.0)
        y = self.length(node, "y", viewport, 1, 0.0)
        mat = self.transform_of(node, style, viewport) @ translate(x, y)
        objs = self._clip_child(target, style, viewport, depth + 1, use_stack + (target,))
        if not objs:
            return []
        status, ctarget = self._reference(node, style, "clip-path", "clipPath", depth)
        if status == "invalid":
            return []
        if status == "ok":
            clip = self._build_clip(ctarget, viewport, depth + 1, use_stack, _lazy_bbox(objs))
            return [] if clip is INVALID else [S.Group(children=tuple(objs), transform=mat, clip=clip)]
        return [S.replace(o, transform=mat @ np.asarray(o.transform, np.float64)) for o in objs]

    # ------------------------------------------------------------------ mask

    def _build_mask(self, mnode, viewport, depth, use_stack, bbox):
        with self._resolving(mnode):
            mstyle = self.dom_style(mnode)
            region = self._mask_region(mnode, viewport, bbox)
            if region is INVALID:
                return INVALID
            inner = self._mask_ref(mnode, mstyle, viewport, depth + 1, use_stack, bbox)
            if inner is INVALID:
                return INVALID
            content = np.eye(3)
            if mnode.attrs.get("maskContentUnits", "").strip() == "objectBoundingBox":
                box = bbox()
                if box is None:
                    self.warn(f"{describe(mnode)}: objectBoundingBox content on an element with an empty "
                              "bounding box (element not rendered)")
                    return INVALID
                content = _bbox_matrix(box)
            holder, holder_style = mnode, mstyle
            wrapper = _content_wrapper(mnode)
            if wrapper is not None:   # written by save_svg: its transform is the Mask's
                holder_style = self.computed(wrapper, mstyle)
                content = content @ self.transform_of(wrapper, holder_style, viewport)
                holder = wrapper
            kids = self.children_of(holder, holder_style, viewport, depth + 1, use_stack)
            mask_type = "alpha" if mstyle.get("mask-type", "luminance") == "alpha" else "luminance"
            return S.Mask(children=tuple(kids), transform=content, region=region, mask=inner,
                          mask_type=mask_type)

    def _mask_region(self, mnode, viewport, bbox):
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
            region = tuple(self.length(mnode, n, viewport, i % 2, d * viewport[i % 2])
                           for i, (n, d) in enumerate(zip(names, defaults)))
        if not (region[2] > 0 and region[3] > 0):
            self.warn(f"{describe(mnode)}: mask region of size {region[2]:g} x {region[3]:g} "
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
    t = text.strip()
    try:
        v = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        return default
    return v if np.isfinite(v) else default


def _bbox_matrix(box) -> np.ndarray:
    """float64 (3, 3) mapping the unit square onto box (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    return np.array([[x1 - x0, 0.0, x0], [0.0, y1 - y0, y0], [0.0, 0.0, 1.0]])


def _lazy_bbox(objs) -> Callable[[], BBox]:
    """A function computing (once) the fill bounding box of scene objects, in their
    parent's space: (x0, y0, x1, y1) float64, or None if it has zero width or height."""
    cache = []

    def get():
        if not cache:
            cache.append(objects_bbox(objs, np.eye(3)))
        return cache[0]
    return get


def objects_bbox(objs, mat) -> BBox:
    """Exact bounding box of the shapes' geometry (strokes excluded) under ``mat``."""
    from .parse import _bbox_subpaths   # late: parse imports this module
    subs = []
    for obj in objs:
        _collect_subpaths(obj, mat, subs)
    if not subs:
        return None
    x0, y0, x1, y1 = _bbox_subpaths(subs)
    if not (x1 - x0 > 0 and y1 - y0 > 0):
        return None
    return (x0, y0, x1, y1)


def _collect_subpaths(obj, mat, out):
    if isinstance(obj, S.Group):
        m = mat @ np.asarray(obj.transform, np.float64)
        for child in obj.children:
            _collect_subpaths(child, m, out)
        return
    m = mat @ np.asarray(obj.transform, np.float64)
    if isinstance(obj, (S.Circle, S.Ellipse)):   # exact box (the Bezier arcs bulge by ~3e-4 r)
        c, r = _apply(m, obj.center), np.broadcast_to(np.asarray(obj.radius, np.float64), (2,))
        half = np.hypot(m[:2, 0] * r[0], m[:2, 1] * r[1])
        out.append(paths.Subpath(c - half, [(c + half)[None]], False))
        return
    for sp in shape_outline(obj):
        out.append(paths.Subpath(_apply(m, sp.start), [_apply(m, seg) for seg in sp.segments], sp.closed))


def _apply(m, pts):
    return np.asarray(pts, np.float64) @ m[:2, :2].T + m[:2, 2]


def shape_outline(shape):
    """float64 subpaths of a scene shape in its user space (Bezier control points)."""
    f = lambda x: np.asarray(x, np.float64)
    if isinstance(shape, S.Rect):
        lo, hi, r = f(shape.p_min), f(shape.p_max), f(shape.corner_radius)
        w, h = hi - lo
        if not (w > 0 and h > 0):
            return [paths.poly_subpath(np.array([lo, hi]), False)]
        rx, ry = min(max(r[0], 0.0), w / 2), min(max(r[1], 0.0), h / 2)
        if not (rx > 0 and ry > 0):
            rx = ry = 0.0
        return [paths.rect_subpath(lo[0], lo[1], w, h, rx, ry)]
    if isinstance(shape, (S.Circle, S.Ellipse)):
        c, r = f(shape.center), f(shape.radius)
        rx, ry = (r, r) if r.ndim == 0 else (r[0], r[1])
        return [paths.ellipse_subpath(c[0], c[1], float(rx), float(ry))]
    if isinstance(shape, (S.Polygon, S.Polyline)):
        pts = f(shape.points)
        return [paths.poly_subpath(pts, isinstance(shape, S.Polygon))] if len(pts) else []
    pts, out, k, i = f(shape.points), [], 0, 0
    for size, closed in zip(shape.subpath_sizes, shape.closed):
        degs = shape.degrees[k:k + size]
        k += size
        if size == 0:
            continue
        start, segs = pts[i], []
        i += 1
        for j, d in enumerate(degs):
            if closed and j == size - 1:
                segs.append(np.concatenate([pts[i:i + d - 1], start[None]]))
                i += d - 1
            else:
                segs.append(pts[i:i + d])
                i += d
        out.append(paths.Subpath(start, segs, closed))
    return out
