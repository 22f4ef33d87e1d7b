"""Shapes to cubic Bezier subpaths, affine transforms, and adaptive flattening.

Every shape becomes subpaths of cubic segments (lines and quadratics are exact degree
elevations, circles and ellipses are 8 arcs of 45 degrees, max radial error 4e-6 * r).
Flattening samples each cubic at a per-segment number of uniform parameter steps chosen
from its flatness (with a static capacity), so the static array sizes never depend on the
geometry while small curves do not pay for large ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.scene import Circle, Ellipse, Path, Polygon, Polyline, Rect

# Cubic approximation of a 45-degree circular arc: handle length factor 4/3 tan(theta/4).
_ARC_K = 4.0 / 3.0 * np.tan(np.pi / 16.0)
FLATTEN_TOLERANCE = 0.02  # px: target distance between a curve and its flattening


def float_dtype():
    """The float dtype the renderer computes in: float32, or float64 when ``jax_enable_x64``
    is on (float64 is for finite-difference tests, not for speed)."""
    return jax.dtypes.canonicalize_dtype(np.float64)


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


# ---------------------------------------------------------------------------------------
# Affine transforms
# ---------------------------------------------------------------------------------------


def apply_transform(m, points):
    """Apply a float32 (3, 3) affine matrix to points (..., 2)."""
    return points @ m[:2, :2].T + m[:2, 2]


def safe_inverse(m):
    """Inverse of an affine (3, 3) matrix; a singular one gives a finite (zero) linear part
    so that paints of collapsed shapes stay finite instead of NaN."""
    a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    det = a * d - b * c
    ok = jnp.abs(det) > 1e-12
    inv_det = jnp.where(ok, 1.0 / jnp.where(ok, det, 1.0), 0.0)
    lin = jnp.stack([jnp.stack([d, -b]), jnp.stack([-c, a])]) * inv_det
    t = -lin @ m[:2, 2]
    top = jnp.concatenate([lin, t[:, None]], axis=1)
    return jnp.concatenate([top, jnp.array([[0.0, 0.0, 1.0]], m.dtype)], axis=0)


# ---------------------------------------------------------------------------------------
# Shapes to cubic subpaths
# ---------------------------------------------------------------------------------------

# Degree elevation to cubic, as weights over the segment's own points (row j = control j).
_ELEVATE = {
    1: np.array([[1, 0], [2 / 3, 1 / 3], [1 / 3, 2 / 3], [0, 1]], np.float64),
    2: np.array([[1, 0, 0], [1 / 3, 2 / 3, 0], [0, 2 / 3, 1 / 3], [0, 0, 1]], np.float64),
    3: np.eye(4, dtype=np.float64),
}


def _path_gather(path: Path):
    """Static gather plan for a Path: per subpath, (src (n, 4) int, weights (n, 4, 4))."""
    plans = []
    start, seg = 0, 0
    for size, closed in zip(path.subpath_sizes, path.closed):
        degs = path.degrees[seg:seg + size]
        seg += size
        if size == 0:
            continue
        n_points = 1 + sum(degs) - (1 if closed else 0)
        src = np.zeros((size, 4), np.int64)
        w = np.zeros((size, 4, 4), np.float64)
        k = 0
        for s, d in enumerate(degs):
            idx = [start + (k + i) % n_points for i in range(d + 1)]
            src[s, :d + 1] = idx
            w[s, :, :d + 1] = _ELEVATE[d]
            k += d
        plans.append((src, w, closed))
        start += n_points
    return plans, start


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
        w[s, :, :2] = _ELEVATE[1]
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


_UNIT_ARCS = _arc_quarter_units()


def _unit_arcs(dtype):
    # Cast explicitly: mixing the float64 numpy constant into float32 math once made JAX
    # reuse a float32 copy of it after x64 was switched on (an MLIR verifier error).
    return jnp.asarray(_UNIT_ARCS, dtype)


def _ellipse_ctrl(center, radius):
    return center + _unit_arcs(radius.dtype) * radius


def _rect_ctrl(p_min, p_max, corner_radius):
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
        plans, _ = _path_gather(shape)
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
        return [Subpath(_rect_ctrl(jnp.asarray(shape.p_min, float_dtype()), jnp.asarray(shape.p_max, float_dtype()),
                                   jnp.asarray(shape.corner_radius, float_dtype())), True)]
    raise TypeError(f"not a shape: {type(shape).__name__}")


# ---------------------------------------------------------------------------------------
# Flattening
# ---------------------------------------------------------------------------------------


def bezier(ctrl, t):
    """Evaluate cubics ctrl (n, 4, ...) at parameters t (n, m) -> (n, m, ...)."""
    s = 1.0 - t
    b = jnp.stack([s * s * s, 3.0 * s * s * t, 3.0 * s * t * t, t * t * t], axis=-1)  # (n, m, 4)
    return jnp.einsum("nmk,nk...->nm...", b, ctrl)


def flatten_parameters(ctrl_canvas, capacity: int, tolerance: float = FLATTEN_TOLERANCE):
    """Uniform parameter samples per cubic, as many as its flatness needs (<= capacity).

    ctrl_canvas: float32 (n, 4, 2) control points in pixels. The deviation of the inner
    control points from their straight-line positions bounds the curve's deviation from its
    chord; n pieces reduce it by about n^2. Returns t float32 (n, capacity + 1) in [0, 1]:
    i / count for i <= count, then 1 (repeated end points are zero-length, cost nothing).
    No gradient flows through the choice.
    """
    c = jax.lax.stop_gradient(ctrl_canvas)
    straight1 = (2.0 * c[:, 0] + c[:, 3]) / 3.0
    straight2 = (c[:, 0] + 2.0 * c[:, 3]) / 3.0
    dev = jnp.maximum(jnp.max(jnp.abs(c[:, 1] - straight1), axis=-1), jnp.max(jnp.abs(c[:, 2] - straight2), axis=-1))
    count = jnp.clip(jnp.ceil(jnp.sqrt(dev / tolerance)), 1.0, float(capacity))
    count = jnp.where(jnp.isfinite(count), count, float(capacity))
    i = jnp.arange(capacity + 1, dtype=float_dtype())
    return jnp.minimum(i[None, :] / count[:, None], 1.0)


def flatten_subpath(sub: Subpath, to_canvas, capacity: int, *, lift: bool = False):
    """Polyline of one subpath in user space.

    Returns (vertices float32 (V, 2), widths float32 (V,) or None, joint_mask numpy bool
    (V,)) — the mask marks segment boundaries. For closed subpaths the last vertex equals
    the first (the closing segment's end).

    lift=False: V = n * capacity + 1 vertices on the curve (stroke centre lines).
    lift=True (fills): after each on-curve vertex comes a *lifted midpoint*
      chord_mid + 4/3 (B(t_mid) - chord_mid), so the triangle it adds to the chord has the
      area of the parabolic segment between chord and curve. Fills then keep the curve's
      area to 4th order in the piece size instead of losing 2/3 * sagitta * length per
      piece, and the boundary stays within a third of the sagitta; V = 2 n capacity + 1.
    """
    n = sub.ctrl.shape[0]
    tol = geometry_tolerance(lift)
    t = flatten_parameters(apply_transform(to_canvas, sub.ctrl), capacity, tol)
    pts = bezier(sub.ctrl, t)  # (n, K+1, 2)
    if lift:
        tm = 0.5 * (t[:, :-1] + t[:, 1:])
        mid_curve = bezier(sub.ctrl, tm)
        chord_mid = 0.5 * (pts[:, :-1] + pts[:, 1:])
        lifted = chord_mid + (4.0 / 3.0) * (mid_curve - chord_mid)
        body = jnp.stack([pts[:, :-1], lifted], axis=2).reshape(-1, 2)
        verts = jnp.concatenate([body, pts[-1:, -1]], axis=0)
        mask = np.zeros(2 * n * capacity + 1, bool)
        mask[::2 * capacity] = True
        return verts, None, mask
    verts = jnp.concatenate([pts[:, :-1].reshape(-1, 2), pts[-1:, -1]], axis=0)
    widths = None
    if sub.widths is not None:
        w = bezier(sub.widths, t)
        widths = jnp.concatenate([w[:, :-1].reshape(-1), w[-1:, -1]], axis=0)
    mask = np.zeros(n * capacity + 1, bool)
    mask[::capacity] = True
    return verts, widths, mask


def geometry_tolerance(lift: bool) -> float:
    """Flattening tolerance in px for the sagitta of one piece. A lifted polyline deviates by
    at most a third of the sagitta, so it can afford pieces three times as deep."""
    return 3.0 * FLATTEN_TOLERANCE if lift else FLATTEN_TOLERANCE


def polyline_edges(vertices, closed_loop: bool = True):
    """Edges (V, 2, 2) of a polygon through vertices (V, 2), closing back to the first."""
    nxt = jnp.roll(vertices, -1, axis=0) if closed_loop else vertices[1:]
    cur = vertices if closed_loop else vertices[:-1]
    return jnp.stack([cur, nxt], axis=1)
