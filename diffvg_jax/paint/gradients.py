"""Gradient paints: the straight RGBA colour of a LinearGradient / RadialGradient at sample
points in the painted shape's user space (:func:`evaluate_gradient`).

SVG semantics, summarised (SVG 1.1 section 13.2, SVG 2 "Paint Servers", canvas
``createRadialGradient``):

* The gradient's ``transform`` (gradientTransform) maps gradient space to user space, so
  sample points are mapped to gradient space with its inverse. A singular transform is
  ignored (treated as the identity), as resvg does with invalid gradientTransforms.
* Stop offsets are clamped to [0, 1] and made non-decreasing (each is the max of itself and
  the previous one). Two equal offsets make a hard step; at the step the later stop wins.
  Before the first / after the last offset the end colours extend (padding).
* Spread: ``pad`` clamps the gradient parameter t to [0, 1], ``repeat`` takes t mod 1,
  ``reflect`` folds t into [0, 1] with period 2.
* Linear: t is the projection of the point onto start -> end (0 at start, 1 at end).
  start == end paints the last stop's colour.
* Radial (two-circle, SVG 2 / canvas): circle(t) has centre focal + t (center - focal) and
  radius focal_radius + t (radius - focal_radius); the point's t is the largest t with the
  point on circle(t) and radius(t) >= 0. Points on no such circle (possible only when the
  focal circle is not inside the end circle: the gradient is a cone) are transparent black.
  radius <= 0 paints the last stop's colour. By default the focal point is not moved when it
  lies outside the end circle (SVG 2; matches resvg's reference image
  ``radialGradient/focal-point-correction``); ``clamp_focal=True`` applies SVG 1.1's rule,
  moving it onto the end circle (to 1 - 1e-4 of the radius, as resvg's old code did).
* Colours are interpolated in straight (non-premultiplied) RGBA, as SVG specifies.

Everything is written with ``jnp`` and is safe under ``jit``, ``vmap`` and ``grad``: every
division and square root that can degenerate uses the double-``where`` pattern, so the
gradients with respect to every paint parameter (offsets, colours, start / end, centre,
radius, focal point, focal radius, transform) stay finite, also for degenerate gradients.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from diffvg_jax.geometry import inverse_apply
from diffvg_jax.kernels.numerics import safe_div
from diffvg_jax.scene import LinearGradient

Array = jax.Array

# Threshold below which a stop interval is a hard step. Finite slopes up to 1e6 keep the
# gradient w.r.t. offsets finite (0 * inf would be NaN behind the clip of a steep ramp).
_STEP_EPS = 1e-6
# Squared length (user units^2) below which a linear gradient's start == end.
_LEN2_EPS = 1e-12
# |a| of the radial quadratic, relative to its terms, below which it is treated as linear
# (focal circle touching the end circle from inside): the large root is then at infinity,
# and at this size the sign of a is rounding noise anyway.
_QUAD_REL_EPS = 16.0
# Where clamp_focal=True puts an outside focal point: this fraction of the radius.
_FOCAL_CLAMP = 1.0 - 1e-4


def _to_gradient_space(transform, xy):
    """Map user-space points float (..., 2) through the inverse of the affine ``transform``
    float (3, 3) (gradient -> user). A singular transform is treated as the identity."""
    g, ok = inverse_apply(transform, xy)
    return jnp.where(ok, g, xy)


def _normalise_offsets(offsets):
    """Clamp to [0, 1] and make non-decreasing (running maximum), as SVG does."""
    return jax.lax.cummax(jnp.clip(offsets, 0.0, 1.0), axis=0)


def _apply_spread(t, spread):
    if spread == "pad":
        return jnp.clip(t, 0.0, 1.0)
    if spread == "repeat":
        return t - jnp.floor(t)
    if spread == "reflect":
        m = t - 2.0 * jnp.floor(t * 0.5)  # in [0, 2)
        return 1.0 - jnp.abs(m - 1.0)
    raise ValueError(f"unknown spread {spread!r}; expected 'pad', 'reflect' or 'repeat'")


def _stop_colour(offsets, colors, t):
    """Straight RGBA at gradient parameter t float (...) for stops offsets (K,), colors (K, 4).

    Written as the first colour plus one clamped ramp per stop interval, which is exactly
    piecewise-linear interpolation with end padding, and is smooth in offsets and colours.
    """
    offsets = _normalise_offsets(offsets.astype(t.dtype))
    colors = colors.astype(t.dtype)
    out = jnp.broadcast_to(colors[0], t.shape + (4,))
    if offsets.shape[0] < 2:
        return out
    lo, hi = offsets[:-1], offsets[1:]
    width = hi - lo
    steep = width > _STEP_EPS
    tt = t[..., None]
    ramp = jnp.clip(safe_div(tt - lo, width, steep, 0.0), 0.0, 1.0)
    ramp = jnp.where(steep, ramp, (tt >= lo).astype(t.dtype))  # hard step: later stop wins
    return out + jnp.einsum("...k,kc->...c", ramp, colors[1:] - colors[:-1])


def _linear_t(paint, g):
    start = paint.start.astype(g.dtype)
    d = paint.end.astype(g.dtype) - start
    len2 = jnp.dot(d, d)
    ok = len2 > _LEN2_EPS
    t = safe_div(jnp.sum((g - start) * d, axis=-1), len2, ok, 1.0)
    return t, ok


def _radial_t(paint, g, clamp_focal):
    """The largest t with g on circle(t) and radius(t) >= 0; returns (t, valid, degenerate)."""
    dtype = g.dtype
    centre = paint.center.astype(dtype)
    r1 = paint.radius.astype(dtype)
    focal = paint.focal.astype(dtype)
    r0 = paint.focal_radius.astype(dtype)
    if clamp_focal:
        off = focal - centre
        dist2 = jnp.dot(off, off)
        limit = _FOCAL_CLAMP * jnp.maximum(r1, 0.0)
        outside = dist2 > limit * limit
        dist = jnp.sqrt(jnp.where(outside, dist2, 1.0))
        scale = safe_div(limit, dist, outside, 1.0)
        focal = jnp.where(outside, centre + off * scale, focal)
    cd = centre - focal
    dr = r1 - r0
    pd = g - focal
    # |pd - t cd|^2 = (r0 + t dr)^2  <=>  a t^2 - 2 b t + c = 0
    a = jnp.dot(cd, cd) - dr * dr
    b = jnp.sum(pd * cd, axis=-1) + r0 * dr
    c = jnp.sum(pd * pd, axis=-1) - r0 * r0
    disc = b * b - a * c
    real = disc >= 0.0
    pos = disc > 0.0
    s = jnp.where(pos, jnp.sqrt(jnp.where(pos, disc, 1.0)), 0.0)
    # Numerically stable roots: q / a and c / q with q = b + sign(b) s (product c / a).
    q = b + jnp.where(b >= 0.0, s, -s)
    q_ok = jnp.abs(q) > 0.0
    a_ok = jnp.abs(a) > _QUAD_REL_EPS * jnp.finfo(dtype).eps * (jnp.dot(cd, cd) + dr * dr)
    root1 = safe_div(q, a, a_ok, 0.0)   # infinite when a == 0: not a root then
    root2 = safe_div(c, q, q_ok, 0.0)
    valid1 = real & a_ok
    valid2 = real & (q_ok | a_ok)        # q == 0 and a != 0: double root t = b / a = 0
    root2 = jnp.where(q_ok, root2, 0.0)
    valid1 = valid1 & (r0 + root1 * dr >= 0.0)
    valid2 = valid2 & (r0 + root2 * dr >= 0.0)
    big, small = jnp.maximum(root1, root2), jnp.minimum(root1, root2)
    big_is_1 = root1 >= root2
    big_valid = jnp.where(big_is_1, valid1, valid2)
    small_valid = jnp.where(big_is_1, valid2, valid1)
    t = jnp.where(big_valid, big, jnp.where(small_valid, small, 0.0))
    valid = big_valid | small_valid
    return t, valid, r1 > 0.0


def evaluate_gradient(paint, xy, *, clamp_focal: bool = False) -> Array:
    """Straight RGBA of a LinearGradient or RadialGradient at sample points.

    Args:
      paint: the gradient; ``offsets`` float (K,), ``colors`` float (K, 4) straight RGBA.
      xy: float (..., 2) sample points in the painted shape's USER space, in user units.
      clamp_focal: radial gradients only: move a focal point outside the end circle onto it
        (SVG 1.1) instead of drawing a cone (SVG 2, resvg's reference images; default).

    Returns:
      float (..., 4) straight RGBA in xy's dtype. Points where a radial cone paints nothing
      are (0, 0, 0, 0).
    """
    batch = xy.shape[:-1]
    if paint.offsets.ndim != 1 or paint.offsets.shape[0] < 1:
        raise ValueError(f"{type(paint).__name__}.offsets must have shape (K,) with K >= 1, "
                         f"got {tuple(paint.offsets.shape)}")
    if paint.colors.shape != (paint.offsets.shape[0], 4):
        raise ValueError(f"{type(paint).__name__}.colors must have shape ({paint.offsets.shape[0]}, 4), "
                         f"got {tuple(paint.colors.shape)}")
    g = _to_gradient_space(paint.transform, xy)
    last = jnp.broadcast_to(paint.colors[-1].astype(xy.dtype), batch + (4,))
    if isinstance(paint, LinearGradient):
        t, ok = _linear_t(paint, g)
        colour = _stop_colour(paint.offsets, paint.colors, _apply_spread(t, paint.spread))
        return jnp.where(ok, colour, last)
    t, valid, ok = _radial_t(paint, g, clamp_focal)
    colour = _stop_colour(paint.offsets, paint.colors, _apply_spread(t, paint.spread))
    colour = jnp.where(valid[..., None], colour, 0.0)
    return jnp.where(ok, colour, last)
