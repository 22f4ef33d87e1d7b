"""The join slots of stroke outlines: at each join vertex, the points of the outer side (the
path's join shape, or one mid point at a flattening vertex) and of the inner side (the exact
corner of the two adjacent trapezoids, or the route through the centre). The construction
and why it gives winding >= 1 exactly on the stroke is in :mod:`.stroke`'s docstring.

Points and vectors are float (..., 2) pixels / user units; slots are float (N, S, 2) for N
join vertices of S slots each.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.kernels.numerics import components

_MIN_SIN2_FOR_X = 1e-8       # inner intersection only for |sin(turn)| > 1e-4 (else centre route)
_WIDTH_TOL = 1e-5            # relative: widths along a run of zero-length pieces count as equal
_TRAP_TOL = 2e-6             # tolerance of the loop-inside-trapezoid test, relative to the
                             # piece's size and coordinates (float32 rounding of intersections)


# Points are float (..., 2); their x and y are taken apart with ``components`` (one split,
# whose transpose is one concatenation) and products written out (XLA:CPU reduces a size-2
# axis slowly: 1.8 ms of clipdraw-224's outlines).
def cross(a, b):
    """float (...): the z component of a x b for vectors float (..., 2)."""
    (ax, ay), (bx, by) = components(a), components(b)
    return ax * by - ay * bx


def dot(a, b):
    """float (...): a . b for vectors float (..., 2)."""
    (ax, ay), (bx, by) = components(a), components(b)
    return ax * bx + ay * by


def rotate(vec, angle):
    """Rotate vectors (..., 2) by angles (...) in radians (counter-clockwise with y up)."""
    c, s = jnp.cos(angle), jnp.sin(angle)
    x, y = components(vec)
    return jnp.stack([x * c - y * s, x * s + y * c], axis=-1)


def normal(t):
    """n = R(-90 deg) t: the '+' side of the outline."""
    x, y = components(t)
    return jnp.stack([y, -x], axis=-1)


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
    den = cross(e, f)
    ok = den * den > _MIN_SIN2_FOR_X * dot(e, e) * dot(f, f)
    den = jnp.where(ok, den, 1.0)
    r = q - p
    return cross(r, f) / den, cross(r, e) / den, ok


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
    a = dot(rel, tk)
    perp = jnp.abs(cross(tk, rel))
    half = w0 * (L - a) + w1 * a  # local half width times L
    return (L > 0) & (a >= -tol) & (a <= L + tol) & (perp * L <= half + tol * L)


def join_slots(v, w, t, length, valid, src, jv, is_joint, *, join, miter_limit, round_points):
    """Slot points of both sides at the join vertices jv (static (N,) int).

    Args:
      v, w: float (V, 2) vertices and (V,) half widths of one subpath.
      t, length, valid, src: the pieces' :func:`.stroke.piece_geometry` (unit tangents
        (V - 1, 2), lengths, long enough, the piece each tangent comes from).
      jv, is_joint: static int (N,) join vertices and bool (N,) whether each is a join of
        the path's segments (the join style) or a flattening vertex (a mid point).
      join, miter_limit, round_points: the stroke's style (see ``stroke_outline``).

    Returns (plus, minus, keep): float32 (N, S, 2) each, in the direction of travel, and a
    static bool (N, S) mask of the slots used (flattening vertices use 3 of the S).
    """
    num = t.shape[0]
    n = normal(t)
    pin = (jv - 1) % num
    pout = jv
    vj = _take(v, jv)
    wj = _take(w, jv)[:, None]
    ti, to, ni, no = _take(t, pin), _take(t, pout), _take(n, pin), _take(n, pout)
    c = dot(ti, to)
    sn = cross(ti, to)
    phi = jnp.arctan2(sn, c)
    # Left turn (phi > 0): the '-' side is inside.
    s_in = jnp.where(phi > 0, -1.0, 1.0)[:, None]
    s_out = -s_in
    slots = 3 if join != "round" else 2 + round_points
    inner = _inner_side(v, w, t, length, valid, src, pin, pout, (vj, wj, ti, to, ni, no), s_in, slots)
    outer = _outer_side(vj, wj, ni, no, s_out, phi, c, is_joint, join=join, miter_limit=miter_limit,
                        round_points=round_points)
    plus_inner = (s_in > 0)[:, :, None]
    plus = jnp.where(plus_inner, inner, outer)
    minus = jnp.where(plus_inner, outer, inner)
    keep = np.ones((len(jv), slots), bool)
    keep[~np.asarray(is_joint), 2:slots - 1] = False
    return plus, minus, keep


def _inner_side(v, w, t, length, valid, src, pin, pout, at_join, s_in, slots):
    """float (N, S, 2) slot points of the inner side of the joins between pieces pin and
    pout (static int (N,)), s_in float (N, 1) the inner side's sign: the centre route
    p_in -> v -> p_out, or an exact route that removes the loop it would make.
    ``at_join``: :func:`join_slots`' gathers at the join vertices (vertex (N, 2), half width
    (N, 1), tangents and normals in and out (N, 2) each)."""
    num = t.shape[0]
    vj, wj, ti, to, ni, no = at_join
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
    back = functools.reduce(jnp.maximum, [dot(vjs - c, ti) for c in corners] + [jnp.zeros_like(vjs[:, 0])])
    fwd = functools.reduce(jnp.maximum, [dot(c - vjs, to) for c in corners] + [jnp.zeros_like(vjs[:, 0])])
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
    flat_extra = vj + wj * rotate(u, 0.5 * phi)
    if join == "round":
        frac = jnp.arange(1, round_points + 1, dtype=vj.dtype) / (round_points + 1)
        joint_extra = vj[:, None] + wj[:, None] * rotate(u[:, None], phi[:, None] * frac)
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
