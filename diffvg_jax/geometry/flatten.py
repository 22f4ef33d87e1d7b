"""Adaptive flattening of cubic subpaths into polylines, and polylines into edges.

Flattening samples each cubic at a per-segment number of uniform parameter steps chosen
from its flatness in pixels (with a static capacity), so the static array sizes never
depend on the geometry while small curves do not pay for large ones.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .affine import apply_transform, float_dtype
from .shapes import Subpath

FLATTEN_TOLERANCE = 0.02  # px: target distance between a curve and its flattening


def bezier(ctrl, t):
    """Cubics with control values ctrl float (n, 4, ...) (points or widths, any units) at
    parameters t float (n, m) in [0, 1] -> float (n, m, ...) in ctrl's units."""
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
    if lift:
        per_segment = lifted_segments(sub.ctrl, apply_transform(to_canvas, sub.ctrl), capacity)
        verts = jnp.concatenate([per_segment[:, :-1].reshape(-1, 2), per_segment[-1:, -1]], axis=0)
        mask = np.zeros(2 * n * capacity + 1, bool)
        mask[::2 * capacity] = True
        return verts, None, mask
    t = flatten_parameters(apply_transform(to_canvas, sub.ctrl), capacity, geometry_tolerance(False))
    pts = bezier(sub.ctrl, t)  # (n, K+1, 2)
    verts = jnp.concatenate([pts[:, :-1].reshape(-1, 2), pts[-1:, -1]], axis=0)
    widths = None
    if sub.widths is not None:
        w = bezier(sub.widths, t)
        widths = jnp.concatenate([w[:, :-1].reshape(-1), w[-1:, -1]], axis=0)
    mask = np.zeros(n * capacity + 1, bool)
    mask[::capacity] = True
    return verts, widths, mask


def lifted_segments(ctrl, ctrl_canvas, capacity: int):
    """Lifted polylines of cubic segments, each on its own: float (n, 2 * capacity + 1, 2).

    ctrl: float (n, 4, 2) control points in any units (user space); ctrl_canvas: the same
    points in pixels, which set each segment's number of pieces (its flatness). Row s is
    B_s(t_0), lifted midpoint, B_s(t_1), ..., lifted midpoint, B_s(1) (see
    :func:`flatten_subpath`); pieces a segment does not need repeat its end point.
    """
    t = flatten_parameters(ctrl_canvas, capacity, geometry_tolerance(True))
    pts = bezier(ctrl, t)                                            # (n, K + 1, 2)
    mid_curve = bezier(ctrl, 0.5 * (t[:, :-1] + t[:, 1:]))
    chord_mid = 0.5 * (pts[:, :-1] + pts[:, 1:])
    lifted = chord_mid + (4.0 / 3.0) * (mid_curve - chord_mid)
    body = jnp.stack([pts[:, :-1], lifted], axis=2).reshape(ctrl.shape[0], 2 * capacity, 2)
    return jnp.concatenate([body, pts[:, -1:]], axis=1)


def geometry_tolerance(lift: bool) -> float:
    """Flattening tolerance in px for the sagitta of one piece. A lifted polyline deviates by
    at most a third of the sagitta, so it can afford pieces three times as deep."""
    return 3.0 * FLATTEN_TOLERANCE if lift else FLATTEN_TOLERANCE


def polyline_edges(vertices, closed_loop: bool = True):
    """Edges float (V, 2, 2) [[x0, y0], [x1, y1]] of a polygon through vertices float
    (V, 2) (same units), closing back to the first (``closed_loop=False``: (V - 1, 2, 2))."""
    nxt = jnp.roll(vertices, -1, axis=0) if closed_loop else vertices[1:]
    cur = vertices if closed_loop else vertices[:-1]
    return jnp.stack([cur, nxt], axis=1)
