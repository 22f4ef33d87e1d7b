"""SVG markers for load_svg: ``<marker>``, ``marker-start`` / ``-mid`` / ``-end`` (and the CSS
``marker`` shorthand, expanded by the cascade), and ``paint-order`` with ``markers``.

Markers are expanded at load time into ordinary scene objects. For a path, line, polyline
or polygon whose computed ``marker-*`` property names a ``<marker>``:

  * the *vertices* are those of the path data: each subpath's moveto, the end of every
    command (an arc is one segment although it becomes several cubics) and each closepath
    (zero-length when the data is already back at the subpath's start; found by
    outlines/vertices.py). marker-start goes
    on the first vertex of the whole path, marker-end on the last, marker-mid on every
    other one;
  * one instance per vertex: a Group of the marker's content (parsed once per marker with
    the normal element machinery; its style inherits from the marker's DOM ancestors, not
    from the shape; ids dropped, they would repeat) under
    ``translate(vertex) rotate(angle) scale(stroke-width or viewBox fit) translate(-ref)``;
  * orient ``auto`` bisects the incoming and outgoing tangent directions (SVG 1.1 F.5 for
    zero-length segments; as resvg renders them, a closed subpath's start points along
    its first segment and its closing vertex along the closing segment, and a closing
    vertex takes no marker-mid); ``auto-start-reverse`` adds 180 degrees at the path's
    first vertex; an angle (deg, rad, grad, turn) is fixed;
  * content outside the marker viewport is clipped (``overflow`` hidden, the default) by a
    ``ClipPath`` on the instance Group, added only when the content reaches past it;
  * the instances of a shape form one Group (the shape's transform, id ``<id>-markers``)
    painted after fill and stroke, or where ``paint-order`` puts ``markers``; markers
    between fill and stroke split the shape into a fill-only and a stroke-only copy.

Units: user units of the marked shape; angles in degrees (the SVG convention, y down, so
positive angles turn clockwise on screen).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ... import scene as S
from .. import errors
from ..dom.css import parse_url
from ..errors import describe
from ..outlines import bbox_subpaths, transformed_outline, vertices
from ..values.transforms import rotate, scale, translate, viewbox_transform
from .context import has_placeholders, reading_context, resolve
from .coords import length, viewbox
from .styles import dom_style, specified

MARKABLE = ("path", "line", "polyline", "polygon", "rect", "circle", "ellipse")   # SVG 2: all shapes
PROPERTIES = ("marker-start", "marker-mid", "marker-end")
PAINT_ORDER_DEFAULT = ("fill", "stroke", "markers")
_ANGLE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(deg|grad|rad|turn)?$")
_DEGREES_PER = {"deg": 1.0, None: 1.0, "grad": 0.9, "rad": 180.0 / math.pi, "turn": 360.0}


# ---------------------------------------------------------------------------------------
# paint-order
# ---------------------------------------------------------------------------------------


def paint_order(text: str) -> Tuple[str, str, str]:
    """The three painting steps of a ``paint-order`` value, first painted first.

    As svgtypes (resvg) parses it: keywords listed first, the missing ones appended in
    the default order; 'normal', an unknown keyword, a duplicate, more than three
    keywords or an empty value give the default (fill, stroke, markers).
    """
    toks = text.split()
    if not toks or len(toks) > 3 or any(t not in PAINT_ORDER_DEFAULT for t in toks):
        return PAINT_ORDER_DEFAULT
    if len(set(toks)) != len(toks):
        return PAINT_ORDER_DEFAULT
    return tuple(toks + [t for t in PAINT_ORDER_DEFAULT if t not in toks])


def apply_paint_order(shapes: list, marker_group: Optional[S.Group], order) -> list:
    """Scene objects of one element in painting order.

    Args:
      shapes: the element's shapes in fill / stroke order (a shape, or a fill shape and a
        dash path), without markers.
      marker_group: the Group of the element's marker instances, or None.
      order: ``paint_order(...)`` of the element.
    Markers painted between fill and stroke need each shape split into a fill-only copy
    (keeps the id) and a stroke-only copy (id ``<id>-stroke``), as resvg does.
    """
    if marker_group is None:
        return list(shapes)
    where = order.index("markers")
    if where == 0:
        return [marker_group] + list(shapes)
    if where == 2:
        return list(shapes) + [marker_group]
    parts = {"fill": [], "stroke": []}
    for shape in shapes:
        if shape.fill is not None:
            parts["fill"].append(S.replace(shape, stroke=None))
        if shape.stroke is not None:
            ident = shape.id + "-stroke" if shape.id and shape.fill is not None else shape.id
            parts["stroke"].append(S.replace(shape, fill=None, id=ident))
    return parts[order[0]] + [marker_group] + parts[order[2]]


# ---------------------------------------------------------------------------------------
# the marker element
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerBox:
    """A marker's geometry for one marked shape.

    base: float64 (3, 3) content units -> the vertex frame (before the vertex's rotation
      and translation): scale (stroke width or viewBox fit) @ translate(-refX, -refY).
    clip: (x0, y0, x1, y1) float64 marker viewport in content units, or None (overflow
      visible).
    viewport: (w, h) content units, for percentages inside the content.
    orient: 'auto', 'auto-start-reverse' or a fixed angle in degrees (float).
    """

    base: np.ndarray
    clip: Optional[Tuple[float, float, float, float]]
    viewport: Tuple[float, float]
    orient: object


def parse_orient(text: Optional[str]):
    """orient -> 'auto' | 'auto-start-reverse' | degrees (float); invalid or absent: 0."""
    t = (text or "").strip()
    if t in ("auto", "auto-start-reverse"):
        return t
    m = _ANGLE.match(t)
    if not m:
        return 0.0
    value = float(m.group(1)) * _DEGREES_PER[m.group(2)]
    return value if math.isfinite(value) else 0.0


def marker_box(loader, marker, viewport, stroke_width: float) -> Optional[MarkerBox]:
    """The MarkerBox of ``marker`` used by a shape with this (scalar, user units) stroke
    width in a viewport (w, h); None when the marker draws nothing (markerWidth or
    markerHeight <= 0, or a zero stroke width with markerUnits=strokeWidth)."""
    units = (marker.attrs.get("markerUnits") or "").strip()
    s = 1.0 if units == "userSpaceOnUse" else float(stroke_width)
    ref_x = length(loader, marker, "refX", viewport, 0, 0.0)
    ref_y = length(loader, marker, "refY", viewport, 1, 0.0)
    w = length(loader, marker, "markerWidth", viewport, 0, 3.0)
    h = length(loader, marker, "markerHeight", viewport, 1, 3.0)
    if not (w > 0 and h > 0 and s > 0):
        return None
    vb = viewbox(loader, marker)
    if vb:
        fit = viewbox_transform(vb, (0.0, 0.0, w * s, h * s), marker.attrs.get("preserveAspectRatio", ""))
        sx, sy, tx, ty = fit[0, 0], fit[1, 1], fit[0, 2], fit[1, 2]
        # the viewport (0, 0, w s, h s) seen from the content (SVG clips there, resvg at the viewBox)
        clip = (-tx / sx, -ty / sy, (w * s - tx) / sx, (h * s - ty) / sy)
        inner = (vb[2], vb[3])
    else:
        sx = sy = s
        clip, inner = (0.0, 0.0, w, h), (w, h)
    overflow = specified(loader, marker).get("overflow", "hidden")   # UA sheet: hidden
    if overflow in ("visible", "auto"):
        clip = None
    base = scale(sx, sy) @ translate(-ref_x, -ref_y)
    return MarkerBox(base, clip, inner, parse_orient(marker.attrs.get("orient")))


@dataclass
class _Content:
    """A marker's parsed content: scene objects in content units, the shapes and points
    one instance adds to the loader's counts, and whether it reaches past the viewport."""

    kids: tuple
    shapes: int
    points: int
    overflows: bool
    context: bool = False   # holds context-fill / context-stroke placeholders


def strip_ids(obj):
    """The object with its id and its descendants' ids removed (instances repeat them)."""
    if isinstance(obj, S.Group):
        return S.replace(obj, id=None, children=tuple(strip_ids(c) for c in obj.children))
    return S.replace(obj, id=None)


def _content(loader, marker, box: MarkerBox, depth, use_stack) -> _Content:
    """Parse (once per marker, viewport and marker nesting) a marker's children."""
    key = (id(marker), box.viewport, box.clip, tuple(id(m) for m in loader.marker_stack))
    cache = loader.marker_contents
    if key in cache:
        return cache[key]
    shapes0, points0 = loader.shape_count, loader.point_count
    outer = loader.marker_stack
    loader.marker_stack = outer + (marker,)   # markers whose content is being parsed
    try:
        style = dom_style(loader, marker)     # inherits from the marker's ancestors
        with reading_context(loader):         # the marked shape is the context element
            kids = loader.children_of(marker, style, box.viewport, depth, use_stack)
    finally:
        loader.marker_stack = outer
    got = _Content(tuple(strip_ids(k) for k in kids), loader.shape_count - shapes0,
                   loader.point_count - points0, box.clip is not None and _overflows(kids, box.clip),
                   has_placeholders(kids))
    # instances are counted one by one when placed
    loader.shape_count, loader.point_count = shapes0, points0
    cache[key] = got
    return got


def _overflows(kids, rect) -> bool:
    """True if the content may paint outside ``rect`` (x0, y0, x1, y1), content units.

    Exact geometry bounds, strokes padded generously (miter_limit x half width for miter
    joins, sqrt(2) x for square caps), so a False is safe: the clip would change nothing.
    """
    x0, y0, x1, y1 = rect
    tol = 1e-6 * (1.0 + max(abs(v) for v in rect))
    stack = [(k, np.eye(3)) for k in kids]
    while stack:
        obj, parent = stack.pop()
        m = parent @ np.asarray(obj.transform, np.float64)
        if isinstance(obj, S.Group):
            stack += [(c, m) for c in obj.children]
            continue
        subs = transformed_outline(obj, m)
        if not subs:
            continue
        bx0, by0, bx1, by1 = bbox_subpaths(subs)
        pad = 0.0
        if obj.stroke is not None:
            factor = max(obj.miter_limit if obj.line_join == "miter" else 1.0,
                         math.sqrt(2.0) if obj.line_cap == "square" else 1.0)
            stretch = float(np.linalg.norm(m[:2, :2], 2))   # largest singular value
            pad = 0.5 * float(np.max(np.asarray(obj.stroke_width))) * factor * stretch
        if bx0 - pad < x0 - tol or by0 - pad < y0 - tol or bx1 + pad > x1 + tol or by1 + pad > y1 + tol:
            return True
    return False


def _viewport_clip(group: S.Group, rect) -> S.Group:
    """The instance Group clipped to the marker viewport ``rect`` (x0, y0, x1, y1), in the
    group's own (content) space: a ClipPath whose single child is the viewport Rect."""
    x0, y0, x1, y1 = rect
    box = S.Rect(p_min=[x0, y0], p_max=[x1, y1])
    return S.replace(group, clip=S.ClipPath(children=(box,)))


# ---------------------------------------------------------------------------------------
# the hook: marker instances of one shape
# ---------------------------------------------------------------------------------------


def referenced_marker(loader, node, prop: str, value: str):
    """The <marker> element a marker-* value names, or None (with a warning naming the
    shape when the reference is broken, is not a marker, or is recursive)."""
    if value == "none":
        return None
    ref = parse_url(value)
    if not ref or ref[1]:
        loader.warn(f"{describe(node)}: {prop}: {value!r} is not a url(#id) (ignored)")
        return None
    ident = ref[0]
    target = loader.ids.get(ident)
    if target is None:
        loader.warn(f"{describe(node)}: {prop}: url(#{ident}) names no element (ignored)")
        return None
    if target.tag != "marker" or not target.is_svg:
        loader.warn(f"{describe(node)}: {prop}: url(#{ident}) is a <{target.tag}>, not a <marker> (ignored)")
        return None
    if target in loader.marker_stack:
        loader.warn(f"{describe(target)}: recursive marker (its content uses itself; cut)",
                    key="marker-recursive-" + ident)
        return None
    return target


def decorate(loader, node, style, shapes: list, outline, stroke_width: float, viewport, depth,
             use_stack, transform, paints=(None, None)) -> list:
    """The scene objects of one shape element with its markers, in paint-order.

    shapes: the element's shapes (fill / stroke order, no opacity yet); outline: a function
    returning its subpaths (called only when a marker property is set); the rest as in
    ``marker_group``. Elements without markers get ``shapes`` back unchanged.
    """
    if node.tag not in MARKABLE or all(style[p] == "none" for p in PROPERTIES):
        return shapes
    group = marker_group(loader, node, style, viewport, depth, use_stack, outline(), stroke_width, transform,
                         paints)
    return apply_paint_order(shapes, group, paint_order(style["paint-order"]))


def marker_group(loader, node, style, viewport, depth, use_stack, subpaths, stroke_width,
                 transform, paints=(None, None)) -> Optional[S.Group]:
    """The Group of all marker instances of one shape, or None.

    Args:
      loader: the read.loader.Loader (ids, styles, element parsing, counts, warnings).
      node, style: the shape element and its computed style.
      viewport: (w, h) of the shape, for percentages in the marker attributes.
      depth, use_stack: the shape's nesting, passed on to the marker content.
      subpaths: the shape's outline (Subpath list, user units).
      stroke_width: float, the shape's stroke width (user units), for markerUnits.
      transform: float64 (3, 3) the shape's transform (the Group's transform).
      paints: the shape's (fill, stroke) paints in its user space, what context-fill /
        context-stroke in the marker content paint with (read/context.py).
    Instances stop, with a warning, where they would pass the loader's shape / point
    limits (errors.MAX_SHAPES, errors.MAX_POINTS), so huge paths cannot exhaust memory.
    """
    if node.tag not in MARKABLE or not subpaths:
        return None
    if any(a.tag == "clipPath" for a in node.ancestors()):
        return None   # clip geometry has no markers
    instances = []
    for prop, which in zip(PROPERTIES, ("start", "mid", "end")):
        marker = referenced_marker(loader, node, prop, style[prop])
        if marker is None:
            continue
        box = marker_box(loader, marker, viewport, stroke_width)
        if box is None:
            continue
        content = _content(loader, marker, box, depth, use_stack)
        if not content.kids:
            continue
        for point, angle in vertices(subpaths, which):
            if not _count_instance(loader, node, marker, content):
                break
            instances.append(_instance(box, content, point, angle, which == "start", paints))
    if not instances:
        return None
    ident = node.attrs.get("id")
    return S.Group(children=tuple(instances), transform=transform,
                   id=(ident + "-markers") if ident else None)


def _count_instance(loader, node, marker, content: _Content) -> bool:
    """Add one instance to the loader's counts; False (and a warning) past the limits."""
    shapes = loader.shape_count + max(content.shapes, 1)
    points = loader.point_count + content.points
    if shapes > errors.MAX_SHAPES or points > errors.MAX_POINTS:
        loader.warn(f"{describe(node)}: {describe(marker)}: marker instances stop at the "
                    f"{errors.MAX_SHAPES}-shape / {errors.MAX_POINTS}-point limits (the rest are dropped)",
                    key="marker-limit")
        return False
    loader.shape_count, loader.point_count = shapes, points
    return True


def _instance(box: MarkerBox, content: _Content, point, auto_angle: float, is_start: bool,
              paints=(None, None)) -> S.Group:
    """One marker instance: the content under its placement at one vertex, its
    context-fill / context-stroke resolved to the shape's ``paints`` (fill, stroke)."""
    if box.orient == "auto":
        angle = auto_angle
    elif box.orient == "auto-start-reverse":
        angle = auto_angle + 180.0 if is_start else auto_angle
    else:
        angle = box.orient
    mat = translate(point[0], point[1]) @ rotate(angle) @ box.base
    group = S.Group(children=content.kids, transform=mat)
    if content.context:
        group = resolve([group], *paints)[0]
    return _viewport_clip(group, box.clip) if content.overflows else group
