"""Pattern paint (SVG ``<pattern>``): sample a rasterised tile periodically.

Evaluation of a :class:`~diffvg_jax.scene.Pattern` at user-space points xy, given its tile
raster:

1. the tile content is drawn by the renderer, premultiplied, into a raster of (rw, rh)
   pixels covering the tile [0, w] x [0, h] (:func:`diffvg_jax.raster.patterns.tile_raster`
   hands it to us: paint never calls the renderer); so the exact box-filtered coverage and
   its analytic VJP give the gradients w.r.t. the content;
2. each point is mapped to tile space by the inverse of ``transform``, then to raster pixel
   coordinates (u, v) = (x rw / w - 1/2, y rh / h - 1/2), wrapped into the tile (periodic);
3. the raster is sampled with :func:`~.sampler.sample_tile` in premultiplied RGBA (so
   colours of transparent texels do not bleed): the texel itself where the point falls on
   a texel centre, else the Mitchell bicubic of the 4 x 4 texels around it (resvg /
   tiny-skia's pattern filter), and returned as straight RGBA like the other paints.

With the automatic resolution (:func:`diffvg_jax.raster.patterns.resolve_resolutions`,
resvg's rule: one texel per canvas pixel, a tile mapped by a translation snapped to whole
pixels) this reproduces resvg's pattern rendering: nearest texels for translated tiles,
bicubic for rotated / scaled / skewed ones. The bicubic is a resampling filter about two
texels wide: it blurs edges of transformed tiles like resvg does (tests/paint/test_pattern.py
measures it against the exact oracle).

Degenerate patterns (size <= 0, singular transform) paint transparent black, with finite
gradients (guarded divisions).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from diffvg_jax.geometry import inverse_apply, invertible
from diffvg_jax.scene import Pattern

from .sampler import sample_tile, unpremultiply

Array = jax.Array

SIZE_EPS = 1e-9   # tile width / height (tile units) below which the paint is none


def tile_frame(pattern: Pattern, dtype):
    """The tile rectangle a pattern's raster covers.

    Returns (w float (), h float (), ok bool ()): the tile size in tile units, and whether
    the pattern paints at all (size > 0 and an invertible transform). A degenerate tile is
    given the size 1 x 1 (it is rendered, then discarded), so nothing divides by zero.
    """
    size = jnp.asarray(pattern.size, dtype)
    ok = invertible(jnp.asarray(pattern.transform, dtype)) & (size[0] > SIZE_EPS) & (size[1] > SIZE_EPS)
    return jnp.where(ok, size[0], 1.0), jnp.where(ok, size[1], 1.0), ok


def evaluate_pattern(pattern: Pattern, xy, tile) -> Array:
    """Straight RGBA of ``pattern`` at user-space points.

    Args:
      pattern: the Pattern paint.
      xy: float (..., 2) points in the painted shape's user space (user units).
      tile: float (rh, rw, 4) premultiplied RGBA raster of the tile content over the tile
        rectangle of :func:`tile_frame` (rendered by ``diffvg_jax.raster.patterns``).

    Returns:
      float (..., 4) straight RGBA in xy's dtype; (0, 0, 0, 0) everywhere for a tile of
      size <= 0 or a singular transform (SVG: the paint is 'none').
    """
    dtype = xy.dtype
    rh, rw = tile.shape[:2]
    w, h, ok = tile_frame(pattern, dtype)
    local, _ = inverse_apply(jnp.asarray(pattern.transform, dtype), xy)
    u = local[..., 0] * (rw / w) - 0.5
    v = local[..., 1] * (rh / h) - 0.5
    pre = sample_tile(tile.astype(dtype), u, v)
    return jnp.where(ok, unpremultiply(pre), 0.0)
