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

from diffvg_jax.kernels.numerics import components

from .affine import float_dtype

JOINS = ("miter", "round", "bevel")
CAPS = ("butt", "round", "square")

MIN_PIECE_LENGTH = 1e-6      # px; shorter pieces inherit a neighbour's tangent
_MIN_SIN2_FOR_X = 1e-8       # inner intersection only for |sin(turn)| > 1e-4 (else centre route)
_WIDTH_TOL = 1e-5            # relative: widths along a run of zero-length pieces count as equal
_TRAP_TOL = 2e-6             # tolerance of the loop-inside-trapezoid test, relative to the
                             # piece's size and coordinates (float32 rounding of intersections)


# Points are float (..., 2); their x and y are taken apart with ``components`` (one split,
# whose transpose is one concatenation) and products written out (XLA:CPU reduces a size-2
# axis slowly: 1.8 ms of clipdraw-224's outlines).
def _cross(a, b):
    (ax, ay), (bx, by) = components(a), components(b)
    return ax * by - ay * bx


def _dot(a, b):
    (ax, ay), (bx, by) = components(a), components(b)
    return ax * bx + ay * by


def _rotate(vec, angle):
    """Rotate vectors (..., 2) by angles (...) in radians (counter-clockwise with y up)."""
    c, s = jnp.cos(angle), jnp.sin(angle)
    x, y = components(vec)
    return jnp.stack([x * c - y * s, x * s + y * c], axis=-1)


def _normal(t):
    """n = R(-90 deg) t: the '+' side of the outline."""
    x, y = components(t)
    return jnp.stack([y, -x], axis=-1)


def piece_geometry(v):
    """Tangents of the pieces of a polyline, NaN-safe for zero-length pieces.

    v: float32 (V, 2), V >= 2. Returns (t (P, 2) unit tangents, length (P,), valid (P,) bool:
    length > MIN_PIECE_LENGTH, src (P,) int32: index of the piece the tangent comes from,
    P when no piece is valid).
    """
    d = v[1:] - v[:-1]
    num = d.shape[0]
    len2 = _dot(d, d)
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


def _take(x, index):
    """x[index] for a static int index array (N,), as slices of its runs of consecutive
    indices: their transposes are pads, which fuse, where a gather's is a scatter (and,
    batched over strokes, a transposed copy of the cotangent first)."""
    index = np.asarray(index)
    if index.size == 0:
        return x[:0]
    runs = np.split(index, np.flatnonzero(np.diff(index) != 1) + 1)
    parts = [x[int(r[0]):int(r[-1]) + 1] for r in runs]
    return parts[0] if len(parts) == 1 else jnp.concatenate(parts)


def _unit(x):
    return (x >= 0) & (x <= 1)


def _intersect(p, e, q, f):
    """Lines p + lam e and q + mu f (all (N, 2)): (lam, mu, ok); ok is False when they are
    parallel to within |sin| <= 1e-4 (lam, mu are then finite junk)."""
    den = _cross(e, f)
    ok = den * den > _MIN_SIN2_FOR_X * _dot(e, e) * _dot(f, f)
    den = jnp.where(ok, den, 1.0)
    r = q - p
    return _cross(r, f) / den, _cross(r, e) / den, ok


def _trapezoid(k, v, w, t, length):
    """The stroke trapezoid of pieces k int32 (N,), gathered once for testing several points
    against it: (start vertex (N, 2), unit tangent (N, 2), length, start and end half widths,
    tolerance), the last four float (N,)."""
    vk, tk, L, w0, w1 = v[k], t[k], length[k], w[k], w[k + 1]
    tol = _TRAP_TOL * (L + w0 + w1 + jnp.maximum(jnp.abs(vk[:, 0]), jnp.abs(vk[:, 1])))
    return vk, tk, L, w0, w1, tol


def _in_trapezoid(q, trapezoid):
    """Whether points q float (N, 2) lie in the :func:`_trapezoid` of their row (with a small
    tolerance), bool (N,); a zero-length piece contains nothing."""
    vk, tk, L, w0, w1, tol = trapezoid
    rel = q - vk
    a = _dot(rel, tk)
    perp = jnp.abs(_cross(tk, rel))
    half = w0 * (L - a) + w1 * a  # local half width times L
    return (L > 0) & (a >= -tol) & (a <= L + tol) & (perp * L <= half + tol * L)


def _join_slots(v, w, t, length, valid, src, jv, is_joint, *, closed, join, miter_limit, round_points):
    """Slot points of both sides at the join vertices jv (static (N,) int).

    Returns (plus, minus, keep): float32 (N, S, 2) each, in the direction of travel, and a
    static bool (N, S) mask of the slots used (flattening vertices use 3 of the S).
    """
    num = t.shape[0]
    n = _normal(t)
    pin = (jv - 1) % num
    pout = jv
    vj = _take(v, jv)
    wj = _take(w, jv)[:, None]
    ti, to, ni, no = _take(t, pin), _take(t, pout), _take(n, pin), _take(n, pout)
    c = _dot(ti, to)
    sn = _cross(ti, to)
    phi = jnp.arctan2(sn, c)
    # Left turn (phi > 0): the '-' side is inside.
    s_in = jnp.where(phi > 0, -1.0, 1.0)[:, None]
    s_out = -s_in
    slots = 3 if join != "round" else 2 + round_points
    inner = _inner_side(v, w, t, length, valid, src, pin, pout, s_in, slots)
    outer = _outer_side(vj, wj, ni, no, s_out, phi, c, is_joint, join=join, miter_limit=miter_limit,
                        round_points=round_points)
    plus_inner = (s_in > 0)[:, :, None]
    plus = jnp.where(plus_inner, inner, outer)
    minus = jnp.where(plus_inner, outer, inner)
    keep = np.ones((len(jv), slots), bool)
    keep[~np.asarray(is_joint), 2:slots - 1] = False
    return plus, minus, keep


def _inner_side(v, w, t, length, valid, src, pin, pout, s_in, slots):
    """float (N, S, 2) slot points of the inner side of the joins between pieces pin and
    pout (static int (N,)), s_in float (N, 1) the inner side's sign: the centre route
    p_in -> v -> p_out, or an exact route that removes the loop it would make."""
    num = t.shape[0]
    n = _normal(t)
    vj = _take(v, pout)
    wj = _take(w, pout)[:, None]
    ti, to, ni, no = _take(t, pin), _take(t, pout), _take(n, pin), _take(n, pout)
    # The nearest real pieces A (before v) and B (after v); zero-length pieces between them
    # and v have trapezoids without area.
    p_in = vj + s_in * wj * ni
    p_out = vj + s_in * wj * no
    A = src[pin]
    B = src[pout]
    A_c = jnp.clip(A, 0, num - 1)
    B_c = jnp.clip(B, 0, num - 1)
    real = (A <= pin) & (B >= pout) & (A != B) & valid[A_c] & valid[B_c]
    # The routes below replace the centre route between A's end corner and B's start corner;
    # they need those corners to be p_in and p_out (zero-length pieces in between must not
    # change the width), else the replaced loop would not be the kite.
    wtol = _WIDTH_TOL * (1.0 + wj[:, 0])
    real = real & (jnp.abs(w[A_c + 1] - wj[:, 0]) <= wtol) & (jnp.abs(w[B_c] - wj[:, 0]) <= wtol)
    a0 = v[A_c] + s_in * w[A_c][:, None] * ni          # start of A's inner edge (ends at p_in)
    b1 = v[B_c + 1] + s_in * w[B_c + 1][:, None] * no  # end of B's inner edge (starts at p_out)
    da = p_in - a0
    db = b1 - p_out
    # Three exact routes, each replacing the centre route p_in -> v -> p_out and removing a
    # loop ("kite") that must lie in both trapezoids A and B:
    #  X: A's and B's inner edges cross               route X X X,       loop X p_in v p_out
    #  Y: A's edge crosses B's start line v-p_out     route Y Y p_out,   loop Y p_in v
    #     (B wider than A's end there, e.g. growing width)
    #  Z: B's edge crosses A's end line v-p_in        route p_in Z Z,    loop Z v p_out
    lam_x, mu_x, ok_x = _intersect(a0, da, p_out, db)
    lam_y, mu_y, ok_y = _intersect(a0, da, vj, p_out - vj)
    lam_z, mu_z, ok_z = _intersect(p_out, db, vj, p_in - vj)
    X = a0 + lam_x[:, None] * da
    Y = a0 + lam_y[:, None] * da
    Z = p_out + lam_z[:, None] * db
    ok_x = ok_x & _unit(lam_x) & _unit(mu_x)
    ok_y = ok_y & _unit(lam_y) & _unit(mu_y)
    ok_z = ok_z & _unit(lam_z) & _unit(mu_z)
    # The loop's four corners, each float (N, 2), as separate arrays: its tests below are then
    # elementwise (reductions over a size-4 corner axis are slow on XLA:CPU: 1.6 ms of
    # clipdraw-224's 24 ms forward).
    corners = [jax.lax.stop_gradient(c) for c in (
        jnp.where(ok_x[:, None], X, jnp.where(ok_y[:, None], Y, Z)),
        jnp.where((ok_x | ok_y)[:, None], p_in, vj),
        jnp.where((ok_x | ok_y)[:, None], vj, p_out),
        jnp.where(ok_x[:, None], p_out, vj))]
    trap_a = _trapezoid(A_c, v, w, t, length)
    trap_b = _trapezoid(B_c, v, w, t, length)
    local = real & (ok_x | ok_y | ok_z)
    for c in corners:
        local = local & _in_trapezoid(c, trap_a) & _in_trapezoid(c, trap_b)
    # How far each loop reaches into pieces A and B; loops sharing a piece must not overlap.
    vjs = jax.lax.stop_gradient(vj)
    back = functools.reduce(jnp.maximum, [_dot(vjs - c, ti) for c in corners] + [jnp.zeros_like(vjs[:, 0])])
    fwd = functools.reduce(jnp.maximum, [_dot(c - vjs, to) for c in corners] + [jnp.zeros_like(vjs[:, 0])])
    back = jax.lax.stop_gradient(jnp.where(local, back, 0.0))
    fwd = jax.lax.stop_gradient(jnp.where(local, fwd, 0.0))
    load = jnp.zeros((num,), back.dtype).at[A_c].add(back).at[B_c].add(fwd)
    piece_ok = load <= jax.lax.stop_gradient(length)
    use = jax.lax.stop_gradient(local & piece_ok[A_c] & piece_ok[B_c])
    # No turn at all (e.g. next to zero-length pieces): p_in == p_out, nothing to route.
    straight = (ti[:, 0] == to[:, 0]) & (ti[:, 1] == to[:, 1])
    # The routes slot by slot (first, the S - 2 middle ones, last), each float (N, 2):
    #   centre p_in v..v p_out, X: X..X, Y: Y..Y p_out, Z: p_in Z..Z, no turn: p_in..p_in.
    # Selected per slot instead of broadcast over the slot axis, whose transpose would be a
    # reduction over it.
    def route(centre, y, z):
        pick = jnp.where(use[:, None], z, centre)
        pick = jnp.where((use & ok_y)[:, None], y, pick)
        pick = jnp.where((use & ok_x)[:, None], X, pick)
        return jnp.where(straight[:, None], p_in, pick)

    mid = route(vj, Y, Z)
    return jnp.stack([route(p_in, Y, p_in)] + [mid] * (slots - 2) + [route(p_out, p_out, Z)], axis=1)


def _outer_side(vj, wj, ni, no, s_out, phi, c, is_joint, *, join, miter_limit, round_points):
    """float (N, S, 2) slot points of the outer side of the joins at vertices vj float (N, 2)
    (half widths wj (N, 1), incoming / outgoing normals ni, no (N, 2), turn angle phi and
    its cosine c (N,)): the join shape where ``is_joint``, one mid point elsewhere."""
    p_in_o = vj + s_out * wj * ni
    p_out_o = vj + s_out * wj * no
    u = s_out * ni                      # unit start direction of the outer arc
    flat_extra = vj + wj * _rotate(u, 0.5 * phi)
    if join == "round":
        frac = jnp.arange(1, round_points + 1, dtype=vj.dtype) / (round_points + 1)
        joint_extra = vj[:, None] + wj[:, None] * _rotate(u[:, None], phi[:, None] * frac)
    elif join == "miter":
        # SVG: miter length / width = 1 / sin(theta / 2) = 1 / cos(phi / 2) <= limit.
        ok = (1.0 + c) >= 2.0 / (miter_limit * miter_limit)
        denom = jnp.where(ok, 1.0 + c, 1.0)[:, None]
        tip = vj + s_out * wj * (ni + no) / denom
        joint_extra = jnp.where(ok[:, None], tip, p_in_o)[:, None]
    else:
        joint_extra = p_in_o[:, None]
    flat_b = jnp.broadcast_to(flat_extra[:, None], joint_extra.shape)
    extra = jnp.where(np.asarray(is_joint)[:, None, None], joint_extra, flat_b)
    return jnp.concatenate([p_in_o[:, None], extra, p_out_o[:, None]], axis=1)


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
    return centre + half * _rotate(jnp.broadcast_to(first, (round_points, 2)), np.pi * frac)


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
    n = _normal(t)
    if closed:
        jv = np.arange(V - 1)
        is_joint = mask[:V - 1].copy()
        is_joint[0] = True
    else:
        jv = np.arange(1, V - 1)
        is_joint = mask[1:V - 1]
    if len(jv):
        plus, minus, keep = _join_slots(v, w, t, length, valid, src, jv, is_joint, closed=closed, join=join,
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
