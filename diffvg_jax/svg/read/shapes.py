"""Basic shapes and paths for load_svg: <rect>, <circle>, <ellipse>, <line>, <polyline>,
<polygon>, <path> -> scene shapes with their paints, stroke properties, dashes (applied
here, on the geometry: the stroke becomes a separate Path of open dash subpaths) and
markers. Coordinates are float64 user units until the scene stores them as float32.
"""
from __future__ import annotations

from typing import Callable, List, NamedTuple, Optional

import numpy as np

from ... import scene as S
from .. import errors
from ..errors import SVGError, describe, finite32
from ..outlines import (BBox, bbox_points, bbox_subpaths, dash_subpaths, ellipse_subpath, path_arrays,
                        poly_subpath, rect_subpath)
from ..values import paths
from ..values.paths import Subpath
from ..values.units import parse_length, parse_numbers, parse_opacity, split_list, viewport_diagonal
from . import markers
from .coords import diagonal_length, length, positive32
from .paint_servers import paint
from .styles import layer_opacity

SHAPE_TAGS = {"rect", "circle", "ellipse", "line", "polyline", "polygon", "path"}
_BASIC = ("rect", "circle", "ellipse")   # markers read the equivalent path (marker_outline)
_JOINS = {"miter-clip": "miter", "arcs": "miter"}   # SVG 2 joins the renderer draws as miter


class Geometry(NamedTuple):
    """A shape element's geometry: the scene constructor and its geometry arguments, the
    fill bounding box (x0, y0, x1, y1) and a function returning its subpaths (for dashes
    and markers, called only when needed)."""

    make: type
    kwargs: dict
    bbox: BBox
    outline: Callable[[], List[Subpath]]


def shape(loader, node, style, viewport, transform, depth=0, use_stack=()) -> list:
    """Scene objects of one shape element: the shape (or its fill and its dash Path), its
    markers, in paint-order, with the element's opacity; [] when nothing draws."""
    if style["visibility"] != "visible":
        return []
    geom = geometry(loader, node, style, viewport)
    if geom is None:
        return []
    fs = float(style["font-size"])
    fill = paint(loader, node, style, "fill", geom.bbox)
    stroke = paint(loader, node, style, "stroke", geom.bbox)
    sw = diagonal_length(loader, style["stroke-width"], viewport, fs, 1.0, node, "stroke-width")
    if sw <= 0:
        stroke = None
    paints = (fill, stroke)   # context-fill / context-stroke of its markers
    if node.tag == "line":
        fill = None  # a line has no interior
    common = dict(
        fill_opacity=parse_opacity(style["fill-opacity"]), stroke_opacity=parse_opacity(style["stroke-opacity"]),
        stroke_width=sw, transform=transform, fill_rule=style["fill-rule"],
        line_join=_JOINS.get(style["stroke-linejoin"], style["stroke-linejoin"]),
        line_cap=style["stroke-linecap"], miter_limit=float(style["stroke-miterlimit"]),
        paint_order=_paint_order(style["paint-order"]), shape_rendering=style["shape-rendering"])
    widths = node.attrs.get("dv:stroke-widths")
    if widths is not None and node.tag in ("path", "polyline", "polygon"):
        try:
            w_arr = np.array(parse_numbers(widths, "dv:stroke-widths"))
            if len(w_arr) == len(geom.kwargs["points"]):
                common["stroke_width"] = w_arr
        except ValueError:
            loader.warn(f"{describe(node)}: bad dv:stroke-widths (ignored)")
    dashes = dash_pattern(loader, node, style, viewport, fs) if stroke is not None else None
    out = _painted(loader, node, geom, fill, stroke, common, dashes)
    # markers join the shape's opacity layer (resvg); paint-order may put them first
    outline = geom.outline if node.tag not in _BASIC else (lambda: marker_outline(node.tag, geom.kwargs))
    out = markers.decorate(loader, node, style, out, outline, sw, viewport, depth, use_stack, transform,
                           paints)
    opacity = layer_opacity(loader, node, style)
    ident = node.attrs.get("id")
    if opacity is not None and len(out) > 1:
        return [S.Group(children=tuple(out), opacity=opacity, id=(ident + "-layer") if ident else None)]
    if opacity is not None and out:
        out = [S.replace(out[0], opacity=opacity)]
    return out


def _painted(loader, node, geom: Geometry, fill, stroke, common: dict, dashes) -> list:
    """The shape with fill and stroke, or (dashed) its fill-only shape and the dash Path."""
    ident = node.attrs.get("id")
    check_numbers({**common, **geom.kwargs})
    if dashes is None:
        loader.count_shape(node)
        return [geom.make(fill=fill, stroke=stroke, id=ident, **common, **geom.kwargs)]
    pattern, offset = dashes
    try:
        dash_subs = dash_subpaths(geom.outline(), pattern, offset, common["line_cap"] != "butt",
                                  errors.MAX_DASHES - loader.dash_count)
    except ValueError as e:
        raise SVGError(f"{describe(node)}: {e} (the limit counts every dash of the document)") from None
    loader.dash_count += len(dash_subs)
    out = []
    if fill is not None:
        loader.count_shape(node)
        out.append(geom.make(fill=fill, stroke=None, id=ident, **common, **geom.kwargs))
    if dash_subs:
        loader.count_shape(node)
        kw = path_arrays(dash_subs)
        loader.count_points(node, len(kw["points"]))
        dcommon = dict(common)
        if np.ndim(dcommon["stroke_width"]):
            dcommon["stroke_width"] = float(np.mean(dcommon["stroke_width"]))
        dash = S.Path(fill=None, stroke=stroke, id=(ident + "-dashes") if ident else None, **dcommon, **kw)
        out = [dash] + out if common["paint_order"] == "stroke" else out + [dash]
    return out


def marker_outline(tag: str, kw: dict) -> List[Subpath]:
    """The subpaths whose vertices take markers on a <rect>, <circle> or <ellipse> (SVG 2
    markers on all shapes): the shape's equivalent path (SVG 2 10.2-10.4, with resvg's
    arcs: a rounded rect's corners and an ellipse's quarters are arc commands, a square
    rect four lines), from the scene arguments ``kw`` (user units)."""
    f = lambda v: np.asarray(v, np.float64).tolist()   # Python floats: their str is exact
    if tag == "rect":
        (x, y), (x1, y1), (rx, ry) = f(kw["p_min"]), f(kw["p_max"]), f(kw["corner_radius"])
        w, h = x1 - x, y1 - y
        rx, ry = min(rx, w / 2), min(ry, h / 2)
        if not (rx > 0 and ry > 0):
            d = f"M {x} {y} H {x1} V {y1} H {x} Z"
        else:
            arc = f"A {rx} {ry} 0 0 1"
            d = (f"M {x + rx} {y} H {x1 - rx} {arc} {x1} {y + ry} V {y1 - ry} {arc} {x1 - rx} {y1} "
                 f"H {x + rx} {arc} {x} {y1 - ry} V {y + ry} {arc} {x + rx} {y} Z")
    else:
        (cx, cy), r = f(kw["center"]), f(kw["radius"])
        rx, ry = (r, r) if isinstance(r, float) else (r[0], r[1])
        arc = f"A {rx} {ry} 0 0 1"
        d = (f"M {cx + rx} {cy} {arc} {cx} {cy + ry} {arc} {cx - rx} {cy} {arc} {cx} {cy - ry} "
             f"{arc} {cx + rx} {cy} Z")
    return paths.parse_path_data(d)


def check_numbers(kwargs: dict) -> None:
    """ValueError naming the first scene argument (number or array) that is not finite in
    float32 (a sum such as x + width can overflow although each number is finite)."""
    for name, value in kwargs.items():
        if isinstance(value, (float, int, np.ndarray, list)) and not isinstance(value, bool):
            finite32(value, name.replace("_", "-"))


def geometry(loader, node, style, viewport) -> Optional[Geometry]:
    """The Geometry of a shape element, or None when it draws nothing (zero size, no data)."""
    tag = node.tag
    L = lambda attr, axis, default=0.0: length(loader, node, attr, viewport, axis, default, style)
    if tag == "rect":
        return _rect(loader, node, L)
    if tag in ("circle", "ellipse"):
        return _ellipse(tag, L)
    if tag == "line":
        pts = np.array([[L("x1", 0), L("y1", 1)], [L("x2", 0), L("y2", 1)]])
        return Geometry(S.Polyline, dict(points=pts), bbox_points(pts), lambda: [poly_subpath(pts, False)])
    if tag in ("polyline", "polygon"):
        return _poly(loader, node, tag == "polygon")
    return _path(loader, node)


def _rect(loader, node, L) -> Optional[Geometry]:
    x, y, w, h = L("x", 0), L("y", 1), L("width", 0), L("height", 1)
    rx = L("rx", 0, None)
    ry = L("ry", 1, None)
    rx = None if rx is not None and rx < 0 else rx
    ry = None if ry is not None and ry < 0 else ry
    if rx is None and ry is None:
        rx = ry = 0.0
    elif rx is None:
        rx = ry
    elif ry is None:
        ry = rx
    if w <= 0 or h <= 0:
        if w < 0 or h < 0:
            loader.warn(f"{describe(node)}: negative width or height (not rendered)")
        return None
    if not positive32([x, y], [x + w, y + h]):
        return None   # zero size once stored as float32: what save_svg writes and reads back
    rx_c, ry_c = min(rx, w / 2), min(ry, h / 2)   # the renderer clamps the same way
    kw = dict(p_min=[x, y], p_max=[x + w, y + h], corner_radius=[rx, ry])
    return Geometry(S.Rect, kw, (x, y, x + w, y + h),
                    lambda: [rect_subpath(x, y, w, h, rx_c if ry_c > 0 else 0, ry_c if rx_c > 0 else 0)])


def _ellipse(tag, L) -> Optional[Geometry]:
    cx, cy = L("cx", 0), L("cy", 1)
    if tag == "circle":
        r = L("r", 2)
        rx = ry = r
    else:
        rx, ry = L("rx", 0, None), L("ry", 1, None)
        rx = None if rx is not None and rx < 0 else rx   # negative = auto (SVG 2, resvg)
        ry = None if ry is not None and ry < 0 else ry
        if rx is None and ry is None:
            return None
        rx = ry if rx is None else rx
        ry = rx if ry is None else ry
    if rx <= 0 or ry <= 0 or np.float32(rx) <= 0 or np.float32(ry) <= 0:
        return None   # (zero once stored as float32: as save_svg writes it and load reads it back)
    if tag == "circle":
        make, kw = S.Circle, dict(center=[cx, cy], radius=rx)
    else:
        make, kw = S.Ellipse, dict(center=[cx, cy], radius=[rx, ry])
    return Geometry(make, kw, (cx - rx, cy - ry, cx + rx, cy + ry), lambda: [ellipse_subpath(cx, cy, rx, ry)])


def _poly(loader, node, closed: bool) -> Optional[Geometry]:
    try:
        vals = parse_numbers(node.attrs.get("points", ""), "points")
    except ValueError as e:
        loader.warn(f"{describe(node)}: points: {e.args[0]} (drawn up to the error)")
        vals = e.args[1]
    if len(vals) % 2:
        vals = vals[:-1]
    pts = np.array(vals, dtype=np.float64).reshape(-1, 2)
    if len(pts) < 2:
        return None
    loader.count_points(node, len(pts))
    return Geometry(S.Polygon if closed else S.Polyline, dict(points=pts), bbox_points(pts),
                    lambda: [poly_subpath(pts, closed)])


def _path(loader, node) -> Optional[Geometry]:
    try:
        subs = paths.parse_path_data(node.attrs.get("d", ""), errors.MAX_POINTS, errors.MAX_PATH_SEGMENTS)
    except paths.PathDataError as e:
        loader.warn(f"{describe(node)}: d: {e} (drawn up to the error)")
        subs = e.subpaths
    if not subs:
        return None
    kw = path_arrays(subs)
    loader.count_points(node, len(kw["points"]))
    return Geometry(S.Path, kw, bbox_subpaths(subs), lambda: subs)


def dash_pattern(loader, node, style, viewport, fs):
    """(even-length dash lengths, offset) in user units of stroke-dasharray /
    stroke-dashoffset, or None for a solid stroke."""
    text = style["stroke-dasharray"]
    if text == "none":
        return None
    diag = viewport_diagonal(*viewport)
    try:
        vals = [parse_length(t, font_size=fs, percent_of=diag) for t in split_list(text)]
    except ValueError as e:
        loader.warn(f"{describe(node)}: stroke-dasharray: {e} (solid stroke)")
        return None
    if not vals or any(v < 0 for v in vals) or sum(vals) <= 0:
        return None
    if len(vals) % 2:
        vals = vals * 2
    try:
        offset = parse_length(style["stroke-dashoffset"], font_size=fs, percent_of=diag)
    except ValueError:
        offset = 0.0
    return vals, offset


def _paint_order(text: str) -> str:
    """The scene's static paint order ('fill' or 'stroke' first) of a paint-order value."""
    order = markers.paint_order(text)
    return "stroke" if order.index("stroke") < order.index("fill") else "fill"
