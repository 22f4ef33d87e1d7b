"""Geometry of float64 NumPy subpaths at load and save time (user units): basic shapes,
bounding boxes, dashing, marker vertices, and scene shapes <-> subpaths.

Subpaths are :class:`diffvg_jax.svg.values.paths.Subpath`; the traceable JAX geometry used
for rendering is :mod:`diffvg_jax.geometry`.
"""
from .curves import (BBox, bbox_points, bbox_subpaths, bezier_points, ellipse_subpath, poly_subpath,
                     rect_subpath)
from .dashes import dash_subpaths
from .scene_shapes import (objects_bbox, path_arrays, path_subpaths, shape_outline,
                           transformed_outline)
from .vertices import vertex_count, vertices
