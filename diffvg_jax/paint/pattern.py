"""Pattern paint (SVG ``<pattern>``): render the tile, then sample it periodically.

Evaluation of a :class:`~diffvg_jax.scene.Pattern` at user-space points xy:

1. the tile content is drawn by our own renderer (``render.render_traced``, premultiplied)
   into a raster of ``resolution`` = (rw, rh) pixels covering the tile [0, w] x [0, h]; so
   the exact box-filtered coverage and its analytic VJP give the gradients w.r.t. the
   content;
2. each point is mapped to tile space by the inverse of ``transform``, then to raster pixel
   coordinates (u, v) = (x rw / w - 1/2, y rh / h - 1/2), wrapped into the tile (periodic);
3. the raster is sampled bilinearly with wrap-around, in premultiplied RGBA (so colours of
   transparent texels do not bleed), and returned as straight RGBA like the other paints.

Bilinear resampling is not exact: where raster and canvas pixels line up (integer offsets,
two texels per canvas pixel) it reproduces the box-filtered image exactly; otherwise it
misplaces edge coverage by up to about a quarter of the colour step (measured in tests/test_pattern.py and
notes/svg.md). The resolution is static: ``render`` picks it from the tile's size on the
canvas when the scene is concrete (:func:`resolve_resolutions`: TEXELS_PER_PIXEL texels per
canvas pixel), else DEFAULT_RESOLUTION.

Degenerate patterns (size <= 0, singular transform) paint transparent black, with finite
gradients (double-``where`` guards on every division).
"""
from __future__ import annotations

import dataclasses
import importlib

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.scene import SHAPE_TYPES, Group, Mask, Pattern, Scene

Array = jax.Array

DEFAULT_RESOLUTION = 128   # tile raster side (px) when the scene is traced and resolution is None
# Texels per canvas pixel (per axis) of the automatic resolution. At 2, bilinear sampling of
# the box-filtered raster acts as a filter about one pixel wide, like the canvas's own box:
# measured on a rotated pattern, mean error 0.010 at 2 vs 0.037 at 1 and 0.032 at 4
# (at 4 the 2 x 2 texels read are a 0.5 px box: aliased). On a pixel-aligned tile each
# pixel centre falls on a texel corner and the bilinear weights (1/4 each) give exactly
# the pixel's box average.
TEXELS_PER_PIXEL = 2
MIN_RESOLUTION = 2
MAX_RESOLUTION = 1024      # per side: a 1024^2 RGBA raster per pattern paint is 16 MB (float32)
_SIZE_EPS = 1e-9           # tile width / height (tile units) below which the paint is none
_DET_EPS = 1e-12           # |det| of transform below which the paint is none
_MIN_ALPHA = 1e-4          # un-premultiply floor, as render.UNPREMULTIPLY_MIN_ALPHA


def _safe_div(num, den, ok):
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)


def _to_tile_space(transform, xy):
    """Map user-space points float (..., 2) through the inverse of ``transform`` (3, 3)
    (tile -> user); returns (tile points (..., 2), ok: the transform is invertible)."""
    m = transform.astype(xy.dtype)
    a, b, c, d = m[0, 0], m[0, 1], m[1, 0], m[1, 1]
    det = a * d - b * c
    ok = jnp.abs(det) > _DET_EPS
    inv = _safe_div(1.0, det, ok)
    px, py = xy[..., 0] - m[0, 2], xy[..., 1] - m[1, 2]
    return jnp.stack([(d * px - b * py) * inv, (-c * px + a * py) * inv], axis=-1), ok


def _tile_raster(pattern: Pattern, rw: int, rh: int, w, h, dtype):
    """Premultiplied RGBA float (rh, rw, 4) of the tile content, tile [0, w] x [0, h]
    (w, h > 0, tile units) scaled onto the raster's pixels."""
    # late: render imports paint, which imports this module; import_module because the
    # package attribute diffvg_jax.render is the render function, not the module
    R = importlib.import_module("diffvg_jax.raster.renderer")

    to_raster = jnp.stack([jnp.stack([rw / w, 0.0, 0.0]), jnp.stack([0.0, rh / h, 0.0]),
                           jnp.asarray([0.0, 0.0, 1.0], dtype)]).astype(dtype)
    content = Scene(children=(Group(children=pattern.children, transform=to_raster),))
    num_layers = R.count_layers(content)
    if not num_layers:
        return jnp.zeros((rh, rw, 4), dtype)
    capacity = R.DEFAULT_CURVE_PIECES
    budget = R.default_budget(R.collect_edge_count(content, capacity), rh, rw)
    return R.render_traced(content, rw, rh, True, budget, capacity, True, num_layers)


def _bilinear_wrap(img, u, v):
    """Bilinear sample of img float (rh, rw, 4) at raster pixel coordinates u, v float (...)
    (texel (i, j) centred at u = j, v = i), periodic in both axes; returns (..., 4)."""
    rh, rw = img.shape[:2]
    u = u - rw * jnp.floor(u / rw)   # into [0, rw): keeps the int conversion small
    v = v - rh * jnp.floor(v / rh)
    u0, v0 = jnp.floor(u), jnp.floor(v)
    fu, fv = (u - u0)[..., None], (v - v0)[..., None]
    j0 = u0.astype(jnp.int32) % rw
    i0 = v0.astype(jnp.int32) % rh
    j1, i1 = (j0 + 1) % rw, (i0 + 1) % rh
    return _bilinear_blend(img, i0, j0, i1, j1, fu, fv)


def _bilinear_clamp(img, u, v):
    """As :func:`_bilinear_wrap`, but clamp-to-edge instead of periodic."""
    rh, rw = img.shape[:2]
    u = jnp.clip(u, 0.0, rw - 1.0)
    v = jnp.clip(v, 0.0, rh - 1.0)
    u0, v0 = jnp.floor(u), jnp.floor(v)
    fu, fv = (u - u0)[..., None], (v - v0)[..., None]
    j0 = jnp.clip(u0.astype(jnp.int32), 0, rw - 1)
    i0 = jnp.clip(v0.astype(jnp.int32), 0, rh - 1)
    j1, i1 = jnp.minimum(j0 + 1, rw - 1), jnp.minimum(i0 + 1, rh - 1)
    return _bilinear_blend(img, i0, j0, i1, j1, fu, fv)


def _bilinear_blend(img, i0, j0, i1, j1, fu, fv):
    """The bilinear mix of texels (i0|i1, j0|j1) of img (rh, rw, 4) with weights fu, fv (..., 1)."""
    rh, rw = img.shape[:2]
    flat = img.reshape(rh * rw, 4)
    at = lambda i, j: flat[i * rw + j]
    top = at(i0, j0) * (1.0 - fu) + at(i0, j1) * fu
    bottom = at(i1, j0) * (1.0 - fu) + at(i1, j1) * fu
    return top * (1.0 - fv) + bottom * fv


def evaluate_pattern(pattern: Pattern, xy) -> Array:
    """Straight RGBA float (..., 4) of ``pattern`` at user-space points xy float (..., 2).

    Uses ``pattern.resolution`` (static) or DEFAULT_RESOLUTION when it is None. A tile of
    size <= 0 or a singular transform gives (0, 0, 0, 0) (SVG: the paint is 'none').
    """
    rw, rh = pattern.resolution or (DEFAULT_RESOLUTION, DEFAULT_RESOLUTION)
    dtype = xy.dtype
    size = jnp.asarray(pattern.size, dtype)
    tile, invertible = _to_tile_space(jnp.asarray(pattern.transform, dtype), xy)
    ok = invertible & (size[0] > _SIZE_EPS) & (size[1] > _SIZE_EPS)
    w = jnp.where(ok, size[0], 1.0)   # a degenerate tile renders (and is then discarded) as 1 x 1
    h = jnp.where(ok, size[1], 1.0)
    raster = _tile_raster(pattern, rw, rh, w, h, dtype)
    u = tile[..., 0] * (rw / w) - 0.5
    v = tile[..., 1] * (rh / h) - 0.5
    pre = _bilinear_wrap(raster, u, v)
    a = pre[..., 3:4]
    straight = jnp.concatenate([pre[..., :3] / jnp.maximum(a, _MIN_ALPHA), a], axis=-1)
    return jnp.where(ok, straight, 0.0)


# ---------------------------------------------------------------------------------------
# Static resolution from a concrete scene
# ---------------------------------------------------------------------------------------


def auto_resolution(pattern: Pattern, to_canvas) -> tuple:
    """(rw, rh) ints: TEXELS_PER_PIXEL x the tile's edge lengths on the canvas in pixels,
    rounded and clamped to [MIN_RESOLUTION, MAX_RESOLUTION]. ``to_canvas``: float64 (3, 3) user -> canvas of
    the painted shape. Concrete values only."""
    m = np.asarray(to_canvas, np.float64) @ np.asarray(pattern.transform, np.float64)
    size = np.abs(np.asarray(pattern.size, np.float64))
    lengths = TEXELS_PER_PIXEL * np.hypot(m[0, :2], m[1, :2]) * size   # x 2 the tile edges' canvas lengths
    out = [int(np.clip(np.round(x), MIN_RESOLUTION, MAX_RESOLUTION)) if np.isfinite(x) else MIN_RESOLUTION
           for x in lengths]
    return out[0], out[1]


def _resolve_paint(paint, to_canvas):
    if not isinstance(paint, Pattern):
        return paint
    res = paint.resolution or auto_resolution(paint, to_canvas)
    size = np.asarray(paint.size, np.float64)
    w, h = (size if np.all(size > 0) else np.ones(2))
    # Content is drawn in raster pixels: nested patterns see that as their canvas.
    inner = np.diag([res[0] / w, res[1] / h, 1.0])
    children = _resolve_children(paint.children, inner)
    return dataclasses.replace(paint, children=children, resolution=res)


def _resolve_children(children, to_canvas):
    return tuple(_resolve(c, to_canvas) for c in children)


def _resolve(obj, to_canvas):
    """``obj`` with every Pattern paint below it given a concrete resolution."""
    if obj is None:
        return None
    m = to_canvas @ np.asarray(getattr(obj, "transform", np.eye(3)), np.float64)
    if isinstance(obj, SHAPE_TYPES):
        if not isinstance(obj.fill, Pattern) and not isinstance(obj.stroke, Pattern):
            return obj
        return dataclasses.replace(obj, fill=_resolve_paint(obj.fill, m), stroke=_resolve_paint(obj.stroke, m))
    if isinstance(obj, (Group, Mask)):
        changes = {"children": _resolve_children(obj.children, m)}
        if getattr(obj, "mask", None) is not None:
            # a Group's mask lives in the group's space; a Mask's inner mask in the parent's
            changes["mask"] = _resolve(obj.mask, m if isinstance(obj, Group) else to_canvas)
        return dataclasses.replace(obj, **changes)
    return obj   # clip paths ignore paints


def _has_pattern(tree) -> bool:
    return any(isinstance(x, Pattern) for x in
               jax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, Pattern)))


def resolve_resolutions(scene: Scene) -> Scene:
    """``scene`` with each Pattern whose resolution is None given one raster pixel per
    canvas pixel (:func:`auto_resolution`, through every enclosing transform). The scene
    must be concrete; a scene without patterns is returned as is."""
    if not _has_pattern(scene):
        return scene
    return dataclasses.replace(scene, children=_resolve_children(scene.children, np.eye(3)))
