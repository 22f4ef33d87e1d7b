"""Scene shapes <-> float64 subpaths (user units): the Path constructor arrays of subpaths
(load_svg), the subpaths of Path arrays (save_svg's path data), the outline of any scene
shape, and the exact fill bounding box of scene objects (objectBoundingBox units)."""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from ... import scene as S
from ..values.paths import Subpath
from ..values.transforms import apply_affine
from .curves import BBox, bbox_subpaths, ellipse_subpath, poly_subpath, rect_subpath


def path_arrays(subpaths: List[Subpath]) -> dict:
    """Path constructor arguments from subpaths: points float64 (n, 2), degrees,
    subpath_sizes and closed (tuples); a closed subpath's last point (its start) omitted."""
    pts, degrees, sizes, closed = [], [], [], []
    for sp in subpaths:
        segs = sp.segments
        if not segs:
            continue
        pts.append(sp.start[None])
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            pts.append(seg[:-1] if (sp.closed and last) else seg)
            degrees.append(len(seg))
        sizes.append(len(segs))
        closed.append(bool(sp.closed))
    return dict(points=np.concatenate(pts, 0), degrees=tuple(degrees), subpath_sizes=tuple(sizes),
                closed=tuple(closed))


def path_subpaths(points: np.ndarray, degrees, subpath_sizes, closed) -> List[Subpath]:
    """The inverse of :func:`path_arrays`: subpaths of Path arrays (points (n, 2) in any
    float dtype, kept), a closed subpath's last segment ending at its start again."""
    out = []
    for first, degs, is_closed, _ in S.subpath_layout(tuple(degrees), tuple(subpath_sizes), tuple(closed)):
        start, segs, i = points[first], [], first + 1
        for j, d in enumerate(degs):
            if is_closed and j == len(degs) - 1:
                segs.append(np.concatenate([points[i:i + d - 1], start[None]]))
            else:
                segs.append(points[i:i + d])
            i += d
        out.append(Subpath(start, segs, is_closed))
    return out


def shape_outline(shape) -> List[Subpath]:
    """float64 subpaths of a scene shape in its user space (Bezier control points)."""
    f = lambda x: np.asarray(x, np.float64)
    if isinstance(shape, S.Rect):
        lo, hi, r = f(shape.p_min), f(shape.p_max), f(shape.corner_radius)
        w, h = hi - lo
        if not (w > 0 and h > 0):
            return [poly_subpath(np.array([lo, hi]), False)]
        rx, ry = min(max(r[0], 0.0), w / 2), min(max(r[1], 0.0), h / 2)
        if not (rx > 0 and ry > 0):
            rx = ry = 0.0
        return [rect_subpath(lo[0], lo[1], w, h, rx, ry)]
    if isinstance(shape, (S.Circle, S.Ellipse)):
        c, r = f(shape.center), f(shape.radius)
        rx, ry = (r, r) if r.ndim == 0 else (r[0], r[1])
        return [ellipse_subpath(c[0], c[1], float(rx), float(ry))]
    if isinstance(shape, (S.Polygon, S.Polyline)):
        pts = f(shape.points)
        return [poly_subpath(pts, isinstance(shape, S.Polygon))] if len(pts) else []
    return path_subpaths(f(shape.points), shape.degrees, shape.subpath_sizes, shape.closed)


def transformed_outline(shape, m: np.ndarray) -> List[Subpath]:
    """:func:`shape_outline` mapped by the float64 (3, 3) affine ``m``."""
    return [Subpath(apply_affine(m, sp.start), [apply_affine(m, seg) for seg in sp.segments], sp.closed)
            for sp in shape_outline(shape)]


def objects_bbox(objs, mat: np.ndarray) -> Optional[BBox]:
    """Exact bounding box of the shapes' geometry (strokes excluded) under ``mat``
    (float64 (3, 3)); None when it has zero width or height."""
    subs = []
    for obj in objs:
        _collect_subpaths(obj, mat, subs)
    if not subs:
        return None
    x0, y0, x1, y1 = bbox_subpaths(subs)
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
        c, r = apply_affine(m, obj.center), np.broadcast_to(np.asarray(obj.radius, np.float64), (2,))
        half = np.hypot(m[:2, 0] * r[0], m[:2, 1] * r[1])
        out.append(Subpath(c - half, [(c + half)[None]], False))
        return
    out.extend(transformed_outline(obj, m))
