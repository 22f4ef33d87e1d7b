"""Pattern tiles: raster draws each Pattern's tile and hands it to paint.

A :class:`~diffvg_jax.scene.Pattern` paint samples a raster of its tile content
(:mod:`diffvg_jax.paint.pattern`). Drawing that raster is rasterisation, so it happens
here, with the renderer's own traced pipeline passed in as ``render_content``: a tile whose
content holds patterns recurses through that function argument, and paint never imports
raster.

The raster's resolution is static: ``render`` picks it from the tile's size on the canvas
when the scene is concrete (:func:`resolve_resolutions`, resvg's rule: one texel per canvas
pixel, the tile's pixel size rounded, a translated tile snapped to the pixel grid so that
the sampler reads whole texels), else DEFAULT_RESOLUTION.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.paint import evaluate_paint, tile_frame
from diffvg_jax.scene import SHAPE_TYPES, Group, Mask, Pattern, Scene

from .budgets import DEFAULT_CURVE_PIECES, default_budget
from .layers import collect_edge_count, count_layers

DEFAULT_RESOLUTION = 128   # tile raster side (px) when the scene is traced and resolution is None
# The automatic resolution is resvg's (device_tile): one texel per canvas pixel, the tile's
# pixel size rounded. A tile whose texels map to canvas pixels by a translation (linear part
# within TRANSLATE_TOL of the identity) is snapped to the pixel grid: nearest sampling.
TRANSLATE_TOL = 1e-6
MIN_RESOLUTION = 2
MAX_RESOLUTION = 1024      # per side: a 1024^2 RGBA raster per pattern paint is 16 MB (float32)

# The renderer's traced pipeline: (scene, width, height, premultiplied, max_pieces,
# curve_pieces, check_budget, max_depth) -> float (height, width, 4) RGBA.
RenderFn = Callable[..., jax.Array]


def tile_raster(pattern: Pattern, dtype, render_content: RenderFn):
    """float (rh, rw, 4) premultiplied RGBA of the pattern's tile content, the tile
    rectangle of :func:`~diffvg_jax.paint.pattern.tile_frame` scaled onto the raster's
    (rw, rh) = ``pattern.resolution`` (or DEFAULT_RESOLUTION) pixels.

    ``render_content`` draws the content (the renderer passes its own traced pipeline, so
    patterns inside the tile recurse through it).
    """
    rw, rh = pattern.resolution or (DEFAULT_RESOLUTION, DEFAULT_RESOLUTION)
    w, h, _ = tile_frame(pattern, dtype)
    to_raster = jnp.stack([jnp.stack([rw / w, 0.0, 0.0]), jnp.stack([0.0, rh / h, 0.0]),
                           jnp.asarray([0.0, 0.0, 1.0], dtype)]).astype(dtype)
    content = Scene(children=(Group(children=pattern.children, transform=to_raster),))
    num_layers = count_layers(content)
    if not num_layers:
        return jnp.zeros((rh, rw, 4), dtype)
    capacity = DEFAULT_CURVE_PIECES
    budget = default_budget(collect_edge_count(content, capacity), rh, rw)
    return render_content(content, rw, rh, True, budget, capacity, True, num_layers)


def paint_with_tiles(paint, xy, render_content: RenderFn):
    """``evaluate_paint`` of any paint at xy float (..., 2) user space, a Pattern's tile
    drawn first by :func:`tile_raster`; float (..., 4) straight RGBA."""
    if isinstance(paint, Pattern):
        return evaluate_paint(paint, xy, tile=tile_raster(paint, xy.dtype, render_content))
    return evaluate_paint(paint, xy)


# ---------------------------------------------------------------------------------------
# Static resolution from a concrete scene: resvg's device tile
# ---------------------------------------------------------------------------------------


def device_scale(pattern: Pattern, to_canvas) -> tuple:
    """(sx, sy) floats: the canvas scale of the tile, as resvg / tiny-skia's
    ``Transform::get_scale`` of (to_canvas @ pattern.transform): the lengths of the rows of
    the linear part (sqrt(a^2 + c^2), sqrt(b^2 + d^2) for x' = a x + c y, y' = b x + d y)."""
    m = np.asarray(to_canvas, np.float64) @ np.asarray(pattern.transform, np.float64)
    return float(np.hypot(m[0, 0], m[0, 1])), float(np.hypot(m[1, 0], m[1, 1]))


def _round_half_up(x):
    return int(np.floor(x + 0.5))   # Rust's f32::round for the positive sizes here


def _axis_aligned(m) -> bool:
    """Whether a transform has no rotation / skew part (exactly zero off-diagonals)."""
    m = np.asarray(m)
    return bool(m[0, 1] == 0 and m[1, 0] == 0)


def device_tile(pattern: Pattern, to_canvas, aligned: bool = True):
    """resvg's tile raster for ``pattern`` painted through ``to_canvas`` (float64 (3, 3)
    user -> canvas of the painted shape); concrete values only. ``aligned``: whether every
    transform composed into ``to_canvas`` is axis-aligned (:func:`_axis_aligned`).

    resvg renders the content at the tile's canvas scale (sx, sy) (:func:`device_scale`) into
    a pixmap of (round(w sx), round(h sy)) pixels and repeats that pixmap: the period on the
    canvas is the rounded pixel size, not w sx (a 37.5 px tile repeats every 38 px), and the
    content right of / below the pixmap is cut. When the pixmap maps to the canvas by a pure
    translation, tiny-skia samples it with nearest texels (a pixel reads the texel under its
    centre); otherwise bicubic. tiny-skia's test is exact in float32: a chain with rotations
    that cancel (rotate(-30) then rotate(30)) leaves rounding noise in the product and is
    drawn bicubic (resvg's reference images show it), so a translation counts only when
    every transform of the chain (``aligned``, and the pattern's own) is axis-aligned and
    the product's linear part is the identity within TRANSLATE_TOL.

    Returns (resolution (rw, rh), size float64 (2,) = (rw / sx, rh / sy) in tile units (the
    period; content scale rw / size = sx), transform float64 (3, 3)): the pattern's transform,
    for a translated tile moved by less than a pixel so that each pixel centre falls on the
    centre of the texel tiny-skia's nearest sampling reads (the sampler then returns that
    texel exactly). Returns None when the automatic rule does not apply (degenerate tile or
    transform: the paint is none anyway); a tile that rounds to 0 pixels has size (0, 0):
    resvg draws nothing for it.
    """
    to_canvas = np.asarray(to_canvas, np.float64)
    t = np.asarray(pattern.transform, np.float64)
    w, h = (float(v) for v in np.asarray(pattern.size, np.float64))
    sx, sy = device_scale(pattern, to_canvas)
    m = to_canvas @ t
    if not (np.all(np.isfinite(m)) and np.isfinite(w * h) and w > 0 and h > 0 and sx > 0 and sy > 0
            and abs(np.linalg.det(m[:2, :2])) > 1e-12 * max(sx * sy, 1e-300)):
        return None
    rw, rh = _round_half_up(w * sx), _round_half_up(h * sy)
    if rw < 1 or rh < 1:
        return (MIN_RESOLUTION, MIN_RESOLUTION), np.zeros(2), t
    shrink = min(1.0, MAX_RESOLUTION / max(rw, rh))   # over the cap: a coarser raster, same period
    if shrink < 1.0:
        sx, sy = sx * shrink, sy * shrink
        rw, rh = max(1, _round_half_up(w * sx)), max(1, _round_half_up(h * sy))
    size = np.array([rw / sx, rh / sy])
    texel_to_canvas = m @ np.diag([1.0 / sx, 1.0 / sy, 1.0])
    if aligned and _axis_aligned(t) and np.allclose(texel_to_canvas[:2, :2], np.eye(2), rtol=0.0,
                                                    atol=TRANSLATE_TOL):
        origin = texel_to_canvas[:2, 2]
        # a pixel with centre c reads texel floor(c - origin); with the origin at
        # ceil(origin - 1/2) that texel's centre is exactly c
        snapped = np.ceil(origin - 0.5 - TRANSLATE_TOL)
        shift = np.eye(3)
        shift[:2, 2] = snapped - origin
        t = np.linalg.solve(to_canvas, shift @ m)
    return (rw, rh), size, t


def auto_resolution(pattern: Pattern, to_canvas) -> tuple:
    """(rw, rh) ints: the tile's raster size in pixels by resvg's rule (:func:`device_tile`),
    (MIN_RESOLUTION, MIN_RESOLUTION) for a degenerate tile. Concrete values only."""
    tile = device_tile(pattern, to_canvas)
    return (MIN_RESOLUTION, MIN_RESOLUTION) if tile is None else tile[0]


def _resolve_paint(paint, to_canvas, aligned):
    if not isinstance(paint, Pattern):
        return paint
    if paint.resolution is None and (tile := device_tile(paint, to_canvas, aligned)) is not None:
        res, size, transform = tile
        paint = dataclasses.replace(paint, resolution=res, size=jnp.asarray(size, jnp.asarray(paint.size).dtype),
                                    transform=jnp.asarray(transform, jnp.asarray(paint.transform).dtype))
    res = paint.resolution or (MIN_RESOLUTION, MIN_RESOLUTION)
    size = np.asarray(paint.size, np.float64)
    w, h = (size if np.all(size > 0) else np.ones(2))
    # Content is drawn in raster pixels: nested patterns see that as their canvas.
    inner = np.diag([res[0] / w, res[1] / h, 1.0])
    children = _resolve_children(paint.children, inner, True)
    return dataclasses.replace(paint, children=children, resolution=res)


def _resolve_children(children, to_canvas, aligned):
    return tuple(_resolve(c, to_canvas, aligned) for c in children)


def _resolve(obj, to_canvas, aligned):
    """``obj`` with every Pattern paint below it given a concrete resolution. ``aligned``:
    whether every transform composed into ``to_canvas`` is axis-aligned."""
    if obj is None:
        return None
    own = np.asarray(getattr(obj, "transform", np.eye(3)), np.float64)
    m = to_canvas @ own
    inner_aligned = aligned and _axis_aligned(own)
    if isinstance(obj, SHAPE_TYPES):
        if not isinstance(obj.fill, Pattern) and not isinstance(obj.stroke, Pattern):
            return obj
        return dataclasses.replace(obj, fill=_resolve_paint(obj.fill, m, inner_aligned),
                                   stroke=_resolve_paint(obj.stroke, m, inner_aligned))
    if isinstance(obj, (Group, Mask)):
        changes = {"children": _resolve_children(obj.children, m, inner_aligned)}
        if getattr(obj, "mask", None) is not None:
            # a Group's mask lives in the group's space; a Mask's inner mask in the parent's
            if isinstance(obj, Group):
                changes["mask"] = _resolve(obj.mask, m, inner_aligned)
            else:
                changes["mask"] = _resolve(obj.mask, to_canvas, aligned)
        return dataclasses.replace(obj, **changes)
    return obj   # clip paths ignore paints


def _has_pattern(tree) -> bool:
    return any(isinstance(x, Pattern) for x in
               jax.tree_util.tree_leaves(tree, is_leaf=lambda x: isinstance(x, Pattern)))


def resolve_resolutions(scene: Scene) -> Scene:
    """``scene`` with each Pattern whose resolution is None given resvg's device tile
    (:func:`device_tile`: one texel per canvas pixel through every enclosing transform, the
    tile size rounded to whole pixels, a translated tile snapped to the pixel grid). The
    scene must be concrete; a scene without patterns is returned as is. Patterns with a set
    resolution keep their size and transform (the tile is stretched over that raster)."""
    if not _has_pattern(scene):
        return scene
    return dataclasses.replace(scene, children=_resolve_children(scene.children, np.eye(3), True))
