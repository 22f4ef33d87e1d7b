"""Paints: solid colours, linear and radial gradients, image rasters and pattern tiles,
evaluated at points in user space. Imports only the scene model and geometry (a pattern's
tile raster is drawn by :mod:`diffvg_jax.raster.patterns` and handed in).

  evaluate   evaluate_paint (the dispatch over paint types)
  gradients  evaluate_gradient (linear and radial)
  sampler    sample_bilinear (images), sample_tile (pattern tiles: nearest / bicubic), premultiply,
             unpremultiply, MIN_ALPHA
  image      evaluate_image;  pattern  evaluate_pattern, tile_frame
"""
from .evaluate import evaluate_paint
from .gradients import evaluate_gradient
from .image import evaluate_image
from .pattern import evaluate_pattern, tile_frame
from .sampler import MIN_ALPHA, premultiply, sample_bilinear, sample_tile, unpremultiply
