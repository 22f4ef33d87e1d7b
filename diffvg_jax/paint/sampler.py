"""The raster samplers of the paints, in premultiplied RGBA: bilinear with a spread mode
(image paints, clamp-to-edge) and periodic bicubic (pattern tiles, :func:`sample_tile`).
Every straight-alpha result of the package (paints and ``render``'s output) is
un-premultiplied by :func:`unpremultiply`.

Raster pixel coordinates: texel (row i, column j) is centred at (u, v) = (j, i); a raster is
float (rh, rw, 4) premultiplied RGBA.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from diffvg_jax.kernels.numerics import components

# Un-premultiply floor: below this alpha divide by it instead. Such pixels are invisible
# (compositing them over a background changes it by < 1e-4) and the gradient of the
# division stays bounded (it grows as 1 / alpha).
MIN_ALPHA = 1e-4
SAMPLER_SPREADS = ("pad", "repeat")   # clamp-to-edge, periodic


def premultiply(rgba):
    """float (..., 4) straight RGBA -> premultiplied RGBA (rgb x a, a)."""
    alpha = rgba[..., 3:4]
    return jnp.concatenate([rgba[..., :3] * alpha, alpha], axis=-1)


def unpremultiply(rgba, min_alpha: float = MIN_ALPHA):
    """float (..., 4) premultiplied RGBA -> straight RGBA, dividing rgb by max(a, min_alpha)."""
    return _unpremultiply(rgba, float(min_alpha))


def _divisor(rgba, min_alpha):
    """float (..., 4): max(a, min_alpha) for r, g, b and 1 for a. One division by it is an
    elementwise pass; dividing the channels apart and stacking them interleaves four
    arrays along the minor axis, 2.5x slower on XLA:CPU (0.85 -> 0.35 ms at 512 px)."""
    return jnp.where(jnp.arange(4) < 3, jnp.maximum(rgba[..., 3:], min_alpha), 1.0)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def _unpremultiply(rgba, min_alpha):
    return rgba / _divisor(rgba, min_alpha)


def _unpremultiply_fwd(rgba, min_alpha):
    return _unpremultiply(rgba, min_alpha), rgba


def _unpremultiply_bwd(min_alpha, rgba, g):
    # d/drgb = g / d; d/da adds -sum_c g_c rgb_c / d^2 where a > min_alpha. The sum over
    # the three colour channels is written out: XLA:CPU reduces a size-3 axis slowly (3 ms
    # of a 512 px emoji's 35 ms gradient).
    red, green, blue, a = components(rgba)
    g_red, g_green, g_blue, _ = components(g)
    inv = 1.0 / jnp.maximum(a, min_alpha)
    through_alpha = jnp.where(a > min_alpha, (g_red * red + g_green * green + g_blue * blue) * inv * inv, 0.0)
    return (g / _divisor(rgba, min_alpha) - jnp.where(jnp.arange(4) == 3, through_alpha[..., None], 0.0),)


_unpremultiply.defvjp(_unpremultiply_fwd, _unpremultiply_bwd)


def _texels(u, size, spread):
    """(first texel int32 (...), second texel int32 (...), weight of the second float (..., 1))
    along one axis of ``size`` texels at coordinates u float (...)."""
    if spread == "repeat":
        u = u - size * jnp.floor(u / size)   # into [0, size): keeps the int conversion small
        u0 = jnp.floor(u)
        i0 = u0.astype(jnp.int32) % size
        return i0, (i0 + 1) % size, (u - u0)[..., None]
    if spread == "pad":
        u = jnp.clip(u, 0.0, size - 1.0)
        u0 = jnp.floor(u)
        i0 = jnp.clip(u0.astype(jnp.int32), 0, size - 1)
        return i0, jnp.minimum(i0 + 1, size - 1), (u - u0)[..., None]
    raise ValueError(f"unknown sampler spread {spread!r}; expected one of {SAMPLER_SPREADS}")


def sample_bilinear(img, u, v, spread: str):
    """Bilinear sample of a raster.

    Args:
      img: float (rh, rw, 4) premultiplied RGBA raster.
      u, v: float (...) raster pixel coordinates (texel (i, j) centred at u = j, v = i).
      spread: static 'pad' (clamp to the edge texels) or 'repeat' (periodic in both axes).

    Returns:
      float (..., 4) premultiplied RGBA.
    """
    rh, rw = img.shape[:2]
    j0, j1, fu = _texels(u, rw, spread)
    i0, i1, fv = _texels(v, rh, spread)
    flat = img.reshape(rh * rw, 4)
    at = lambda i, j: flat[i * rw + j]
    top = at(i0, j0) * (1.0 - fu) + at(i0, j1) * fu
    bottom = at(i1, j0) * (1.0 - fu) + at(i1, j1) * fu
    return top * (1.0 - fv) + bottom * fv


# Bicubic filter of the pattern tiles: Mitchell-Netravali with B = C = 1/3, the cubic that
# Skia / tiny-skia (resvg) use for FilterQuality::Bicubic. Weights of the four taps at
# offsets -1, 0, 1, 2 from floor(u), for f = u - floor(u): (far(1-f), near(1-f), near(f), far(f)).
def _mitchell_near(t):
    return ((-21.0 / 18.0 * t + 27.0 / 18.0) * t + 9.0 / 18.0) * t + 1.0 / 18.0


def _mitchell_far(t):
    return t * t * (7.0 / 18.0 * t - 6.0 / 18.0)


# A sample this close (texels, per axis) to a texel centre reads that texel alone (nearest):
# a tile mapped to the canvas by a translation is snapped by raster.patterns so that every
# pixel centre falls on a texel centre (float32 noise: ~1e-5 texel). Elsewhere a sample lands
# in this window with probability ~(2 * NEAREST_EPS)^2 and then differs from the bicubic
# value by at most the filter's 1/9 side weights of the local contrast.
NEAREST_EPS = 2e-3


def sample_tile(img, u, v):
    """Periodic sample of a pattern tile raster: the texel itself where (u, v) falls on a
    texel centre (within NEAREST_EPS), else the Mitchell bicubic (B = C = 1/3) of the 4 x 4
    texels around it, clamped to valid premultiplied values (0 <= rgb <= a <= 1).

    Args:
      img: float (rh, rw, 4) premultiplied RGBA raster, periodic in both axes.
      u, v: float (...) raster pixel coordinates (texel (i, j) centred at u = j, v = i).

    Returns:
      float (..., 4) premultiplied RGBA. Differentiable in ``img`` (everywhere) and in u, v
      (the bicubic branch; C1 in the position).
    """
    rh, rw = img.shape[:2]
    flat = img.reshape(rh * rw, 4)

    def taps(x, size):
        x = x - size * jnp.floor(x / size)   # into [0, size)
        x0 = jnp.floor(x)
        f = x - x0
        i0 = x0.astype(jnp.int32)
        idx = jnp.stack([(i0 + k) % size for k in (-1, 0, 1, 2)], axis=-1)
        wts = jnp.stack([_mitchell_far(1.0 - f), _mitchell_near(1.0 - f), _mitchell_near(f), _mitchell_far(f)],
                        axis=-1)
        near = jnp.round(x)
        on_centre = jnp.abs(x - near) < NEAREST_EPS
        return idx, wts, near.astype(jnp.int32) % size, on_centre

    jx, wx, nx, cx = taps(u, rw)
    iy, wy, ny, cy = taps(v, rh)
    texels = flat[iy[..., :, None] * rw + jx[..., None, :]]               # (..., 4, 4, 4)
    cubic = jnp.einsum("...i,...j,...ijc->...c", wy, wx, texels)
    alpha = jnp.clip(cubic[..., 3:4], 0.0, 1.0)
    cubic = jnp.concatenate([jnp.clip(cubic[..., :3], 0.0, alpha), alpha], axis=-1)
    nearest = flat[ny * rw + nx]
    return jnp.where((cx & cy)[..., None], nearest, cubic)
