"""Image paint (SVG ``<image>``): a raster sampled bilinearly in image-pixel space.

Evaluation of an :class:`~diffvg_jax.scene.ImagePaint` at user-space points xy:

1. each point is mapped to image-pixel space by the inverse of ``transform`` (pixel
   (i, j) covers [j, j + 1] x [i, i + 1]);
2. points outside the image rectangle [0, w] x [0, h] are transparent (the shape that
   carries the paint, e.g. the Rect that load_svg makes of an <image>, covers exactly that
   rectangle or less, and its coverage is exact);
3. inside, the pixels are sampled bilinearly (texel centres at j + 1/2, i + 1/2,
   clamp-to-edge) in premultiplied RGBA, so colours of transparent pixels do not bleed, and
   returned as straight RGBA like the other paints.

The sampler is the pattern's (:mod:`.sampler`), with clamping instead of wrap-around.
Gradients flow to ``pixels`` and ``transform``; a singular transform paints nothing (with
finite gradients).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from diffvg_jax.geometry import inverse_apply
from diffvg_jax.scene import ImagePaint

from .sampler import premultiply, sample_bilinear, unpremultiply

Array = jax.Array


def evaluate_image(paint: ImagePaint, xy) -> Array:
    """Straight RGBA of ``paint`` at user-space points.

    Args:
      paint: the ImagePaint; ``pixels`` float (h, w, 4) straight RGBA.
      xy: float (..., 2) points in the painted shape's user space (user units).

    Returns:
      float (..., 4) straight RGBA in xy's dtype, (0, 0, 0, 0) outside the image.
    """
    dtype = xy.dtype
    pixels = jnp.asarray(paint.pixels, dtype)
    if pixels.ndim != 3 or pixels.shape[-1] != 4 or min(pixels.shape[:2]) < 1:
        raise ValueError(f"ImagePaint.pixels must have shape (h, w, 4) with h, w >= 1, got {tuple(pixels.shape)}")
    h, w = pixels.shape[:2]
    p, ok = inverse_apply(jnp.asarray(paint.transform, dtype), xy)
    x, y = p[..., 0], p[..., 1]
    inside = ok & (x >= 0.0) & (x <= w) & (y >= 0.0) & (y <= h)
    sample = sample_bilinear(premultiply(pixels), x - 0.5, y - 0.5, "pad")
    return jnp.where(inside[..., None], unpremultiply(sample), 0.0)
