"""SVG markers for load_svg: ``<marker>``, ``marker-start`` / ``-mid`` / ``-end`` (and the CSS
``marker`` shorthand, expanded by the cascade), and ``paint-order`` with ``markers``.

Markers are expanded at load time into ordinary scene objects. For a path, line, polyline
or polygon whose computed ``marker-*`` property names a ``<marker>``:

  * the *vertices* are those of the path data: each subpath's moveto, the end of every
    command (an arc is one segment although it becomes several cubics) and each closepath
    (zero-length when the data is already back at the subpath's start). marker-start goes
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
from typing import Iterator, List, Optional, Tuple

import numpy as np

from .. import scene as S
from . import errors, paths
from .errors import describe
from .transforms import rotate, scale, translate

MARKABLE = ("path", "line", "polyline", "polygon")
PROPERTIES = ("marker-start", "marker-mid", "marker-end")
PAINT_ORDER_DEFAULT = ("fill", "stroke", "markers")
_URL = re.compile(r"^url\(\s*(['\"]?)#([^)'\"]*)\1\s*\)\s*$", re.S)
_ANGLE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(deg|grad|rad|turn)?$")
_DEGREES_PER = {"deg": 1.0, None: 1.0, "grad": 0.9, "rad": 180.0 / math.pi, "turn": 360.0}
_COINCIDENT = 1e-9  # control points closer than this x (1 + |coordinates|) coincide


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
# vertices and their directions
# ---------------------------------------------------------------------------------------


def _segment_count(sp: paths.Subpath) -> int:
    """Marker segments of a subpath: one per path-data command (an arc: one per piece of
    resvg's split, see ``paths.Subpath.marker_arcs``), plus a zero-length closepath."""
    n = len(sp.commands) if sp.commands is not None else len(sp.segments)
    if sp.marker_arcs:
        n += sum(len(pieces) - 1 for pieces in sp.marker_arcs.values())
    return n + (1 if sp.closed and not sp.close_added else 0)


def vertex_count(subpaths: List[paths.Subpath]) -> int:
    """Number of marker vertices of a path (int): per subpath, its start + one per segment."""
    return sum(1 + _segment_count(sp) for sp in subpaths)


class _Segments:
    """The path-data segments of one subpath, built on demand (a path may hold 2M points).

    ``self[k]``: float64 (m, 2) control polygon of segment k, its start point first and its
    end point last (an arc's cubics concatenated; a zero-length closepath is [start, start]).
    """

    def __init__(self, sp: paths.Subpath):
        self.sp = sp
        sizes = sp.commands if sp.commands is not None else [1] * len(sp.segments)
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        self.count = _segment_count(sp)
        # marker segment -> (command, piece of an arc's marker split or -1); only built
        # when the subpath has arcs (a path may hold 2M points)
        self.index = None
        if sp.marker_arcs:
            self.index = [(c, j) for c in range(len(sizes))
                          for j in (range(len(sp.marker_arcs[c])) if c in sp.marker_arcs else (-1,))]

    def __len__(self):
        return self.count

    def __getitem__(self, k: int) -> np.ndarray:
        sp = self.sp
        c, piece = self.index[k] if self.index is not None and k < len(self.index) else (k, -1)
        if c >= len(self.offsets) - 1:          # the zero-length closepath
            return np.stack([sp.start, sp.start])
        lo, hi = self.offsets[c], self.offsets[c + 1]
        first = sp.start if lo == 0 else sp.segments[lo - 1][-1]
        if piece >= 0:
            pieces = sp.marker_arcs[c]
            start = first if piece == 0 else pieces[piece - 1][-1]
            return np.concatenate([start[None], pieces[piece]])
        return np.concatenate([first[None]] + [np.asarray(s, np.float64) for s in sp.segments[lo:hi]])


def _leaving(ctrl: np.ndarray) -> Optional[np.ndarray]:
    """Unit (2,) direction from ctrl[0] to the first control point distinct from it (the
    tangent at the start of a Bezier), None for a zero-length segment.

    Exception, as resvg: a cubic whose first control point coincides with its start points
    at its end point (not at its second control point, the true tangent)."""
    tol = _COINCIDENT * (1.0 + float(np.abs(ctrl).max()))
    if len(ctrl) == 4 and np.all(np.abs(ctrl[1] - ctrl[0]) <= tol):
        ctrl = ctrl[[0, 3, 2]]
    for q in ctrl[1:]:
        d = q - ctrl[0]
        if abs(d[0]) > tol or abs(d[1]) > tol:
            return d / math.hypot(d[0], d[1])
    return None


def _arriving(ctrl: np.ndarray) -> Optional[np.ndarray]:
    """Unit (2,) tangent direction at the end of a segment (into its end point), or None."""
    d = _leaving(ctrl[::-1])
    return None if d is None else -d


def _angle(d: Optional[np.ndarray]) -> float:
    """Degrees of a direction; 0 (the +x axis) when there is none (a zero-length path)."""
    return 0.0 if d is None else math.degrees(math.atan2(d[1], d[0]))


def _bisect(d_in: Optional[np.ndarray], d_out: Optional[np.ndarray]) -> float:
    """Degrees of the bisector of an incoming and an outgoing direction.

    resvg's rule: half-way from the incoming angle to the outgoing one, turned by 180
    degrees when that half-turn exceeds 90 (so a reversal points across, to one side)."""
    if d_in is None or d_out is None:
        return _angle(d_out if d_in is None else d_in)
    a_in, a_out = _angle(d_in) % 360.0, _angle(d_out) % 360.0
    half = (a_out - a_in) / 2.0
    angle = a_in + half
    if abs(half) > 90.0:
        angle -= 180.0
    return angle % 360.0


def _first_leaving(segs: _Segments, k: int = 0) -> Optional[np.ndarray]:
    """Start direction of the first non-zero segment at index >= k (None if none)."""
    for j in range(k, len(segs)):
        d = _leaving(segs[j])
        if d is not None:
            return d
    return None


def _last_arriving(segs: _Segments) -> Optional[np.ndarray]:
    """End direction of the last non-zero segment (None if the subpath has no length)."""
    for j in range(len(segs) - 1, -1, -1):
        d = _arriving(segs[j])
        if d is not None:
            return d
    return None


def _end_vertex(sp: paths.Subpath) -> Tuple[np.ndarray, float]:
    """The last vertex of a subpath, without walking the others (a path may be huge)."""
    segs = _Segments(sp)
    return segs[len(segs) - 1][-1], _angle(_last_arriving(segs))


def _subpath_vertices(sp: paths.Subpath) -> Iterator[Tuple[np.ndarray, float]]:
    """(point float64 (2,), auto angle in degrees) of each vertex of one subpath, lazily.

    Zero-length segments take their directions from the nearest non-zero segments (SVG
    1.1 F.5): the start direction from the preceding one, else the following one; the end
    direction from the following one, else the preceding one. As resvg renders them (our
    conformance reference; SVG 2 would bisect both with the closing segment), a closed
    subpath's start vertex points along its first segment and its closing vertex along
    the closing segment.
    """
    segs = _Segments(sp)
    n = len(segs)
    ahead = [-1, None]   # (index, start direction) of the next non-zero segment, memoised

    def next_start(k):
        """_first_leaving(segs, k), remembering where it found it (amortised linear)."""
        if ahead[0] < k:
            j = k
            while j < n and _leaving(segs[j]) is None:
                j += 1
            ahead[0], ahead[1] = j, (_leaving(segs[j]) if j < n else None)
        return ahead[1]

    yield np.asarray(sp.start, np.float64), _angle(next_start(0))
    prev_end = None   # end direction of the nearest non-zero segment before the vertex
    for k in range(1, n + 1):      # vertex k: the end of segment k - 1
        seg = segs[k - 1]
        d_in = _arriving(seg)
        if d_in is not None:
            prev_end = d_in
        else:
            d_in = next_start(k)
            d_in = prev_end if d_in is None else d_in
        if k == n:
            angle = _angle(d_in)
        else:
            d_out = _leaving(segs[k])
            if d_out is None:
                d_out = prev_end if prev_end is not None else next_start(k + 1)
            angle = _bisect(d_in, d_out)
        yield seg[-1], angle


def vertices(subpaths: List[paths.Subpath], which: str) -> Iterator[Tuple[np.ndarray, float]]:
    """(point (2,), auto angle in degrees) of the vertices one marker property decorates.

    which: 'start' (the path's first vertex), 'mid' (all but the first and last), 'end'
    (the last). Lazy: a 'mid' consumer that stops early costs only what it used.
    """
    if not subpaths:
        return
    if which == "start":
        yield next(_subpath_vertices(subpaths[0]))
        return
    if which == "end":
        yield _end_vertex(subpaths[-1])
        return
    total, index = vertex_count(subpaths), 0
    for sp in subpaths:
        last = index + _segment_count(sp)
        for v in _subpath_vertices(sp):
            # A closed subpath's closing vertex takes no marker-mid (resvg; it coincides
            # with the subpath's start, which has one).
            if 0 < index < total - 1 and not (sp.closed and index == last):
                yield v
            index += 1


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
    from .parse import viewbox_transform   # late: parse imports this module
    units = (marker.attrs.get("markerUnits") or "").strip()
    s = 1.0 if units == "userSpaceOnUse" else float(stroke_width)
    ref_x = loader.length(marker, "refX", viewport, 0, 0.0)
    ref_y = loader.length(marker, "refY", viewport, 1, 0.0)
    w = loader.length(marker, "markerWidth", viewport, 0, 3.0)
    h = loader.length(marker, "markerHeight", viewport, 1, 3.0)
    if not (w > 0 and h > 0 and s > 0):
        return None
    vb = loader._viewbox(marker)
    if vb:
        fit = viewbox_transform(vb, (0.0, 0.0, w * s, h * s), marker.attrs.get("preserveAspectRatio", ""))
        sx, sy, tx, ty = fit[0, 0], fit[1, 1], fit[0, 2], fit[1, 2]
        # the viewport (0, 0, w s, h s) seen from the content (SVG clips there, resvg at the viewBox)
        clip = (-tx / sx, -ty / sy, (w * s - tx) / sx, (h * s - ty) / sy)
        inner = (vb[2], vb[3])
    else:
        sx = sy = s
        clip, inner = (0.0, 0.0, w, h), (w, h)
    overflow = loader.specified(marker).get("overflow", "hidden")   # UA sheet: hidden
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


def _stack(loader) -> tuple:
    """The <marker> elements whose content the loader is parsing, outermost first."""
    return getattr(loader, "_marker_stack", ())


def _strip_ids(obj):
    """The object with its id and its descendants' ids removed (instances repeat them)."""
    if isinstance(obj, S.Group):
        return S.replace(obj, id=None, children=tuple(_strip_ids(c) for c in obj.children))
    return S.replace(obj, id=None)


def _content(loader, marker, box: MarkerBox, depth, use_stack) -> _Content:
    """Parse (once per marker, viewport and marker nesting) a marker's children."""
    key = (id(marker), box.viewport, box.clip, tuple(id(m) for m in _stack(loader)))
    cache = loader.__dict__.setdefault("_marker_content", {})
    if key in cache:
        return cache[key]
    shapes0, points0 = loader.shape_count, loader.point_count
    outer = _stack(loader)
    loader._marker_stack = outer + (marker,)   # markers whose content is being parsed
    try:
        style = loader.dom_style(marker)     # inherits from the marker's ancestors
        kids = loader.children_of(marker, style, box.viewport, depth, use_stack)
    finally:
        loader._marker_stack = outer
    got = _Content(tuple(_strip_ids(k) for k in kids), loader.shape_count - shapes0,
                   loader.point_count - points0, box.clip is not None and _overflows(kids, box.clip))
    # instances are counted one by one when placed
    loader.shape_count, loader.point_count = shapes0, points0
    cache[key] = got
    return got


def _overflows(kids, rect) -> bool:
    """True if the content may paint outside ``rect`` (x0, y0, x1, y1), content units.

    Exact geometry bounds, strokes padded generously (miter_limit x half width for miter
    joins, sqrt(2) x for square caps), so a False is safe: the clip would change nothing.
    """
    from .clipmask import shape_outline   # late: the SVG modules import each other
    from .parse import _bbox_subpaths
    x0, y0, x1, y1 = rect
    tol = 1e-6 * (1.0 + max(abs(v) for v in rect))
    stack = [(k, np.eye(3)) for k in kids]
    while stack:
        obj, parent = stack.pop()
        m = parent @ np.asarray(obj.transform, np.float64)
        if isinstance(obj, S.Group):
            stack += [(c, m) for c in obj.children]
            continue
        subs = [paths.Subpath(_apply(m, sp.start), [_apply(m, seg) for seg in sp.segments], sp.closed)
                for sp in shape_outline(obj)]
        if not subs:
            continue
        bx0, by0, bx1, by1 = _bbox_subpaths(subs)
        pad = 0.0
        if obj.stroke is not None:
            factor = max(obj.miter_limit if obj.line_join == "miter" else 1.0,
                         math.sqrt(2.0) if obj.line_cap == "square" else 1.0)
            stretch = float(np.linalg.norm(m[:2, :2], 2))   # largest singular value
            pad = 0.5 * float(np.max(np.asarray(obj.stroke_width))) * factor * stretch
        if bx0 - pad < x0 - tol or by0 - pad < y0 - tol or bx1 + pad > x1 + tol or by1 + pad > y1 + tol:
            return True
    return False


def _apply(m, pts):
    return np.asarray(pts, np.float64) @ m[:2, :2].T + m[:2, 2]


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
    m = _URL.match(value)
    if not m:
        loader.warn(f"{describe(node)}: {prop}: {value!r} is not a url(#id) (ignored)")
        return None
    target = loader.ids.get(m.group(2))
    if target is None:
        loader.warn(f"{describe(node)}: {prop}: url(#{m.group(2)}) names no element (ignored)")
        return None
    if target.tag != "marker" or not target.is_svg:
        loader.warn(f"{describe(node)}: {prop}: url(#{m.group(2)}) is a <{target.tag}>, not a <marker> (ignored)")
        return None
    if target in _stack(loader):
        loader.warn(f"{describe(target)}: recursive marker (its content uses itself; cut)",
                    key="marker-recursive-" + m.group(2))
        return None
    return target


def decorate(loader, node, style, shapes: list, outline, stroke_width: float, viewport, depth,
             use_stack, transform) -> list:
    """The scene objects of one shape element with its markers, in paint-order.

    shapes: the element's shapes (fill / stroke order, no opacity yet); outline: a function
    returning its subpaths (called only when a marker property is set); the rest as in
    ``marker_group``. Elements without markers get ``shapes`` back unchanged.
    """
    if node.tag not in MARKABLE or all(style[p] == "none" for p in PROPERTIES):
        return shapes
    group = marker_group(loader, node, style, viewport, depth, use_stack, outline(), stroke_width, transform)
    return apply_paint_order(shapes, group, paint_order(style["paint-order"]))


def marker_group(loader, node, style, viewport, depth, use_stack, subpaths, stroke_width,
                 transform) -> Optional[S.Group]:
    """The Group of all marker instances of one shape, or None.

    Args:
      loader: the parse._Loader (ids, styles, element parsing, counts, warnings).
      node, style: the shape element and its computed style.
      viewport: (w, h) of the shape, for percentages in the marker attributes.
      depth, use_stack: the shape's nesting, passed on to the marker content.
      subpaths: the shape's outline (paths.Subpath list, user units).
      stroke_width: float, the shape's stroke width (user units), for markerUnits.
      transform: float64 (3, 3) the shape's transform (the Group's transform).
    Instances stop, with a warning, where they would pass the loader's shape / point
    limits (errors.MAX_SHAPES, errors.MAX_POINTS), so huge paths cannot exhaust memory.
    """
    if node.tag not in MARKABLE or not subpaths:
        return None
    if any(a.tag == "clipPath" for a in _ancestors(node)):
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
            instances.append(_instance(box, content, point, angle, which == "start"))
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


def _instance(box: MarkerBox, content: _Content, point, auto_angle: float, is_start: bool) -> S.Group:
    """One marker instance: the content under its placement at one vertex."""
    if box.orient == "auto":
        angle = auto_angle
    elif box.orient == "auto-start-reverse":
        angle = auto_angle + 180.0 if is_start else auto_angle
    else:
        angle = box.orient
    mat = translate(point[0], point[1]) @ rotate(angle) @ box.base
    group = S.Group(children=content.kids, transform=mat)
    return _viewport_clip(group, box.clip) if content.overflows else group


def _ancestors(node):
    p = node.parent
    while p is not None:
        yield p
        p = p.parent
