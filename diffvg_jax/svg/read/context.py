"""``context-fill`` / ``context-stroke`` (SVG 2, painting 13.3) for load_svg.

The keywords name the fill / stroke paint of the *context element*: for the content of a
``<marker>``, the shape the marker is placed on; for the content of a ``<use>``, the
``<use>`` element (the nearest one). Without a context element they are paint ``none``.

A paint server used through the keyword keeps the context element's coordinate system
(and, for objectBoundingBox units, the context element's bounding box: the marked shape's
fill box, or the box of the whole ``<use>`` content in the ``<use>``'s user space, the
union of its children's boxes mapped through their transforms: :func:`group_bbox`), as
resvg does. Only the paint is taken: the element's own ``fill-opacity`` /
``stroke-opacity`` still apply.

How: while the content of a ``<use>`` or a ``<marker>`` is read (``Loader.context_depth``
> 0) the keyword becomes a :class:`ContextPaint` placeholder in the shape's ``fill`` /
``stroke``. Once the content is built, :func:`resolve` walks it (groups, clip and mask
content), replacing each placeholder by the context element's paint expressed in the
shape's user space: a gradient / pattern / image paint's ``transform`` (paint space ->
context space) is composed with the inverse of the shape's full transform into context
space. A placeholder whose context paint is itself a placeholder (a ``use`` whose own
fill is ``context-fill``) stays one for the enclosing context to resolve.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ... import scene as S
from ..outlines import bbox_subpaths, shape_outline

KEYWORDS = {"context-fill": "fill", "context-stroke": "stroke"}
_TRANSFORMED = (S.LinearGradient, S.RadialGradient, S.Pattern, S.ImagePaint)


@dataclass(frozen=True)
class ContextPaint:
    """Placeholder for the context element's paint. which: 'fill' or 'stroke'."""

    which: str


def keyword_paint(loader, value: str) -> Optional[ContextPaint]:
    """The paint of a ``context-fill`` / ``context-stroke`` value: a placeholder while a
    context element's content is being read, else None (no context element: none)."""
    if loader.context_depth <= 0:
        return None
    return ContextPaint(KEYWORDS[value])


@contextlib.contextmanager
def reading_context(loader, active: bool = True):
    """``with reading_context(loader):`` marks the content read inside as having a context
    element (placeholders are made); ``reading_context(loader, False)`` as having none
    (pattern tiles: the keywords there paint nothing)."""
    saved = loader.context_depth
    loader.context_depth = saved + 1 if active else 0
    try:
        yield
    finally:
        loader.context_depth = saved


def in_space(paint, to_context: np.ndarray):
    """``paint`` (defined in the context element's user space) seen from a shape whose
    user space maps into context space by ``to_context`` (float64 (3, 3)); None if that
    map is singular (the shape is flattened to nothing anyway)."""
    if not isinstance(paint, _TRANSFORMED):
        return paint
    try:
        back = np.linalg.inv(to_context)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(back)):
        return None
    return S.replace(paint, transform=back @ np.asarray(paint.transform, np.float64))


def resolve(objs, fill, stroke, mat: Optional[np.ndarray] = None) -> list:
    """The scene objects ``objs`` (in a space that ``mat``, float64 (3, 3), default the
    identity, maps into the context element's user space) with every ContextPaint
    replaced by ``fill`` / ``stroke`` (scene paints in context space, None, or
    placeholders themselves)."""
    mat = np.eye(3) if mat is None else mat
    return [_resolve_one(o, fill, stroke, mat) for o in objs]


def _resolve_one(obj, fill, stroke, mat):
    m = mat @ np.asarray(obj.transform, np.float64)
    if isinstance(obj, S.Group):
        changes = dict(children=tuple(resolve(obj.children, fill, stroke, m)))
        if obj.clip is not None:
            changes["clip"] = _resolve_masking(obj.clip, fill, stroke, m)
        if obj.mask is not None:
            changes["mask"] = _resolve_masking(obj.mask, fill, stroke, m)
        return S.replace(obj, **changes)
    paints = {}
    for name in ("fill", "stroke"):
        value = getattr(obj, name, None)
        if isinstance(value, ContextPaint):
            got = fill if value.which == "fill" else stroke
            paints[name] = got if isinstance(got, ContextPaint) else in_space(got, m)
    return S.replace(obj, **paints) if paints else obj


def _resolve_masking(node, fill, stroke, m):
    """A ClipPath / Mask (content under its transform, in the group's space) resolved,
    with its own nested clip / mask."""
    inner = m @ np.asarray(node.transform, np.float64)
    changes = dict(children=tuple(resolve(node.children, fill, stroke, inner)))
    nested = getattr(node, "clip", None) if isinstance(node, S.ClipPath) else getattr(node, "mask", None)
    if nested is not None:
        changes["clip" if isinstance(node, S.ClipPath) else "mask"] = _resolve_masking(nested, fill, stroke, m)
    return S.replace(node, **changes)


def group_bbox(objs):
    """The object bounding box (x0, y0, x1, y1) of scene objects in their parent's space
    as resvg computes a group's: each shape's exact fill box in its own user space, a
    Group's the union of its children's boxes, each box mapped as a rectangle through the
    object's transform (SVG 2 leaves child transforms open, svgwg issue 673). None when
    nothing has geometry."""
    boxes = [b for b in (_object_box(o) for o in objs) if b is not None]
    if not boxes:
        return None
    b = np.array(boxes)
    return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())


def _object_box(obj):
    if isinstance(obj, S.Group):
        own = group_bbox(obj.children)
    else:
        subs = shape_outline(obj)
        own = bbox_subpaths(subs) if subs else None
    if own is None:
        return None
    x0, y0, x1, y1 = own
    corners = np.array([[x0, y0, 1.0], [x1, y0, 1.0], [x0, y1, 1.0], [x1, y1, 1.0]])
    mapped = corners @ np.asarray(obj.transform, np.float64).T
    return (mapped[:, 0].min(), mapped[:, 1].min(), mapped[:, 0].max(), mapped[:, 1].max())


def has_placeholders(objs) -> bool:
    """True if any object (through groups, clips and masks) still holds a ContextPaint."""
    for obj in objs:
        if isinstance(obj, (S.Group, S.ClipPath, S.Mask)):
            kids = list(obj.children)
            for extra in ("clip", "mask"):
                sub = getattr(obj, extra, None)
                if sub is not None:
                    kids.append(sub)
            if has_placeholders(kids):
                return True
        elif isinstance(getattr(obj, "fill", None), ContextPaint) or \
                isinstance(getattr(obj, "stroke", None), ContextPaint):
            return True
    return False
