"""Geometry: affine transforms, shapes as cubic Bezier subpaths, flattening, stroke outlines.

Imports only :mod:`diffvg_jax.scene` (and the dependency-free numerics of the kernels).
Everything here is traceable JAX on float32 (float64 under ``jax.enable_x64``) arrays in
canvas or user units.

  affine    float_dtype, apply_transform, safe_inverse, inverse_apply, invertible
  shapes    Subpath, shape_subpaths (shape -> cubic subpaths in user space); ELEVATION,
            UNIT_ARCS, rect_ctrl (the constructions, for batched encoders)
  flatten   flatten_subpath, lifted_segments, polyline_edges (cubics -> polylines -> edges)
  stroke    stroke_outline (a centre line -> closed outline contours)
  stroke_joins  join_slots (the outline's points at join vertices) and 2-vector helpers
"""
from .affine import DET_EPS, apply_transform, float_dtype, inverse_apply, invertible, safe_inverse
from .flatten import FLATTEN_TOLERANCE, flatten_subpath, lifted_segments, polyline_edges
from .shapes import ELEVATION, UNIT_ARCS, Subpath, rect_ctrl, shape_subpaths
from .stroke import stroke_outline
