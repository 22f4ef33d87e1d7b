"""Subpath geometry in float64 NumPy (user units): basic shapes as subpaths (starting where
SVG says, for dashing and markers), Bezier points and exact bounding boxes.

Subpaths are :class:`diffvg_jax.svg.values.paths.Subpath`.
"""
from __future__ import annotations

import math
from typing import List, Tuple

import numpy as np

from ..values.paths import Subpath, ellipse_arc_cubics

BBox = Tuple[float, float, float, float]   # (x0, y0, x1, y1)


def ellipse_subpath(cx, cy, rx, ry) -> Subpath:
    """Closed ellipse from (cx + rx, cy), clockwise on screen (towards +y)."""
    segs = ellipse_arc_cubics(np.array([cx, cy], float), rx, ry, 0.0, 0.0, 2 * math.pi)
    start = np.array([cx + rx, cy], float)
    segs[-1][-1] = start
    return Subpath(start, segs, True)


def rect_subpath(x, y, w, h, rx, ry) -> Subpath:
    """Closed (rounded) rectangle from (x + rx, y) clockwise, corner radii already clamped."""
    def line(px, py):
        return np.array([[px, py]], float)

    start = np.array([x + rx, y], float)
    round_ = rx > 0 and ry > 0
    segs = [line(x + w - rx, y)] if w > 2 * rx else []
    if round_:
        segs += ellipse_arc_cubics(np.array([x + w - rx, y + ry]), rx, ry, 0, -math.pi / 2, math.pi / 2)
    if h > 2 * ry:
        segs.append(line(x + w, y + h - ry))
    if round_:
        segs += ellipse_arc_cubics(np.array([x + w - rx, y + h - ry]), rx, ry, 0, 0, math.pi / 2)
    if w > 2 * rx:
        segs.append(line(x + rx, y + h))
    if round_:
        segs += ellipse_arc_cubics(np.array([x + rx, y + h - ry]), rx, ry, 0, math.pi / 2, math.pi / 2)
    if h > 2 * ry or not round_:
        segs.append(line(x, y + ry))
    if round_:
        segs += ellipse_arc_cubics(np.array([x + rx, y + ry]), rx, ry, 0, math.pi, math.pi / 2)
    segs[-1][-1] = start
    return Subpath(start, segs, True)


def poly_subpath(points: np.ndarray, closed: bool) -> Subpath:
    """Polyline / polygon (float64 (n, 2) points) as line segments; a polygon not already
    back at its first point gets the closing line (``close_added``)."""
    segs = [p[None].copy() for p in points[1:]]
    added = closed and (len(points) < 2 or bool(np.any(points[-1] != points[0])))
    if added:
        segs.append(points[0][None].copy())
    return Subpath(points[0].copy(), segs, closed, close_added=added)


def bezier_points(ctrl: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(m, 2) points of the Bezier with control points ctrl (k+1, 2) at parameters t (m,)."""
    pts = np.repeat(ctrl[None], len(t), 0)
    t = t[:, None, None]
    while pts.shape[1] > 1:
        pts = (1 - t) * pts[:, :-1] + t * pts[:, 1:]
    return pts[:, 0]


def bbox_points(pts: np.ndarray) -> BBox:
    """Bounding box of (n, 2) points, Python floats."""
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def bbox_subpaths(subs: List[Subpath]) -> BBox:
    """Exact bounding box of the curves (extrema of each Bezier), float64."""
    xs, ys = [], []
    for sp in subs:
        p0 = sp.start
        xs.append(p0[0]); ys.append(p0[1])
        for seg in sp.segments:
            ctrl = np.concatenate([p0[None], seg])
            ts = [1.0]
            for axis in (0, 1):
                ts += _extrema(ctrl[:, axis])
            pts = bezier_points(ctrl, np.array(ts))
            xs += list(pts[:, 0]); ys += list(pts[:, 1])
            p0 = seg[-1]
    return (min(xs), min(ys), max(xs), max(ys))


def _extrema(c) -> List[float]:
    """Parameters in (0, 1) where a 1-D Bezier (degree 1 to 3, control values c) turns."""
    k = len(c) - 1
    if k == 1:
        return []
    if k == 2:
        den = c[0] - 2 * c[1] + c[2]
        return [float((c[0] - c[1]) / den)] if den != 0 and 0 < (c[0] - c[1]) / den < 1 else []
    a = -c[0] + 3 * c[1] - 3 * c[2] + c[3]
    b = 2 * (c[0] - 2 * c[1] + c[2])
    cc = c[1] - c[0]
    roots = []
    if abs(a) < 1e-12:
        if b != 0:
            roots = [-cc / b]
    else:
        disc = b * b - 4 * a * cc
        if disc >= 0:
            q = math.sqrt(disc)
            roots = [(-b + q) / (2 * a), (-b - q) / (2 * a)]
    return [float(t) for t in roots if 0 < t < 1]
