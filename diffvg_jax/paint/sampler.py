"""The one raster sampler of the paints: bilinear, with a spread mode, in premultiplied RGBA.

Image paints (clamp-to-edge) and pattern tiles (periodic) read their rasters here, and every
straight-alpha result of the package (paints and ``render``'s output) is un-premultiplied by
:func:`unpremultiply`.

Raster pixel coordinates: texel (row i, column j) is centred at (u, v) = (j, i); a raster is
float (rh, rw, 4) premultiplied RGBA.
"""
from __future__ import annotations

import jax.numpy as jnp

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
    a = rgba[..., 3:4]
    return jnp.concatenate([rgba[..., :3] / jnp.maximum(a, min_alpha), a], axis=-1)


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
