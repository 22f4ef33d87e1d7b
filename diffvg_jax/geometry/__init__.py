"""Geometry: affine transforms, shapes as cubic Bezier subpaths, flattening, stroke outlines.

Imports only :mod:`diffvg_jax.scene`. Everything here is traceable JAX on float32 (float64
under ``jax.enable_x64``) arrays in canvas or user units.
"""
from .curves import (apply_transform, flatten_subpath, float_dtype, polyline_edges, safe_inverse,
                     shape_subpaths)
from .stroke import stroke_outline
