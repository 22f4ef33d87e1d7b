"""``evaluate_paint``: the straight RGBA of any paint at sample points in user space.

Dispatches to the paint's own module: Solid here, gradients (:mod:`.gradients`), image
paints (:mod:`.image`) and patterns (:mod:`.pattern`). A Pattern needs its tile raster,
which the renderer draws (:mod:`diffvg_jax.raster.patterns`) and passes in as ``tile``:
paint never calls the renderer.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from diffvg_jax.scene import ImagePaint, LinearGradient, Pattern, RadialGradient, Solid

from .gradients import evaluate_gradient
from .image import evaluate_image
from .pattern import evaluate_pattern

Array = jax.Array


def evaluate_paint(paint, xy, *, clamp_focal: bool = False, tile=None) -> Array:
    """Straight RGBA of ``paint`` at sample points.

    Args:
      paint: :class:`~diffvg_jax.scene.Solid`, :class:`~diffvg_jax.scene.LinearGradient`,
        :class:`~diffvg_jax.scene.RadialGradient`, :class:`~diffvg_jax.scene.Pattern`
        (see :mod:`diffvg_jax.paint.pattern`) or :class:`~diffvg_jax.scene.ImagePaint` (see
        :mod:`diffvg_jax.paint.image`).
      xy: float (..., 2) sample points in the painted shape's USER space (before the shape's
        transform), in user units.
      clamp_focal: radial gradients only: move a focal point outside the end circle onto it
        (SVG 1.1) instead of drawing a cone (SVG 2, resvg's reference images; default).
      tile: Patterns only (required for them): float (rh, rw, 4) premultiplied RGBA raster
        of the pattern's tile, from :func:`diffvg_jax.raster.patterns.tile_raster`.

    Returns:
      float32 (..., 4) straight (un-premultiplied) RGBA, in xy's floating dtype if it is
      float64. Points where a radial cone paints nothing are (0, 0, 0, 0).
    """
    xy = jnp.asarray(xy)
    if not jnp.issubdtype(xy.dtype, jnp.floating):
        xy = xy.astype(jnp.float32)
    if xy.ndim < 1 or xy.shape[-1] != 2:
        raise ValueError(f"evaluate_paint: xy must have shape (..., 2), got {tuple(xy.shape)}")
    if isinstance(paint, Solid):
        return jnp.broadcast_to(paint.color.astype(xy.dtype), xy.shape[:-1] + (4,))
    if isinstance(paint, Pattern):
        if tile is None:
            raise ValueError("evaluate_paint: a Pattern needs its tile raster (tile=...); "
                             "diffvg_jax.raster.patterns.tile_raster draws it")
        return evaluate_pattern(paint, xy, tile)
    if isinstance(paint, ImagePaint):
        return evaluate_image(paint, xy)
    if not isinstance(paint, (LinearGradient, RadialGradient)):
        raise ValueError(f"evaluate_paint: paint must be Solid, LinearGradient, RadialGradient, Pattern or ImagePaint, "
                         f"got {type(paint).__name__}")
    return evaluate_gradient(paint, xy, clamp_focal=clamp_focal)
