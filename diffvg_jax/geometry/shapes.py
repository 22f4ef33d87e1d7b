"""Shapes to cubic Bezier subpaths, in the shape's user space (user units).

Every shape becomes subpaths of cubic segments (lines and quadratics are exact degree
elevations, circles and ellipses are 8 arcs of 45 degrees, max radial error 4e-6 * r), so
flattening (:mod:`.flatten`) and stroking handle one kind of segment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.scene import Circle, Ellipse, Path, Polygon, Polyline, Rect

from .affine import float_dtype

# Cubic approximation of a 45-degree circular arc: handle length factor 4/3 tan(theta/4).
_ARC_K = 4.0 / 3.0 * np.tan(np.pi / 16.0)


@dataclass
class Subpath:
    """One subpath in user space.

    ctrl: float32 (n, 4, 2) cubic control points; consecutive segments share end points.
    closed: static bool.
    widths: float32 (n, 4) per-control-point stroke widths (full width, user units) as a
      cubic Bezier in t, or None when the shape has one scalar width.
    """

    ctrl: jax.Array
    closed: bool
    widths: Optional[jax.Array] = None


# Degree elevation to cubic, as weights over the segment's own points (row j = control j).
ELEVATION = {
    1: np.array([[1, 0], [2 / 3, 1 / 3], [1 / 3, 2 / 3], [0, 1]], np.float64),
    2: np.array([[1, 0, 0], [1 / 3, 2 / 3, 0], [0, 2 / 3, 1 / 3], [0, 0, 1]], np.float64),
    3: np.eye(4, dtype=np.float64),
}


def _path_gather(path: Path):
    """Static gather plan for a Path: per subpath, (src (n, 4) int, weights (n, 4, 4), closed)."""
    plans = []
    for start, degs, closed, n_points in path.subpath_layout():
        size = len(degs)
        src = np.zeros((size, 4), np.int64)
        w = np.zeros((size, 4, 4), np.float64)
        k = 0
        for s, d in enumerate(degs):
            src[s, :d + 1] = [start + (k + i) % n_points for i in range(d + 1)]
            w[s, :, :d + 1] = ELEVATION[d]
            k += d
        plans.append((src, w, closed))
    return plans


def _elevate(values, src, w):
    """Gather per-segment source values (N, ...) and apply elevation weights -> (n, 4, ...)."""
    gathered = values[src]  # (n, 4, ...)
    return jnp.einsum("njk,nk...->nj...", w, gathered)


def _line_subpath(points, closed, widths):
    n = points.shape[0]
    k = n if closed else n - 1
    if n == 0:
        return []
    if k <= 0:  # a single point: one degenerate segment (round / square caps still draw it)
        src = np.zeros((1, 4), np.int64)
        w = np.zeros((1, 4, 4), np.float64)
        w[0, :, 0] = 1.0
        return [Subpath(_elevate(points, src, w), False, None if widths is None else _elevate(widths, src, w))]
    src = np.zeros((k, 4), np.int64)
    w = np.zeros((k, 4, 4), np.float64)
    for s in range(k):
        src[s, :2] = [s, (s + 1) % n]
        w[s, :, :2] = ELEVATION[1]
    return [Subpath(_elevate(points, src, w), closed, None if widths is None else _elevate(widths, src, w))]


def _arc_quarter_units():
    """Unit-circle cubic control points for 8 arcs of 45 degrees, starting at angle 0 and
    turning towards +y (clockwise on screen). float32 (8, 4, 2)."""
    out = []
    for i in range(8):
        a0, a1 = i * np.pi / 4, (i + 1) * np.pi / 4
        p0 = np.array([np.cos(a0), np.sin(a0)])
        p3 = np.array([np.cos(a1), np.sin(a1)])
        t0 = np.array([-np.sin(a0), np.cos(a0)])
        t1 = np.array([-np.sin(a1), np.cos(a1)])
        out.append([p0, p0 + _ARC_K * t0, p3 - _ARC_K * t1, p3])
    return np.asarray(out, np.float64)


UNIT_ARCS = _arc_quarter_units()


def _unit_arcs(dtype):
    # Cast explicitly: mixing the float64 numpy constant into float32 math once made JAX
    # reuse a float32 copy of it after x64 was switched on (an MLIR verifier error).
    return jnp.asarray(UNIT_ARCS, dtype)


def _ellipse_ctrl(center, radius):
    return center + _unit_arcs(radius.dtype) * radius


def rect_ctrl(p_min, p_max, corner_radius):
    """Rounded rectangle as 12 cubics: 4 sides and 4 corners of 2 arcs each (SVG clamps radii
    to half the size). Sides of zero length and corners of zero radius become degenerate
    segments, which cost nothing and keep the static structure."""
    lo = jnp.minimum(p_min, p_max)
    hi = jnp.maximum(p_min, p_max)
    half = 0.5 * (hi - lo)
    r = jnp.minimum(jnp.abs(corner_radius), half)
    x0, y0 = lo[0], lo[1]
    x1, y1 = hi[0], hi[1]
    rx, ry = r[0], r[1]

    def line(a, b):
        return jnp.stack([a, a + (b - a) / 3.0, a + 2.0 * (b - a) / 3.0, b])

    def corner(cx, cy, first_arc):
        arcs = _unit_arcs(rx.dtype)[first_arc:first_arc + 2]
        return jnp.stack([cx, cy]) + arcs * jnp.stack([rx, ry])

    P = lambda x, y: jnp.stack([x, y])
    segs = [
        line(P(x0 + rx, y0), P(x1 - rx, y0))[None],
        corner(x1 - rx, y0 + ry, 6),  # 270 -> 360 degrees
        line(P(x1, y0 + ry), P(x1, y1 - ry))[None],
        corner(x1 - rx, y1 - ry, 0),  # 0 -> 90
        line(P(x1 - rx, y1), P(x0 + rx, y1))[None],
        corner(x0 + rx, y1 - ry, 2),  # 90 -> 180
        line(P(x0, y1 - ry), P(x0, y0 + ry))[None],
        corner(x0 + rx, y0 + ry, 4),  # 180 -> 270
    ]
    return jnp.concatenate(segs, axis=0)


def shape_subpaths(shape) -> List[Subpath]:
    """Cubic subpaths of a shape in its user space (before ``shape.transform``)."""
    width = jnp.asarray(shape.stroke_width, float_dtype())
    per_point = width.ndim == 1
    if isinstance(shape, Path):
        points = jnp.asarray(shape.points, float_dtype())
        plans = _path_gather(shape)
        return [Subpath(_elevate(points, src, w), closed,
                        _elevate(width, src, w) if per_point else None) for src, w, closed in plans]
    if isinstance(shape, (Polygon, Polyline)):
        points = jnp.asarray(shape.points, float_dtype())
        return _line_subpath(points, isinstance(shape, Polygon), width if per_point else None)
    if isinstance(shape, Circle):
        c = jnp.asarray(shape.center, float_dtype())
        r = jnp.abs(jnp.asarray(shape.radius, float_dtype()))
        return [Subpath(_ellipse_ctrl(c, r), True)]
    if isinstance(shape, Ellipse):
        c = jnp.asarray(shape.center, float_dtype())
        r = jnp.abs(jnp.asarray(shape.radius, float_dtype()))
        return [Subpath(_ellipse_ctrl(c, r), True)]
    if isinstance(shape, Rect):
        return [Subpath(rect_ctrl(jnp.asarray(shape.p_min, float_dtype()), jnp.asarray(shape.p_max, float_dtype()),
                                   jnp.asarray(shape.corner_radius, float_dtype())), True)]
    raise TypeError(f"not a shape: {type(shape).__name__}")
