"""Stroke outlines: a polyline centre line -> closed contours whose nonzero fill is the stroke.

The renderer fills the returned line edges with the nonzero rule (coverage = min(|winding
integral|, 1) per pixel), so the outline is built to have winding >= 1 exactly on the
stroke region, 0 outside, and winding 2 touching the stroke's boundary as little as
possible (a boundary pixel with winding 2 over part of it over-estimates coverage).

Construction (all vectorised over vertices; Python loops only over static slots):

* Piece k (vertices k -> k+1) has unit tangent t_k and normal n_k = R(-90 deg) t_k. A piece
  shorter than 1e-6 inherits the tangent of the last longer piece before it, else of the
  first one after it, else +x (a single point: SVG draws its round / square cap along +x).
* Each piece contributes the trapezoid v_k +- w_k n_k, v_{k+1} +- w_{k+1} n_k ("+" side
  walked forward, "-" side backward, so contours have positive shoelace area, i.e. they are
  counter-clockwise with y up / clockwise on screen with y down).
* At a join vertex (turn phi from t_in to t_out) every side gets a fixed number of slots
  p_in = v + s w n_in, ..., p_out = v + s w n_out:
    - outer side (the side the path turns away from): the join wedge. Segment joins use
      the path's join (miter tip if 1/cos(phi/2) <= miter_limit, else bevel; round: an arc
      of ``round_points`` points); flattening vertices (joint_mask False) get one point on
      the arc at phi/2 (a two-chord round join: the stroke of a smooth curve is round there,
      and it equals the bevel to third order for the small turns of a fine flattening).
    - inner side: the exact corner of the union of the two adjacent trapezoids A and B
      (the nearest pieces longer than 1e-6), one of
        X: A's and B's inner edges cross                  (constant or slowly varying width)
        Y: A's inner edge crosses B's start line v-p_out  (width growing faster than the turn)
        Z: B's inner edge crosses A's end line v-p_in     (width shrinking faster)
      when the loop it cuts off ("kite", e.g. X p_in v p_out) lies inside both trapezoids
      and does not overlap the kite of a vertex sharing A or B; otherwise the route
      p_in -> v -> p_out through the centre.
  Written as chains, outline = sum(trapezoids) + sum(outer wedges) + sum(caps)
  - sum(kites used); every term is a positively oriented loop and every kite used is
  covered twice, so the winding is >= 1 exactly on the union and 0 outside. The centre
  route leaves a winding-2 kite that touches the boundary only at the corner (it is used
  where the stroke overlaps itself anyway: pieces shorter than the width allows, radius of
  curvature below the half width, width maxima along a curve).
* Open subpaths: one contour (+ side, end cap, - side reversed, start cap); caps butt /
  square / round (half disc of ``round_points`` points). Closed subpaths: two contours
  (+ side forward, - side reversed) with a join at vertices[0], no caps.

Edge count E (static). Let S = 3 for join 'miter'/'bevel' and S = 2 + round_points for
'round'; C = 0 / 2 / round_points for cap 'butt' / 'square' / 'round'; F and J the numbers
of flattening and segment-join vertices among the join vertices (open: vertices 1..V-2;
closed: vertices 0..V-2, vertex 0 always a segment join):
    open:   E = 2 * (2 + 3 F + S J) + 2 C        closed:  E = 2 * (3 F + S J)
(V = 1 is treated as two equal vertices: E = 4 + 2 C.)
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .affine import float_dtype
from .stroke_joins import dot, join_slots, normal, rotate

JOINS = ("miter", "round", "bevel")
CAPS = ("butt", "round", "square")

MIN_PIECE_LENGTH = 1e-6      # px; shorter pieces inherit a neighbour's tangent


def piece_geometry(v):
    """Tangents of the pieces of a polyline, NaN-safe for zero-length pieces.

    v: float32 (V, 2), V >= 2. Returns (t (P, 2) unit tangents, length (P,), valid (P,) bool:
    length > MIN_PIECE_LENGTH, src (P,) int32: index of the piece the tangent comes from,
    P when no piece is valid).
    """
    d = v[1:] - v[:-1]
    num = d.shape[0]
    len2 = dot(d, d)
    valid = len2 > MIN_PIECE_LENGTH ** 2
    length = jnp.where(valid, jnp.sqrt(jnp.where(valid, len2, 1.0)), 0.0)
    own = d / jnp.where(valid, length, 1.0)[:, None]
    idx = jnp.arange(num, dtype=jnp.int32)
    prev = jax.lax.cummax(jnp.where(valid, idx, -1), axis=0)
    nxt = jax.lax.cummin(jnp.where(valid, idx, num), axis=0, reverse=True)
    src = jnp.where(prev >= 0, prev, nxt)
    has = src < num
    t = jnp.where(has[:, None], own[jnp.clip(src, 0, num - 1)], jnp.array([1.0, 0.0], own.dtype))
    return t, length, valid, src


def _loop_edges(points):
    return jnp.stack([points, jnp.roll(points, -1, axis=0)], axis=1)


def num_edges(num_vertices: int, *, closed: bool, joint_mask, join: str, cap: str, round_points: int = 8) -> int:
    """The static edge count E of :func:`stroke_outline` (see the module docstring)."""
    V = max(int(num_vertices), 2)
    mask = np.asarray(joint_mask, bool)
    if num_vertices == 1:
        mask = np.ones(2, bool)
    S = 3 if join != "round" else 2 + round_points
    C = {"butt": 0, "square": 2, "round": round_points}[cap]
    if closed:
        joint = mask[:V - 1].copy()
        joint[0] = True
        return 2 * (3 * int((~joint).sum()) + S * int(joint.sum()))
    joint = mask[1:V - 1]
    return 2 * (2 + 3 * int((~joint).sum()) + S * int(joint.sum())) + 2 * C


def _check_style(join, cap, miter_limit, round_points):
    if join not in JOINS:
        raise ValueError(f"stroke_outline: join must be one of {JOINS}, got {join!r}")
    if cap not in CAPS:
        raise ValueError(f"stroke_outline: cap must be one of {CAPS}, got {cap!r}")
    if isinstance(round_points, bool) or not isinstance(round_points, (int, np.integer)) or round_points < 1:
        raise ValueError(f"stroke_outline: round_points must be an int >= 1, got {round_points!r}")
    if isinstance(miter_limit, jax.core.Tracer):
        return  # data (one program for every limit); validated where it was a number
    if not np.all(np.isfinite(miter_limit)) or np.any(np.asarray(miter_limit) < 1):
        raise ValueError(f"stroke_outline: miter_limit must be a finite number >= 1, got {miter_limit!r}")


def _cap_points(cap, round_points, centre, half, tangent, normal, start):
    """float (C, 2) cap points at an end ``centre`` float (2,) of half width ``half``: from
    the '+' side to the '-' side at the end, from '-' to '+' at the start."""
    if cap == "butt":
        return jnp.zeros((0, 2), centre.dtype)
    if cap == "square":
        if start:
            return jnp.stack([centre - half * normal - half * tangent, centre + half * normal - half * tangent])
        return jnp.stack([centre + half * normal + half * tangent, centre - half * normal + half * tangent])
    frac = jnp.arange(1, round_points + 1, dtype=centre.dtype) / (round_points + 1)
    first = -normal if start else normal
    return centre + half * rotate(jnp.broadcast_to(first, (round_points, 2)), np.pi * frac)


def stroke_outline(vertices, half_widths, *, closed: bool, joint_mask, join: str, cap: str,
                   miter_limit: float, round_points: int = 8) -> jax.Array:
    """Closed outline contours of the stroke of one subpath, as line edges.

    Args:
      vertices: float32 (V, 2) centre line of ONE subpath (V >= 1), pixel/user units. May
        contain repeated consecutive vertices. For closed=True, vertices[-1] is the closing
        segment's end and coincides with vertices[0] (half_widths[-1] should equal
        half_widths[0]; the join at the closing vertex uses vertices[0], half_widths[0]).
      half_widths: float32 (V,) >= 0, half the stroke width at each vertex.
      closed: static bool.
      joint_mask: numpy bool (V,), static: True where two segments of the path meet (the
        join style applies there); False at interior flattening vertices. Endpoints of an
        open path are ignored (caps apply); for closed paths vertices[0]/[-1] are a join.
      join: 'miter' | 'round' | 'bevel'.  cap: 'butt' | 'round' | 'square'.
      miter_limit: SVG stroke-miterlimit (>= 1; a float or a float () array, traced or not): a miter is drawn when 1/sin(theta/2) <= it,
        theta being the angle between the two segments; otherwise a bevel.
      round_points: static int >= 1, points on each round join arc and round cap half circle.

    Returns:
      float32 (E, 2, 2) line edges [[x0, y0], [x1, y1]] forming closed contours with positive
      shoelace area; E = :func:`num_edges` (a static function of V, closed, joint_mask, join,
      cap, round_points). jit / vmap / grad compatible; finite values and gradients for
      repeated vertices, zero widths, reversals.
    """
    _check_style(join, cap, miter_limit, round_points)
    # float32, or float64 under jax_enable_x64 (finite-difference tests need the precision)
    v = jnp.asarray(vertices, float_dtype())
    w = jnp.asarray(half_widths, float_dtype())
    if v.ndim != 2 or v.shape[1] != 2 or v.shape[0] < 1:
        raise ValueError(f"stroke_outline: vertices must have shape (V, 2) with V >= 1, got {v.shape}")
    V = v.shape[0]
    if w.shape != (V,):
        raise ValueError(f"stroke_outline: half_widths must have shape ({V},), got {w.shape}")
    mask = np.asarray(joint_mask, bool)
    if mask.shape != (V,):
        raise ValueError(f"stroke_outline: joint_mask must have shape ({V},), got {mask.shape}")
    round_points = int(round_points)
    if V == 1:  # a single point: one zero-length piece (direction +x)
        v = jnp.concatenate([v, v], axis=0)
        w = jnp.concatenate([w, w], axis=0)
        mask = np.ones(2, bool)
        V = 2

    t, length, valid, src = piece_geometry(v)
    n = normal(t)
    if closed:
        jv = np.arange(V - 1)
        is_joint = mask[:V - 1].copy()
        is_joint[0] = True
    else:
        jv = np.arange(1, V - 1)
        is_joint = mask[1:V - 1]
    if len(jv):
        plus, minus, keep = join_slots(v, w, t, length, valid, src, jv, is_joint, join=join,
                                       miter_limit=miter_limit, round_points=round_points)
        plus, minus = plus.reshape(-1, 2), minus.reshape(-1, 2)
        if not keep.all():   # (a gather of every row is not free, nor is its transpose)
            sel = np.flatnonzero(keep.reshape(-1))
            plus, minus = plus[sel], minus[sel]
    else:
        plus = minus = jnp.zeros((0, 2), v.dtype)

    if closed:
        return jnp.concatenate([_loop_edges(plus), _loop_edges(minus[::-1])], axis=0)

    cap_points = functools.partial(_cap_points, cap, round_points)
    v0, w0, t0, n0 = v[0], w[0], t[0], n[0]
    ve, we, te, ne = v[V - 1], w[V - 1], t[-1], n[-1]
    plus_side = jnp.concatenate([(v0 + w0 * n0)[None], plus, (ve + we * ne)[None]], axis=0)
    minus_side = jnp.concatenate([(v0 - w0 * n0)[None], minus, (ve - we * ne)[None]], axis=0)
    loop = jnp.concatenate([plus_side, cap_points(ve, we, te, ne, False), minus_side[::-1],
                            cap_points(v0, w0, t0, n0, True)], axis=0)
    return _loop_edges(loop)
