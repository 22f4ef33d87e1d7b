"""``render``: scene -> image, with exact box-filtered coverage and analytic gradients.

Two routes:
  * flat scenes (layers composite straight onto the canvas; groups may transform) are
    encoded as data (:mod:`.encoding`) and drawn by the compile-once pipeline
    (:mod:`.pipeline`): one compiled program per canvas size and capacity class;
  * scenes with sub-layers (group opacity, clips, masks, blend modes) or aliased shapes
    (``shape_rendering``) are drawn by a program compiled for their structure, as follows.

Per-structure pipeline (all inside one jit):
  1. walk the scene tree into coverage layers and a compositing tree, and each layer's
     geometry into closed polygon edges in pixels (:mod:`.layers`); paints other than solid
     colours are evaluated at the pixel centres (pattern tiles drawn by :mod:`.patterns`,
     recursing through :func:`render_traced`);
  2. one call of a coverage kernel for all layers (custom VJP), then the fill rule:
     - a flat scene (no opacity, clip or mask groups) goes through ``kernels.tiles``: each
       16 x 16 tile keeps only the layers present in it (at most ``max_depth``), so the
       rest of the pipeline costs depth x pixels;
     - otherwise ``kernels.winding_integral`` gives every layer over the whole canvas;
  3. premultiplied "over" compositing, back to front, in closed form (:mod:`.composite`).

Work budgets (``max_pieces``, ``max_depth``) follow the policy of :mod:`.budgets`.

Colour convention: images are float32 (H, W, 4) RGBA. ``render`` returns straight
(un-premultiplied) alpha by default, like diffvg, so ``rgb * a + bg * (1 - a)`` composites
it; ``premultiplied=True`` returns premultiplied RGBA (gradients stay finite where a = 0).
"""
from __future__ import annotations

import functools
from typing import Optional

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import float_dtype
from diffvg_jax.kernels import fill_rule_coverage, tiled_winding, winding_integral
from diffvg_jax.kernels import pieces_needed as kernel_pieces_needed
from diffvg_jax.paint import unpremultiply
from diffvg_jax.runtime import ProgramCaches
from diffvg_jax.scene import Scene

from .budgets import (DEFAULT_CURVE_PIECES, SMALL_SCENE_LAYERS, auto_budget, count_layers, default_budget,
                      round_depth, traced_depth_needed, traced_pieces_needed, warn_budget)
from .composite import aliased_coverage, composite, composite_tiled
from .encoding import Encoding, count_depth_program, count_pieces_program, encode_flat
from .flat_geometry import assemble_edges, flat_geometry, stroke_group_edges
from .layers import collect_edge_count, collect_layers, is_flat
from .leaves import concatenate_program, concrete_value
from .patterns import paint_with_tiles, resolve_resolutions
from .pipeline import render_encoding_jit, stack_encodings
from .validate import validate_scene

__all__ = ["DEFAULT_CURVE_PIECES", "SMALL_SCENE_LAYERS", "auto_budget", "count_layers", "depth_needed",
           "encode", "encode_batch", "pieces_needed", "render", "render_traced", "round_depth", "traced_depth_needed", "traced_pieces_needed",
           "program_cache_size", "clear_program_caches"]


def _dense_coverage(layers, height, width, max_pieces):
    """float (L, H, W) coverage in [0, 1] of every layer over the whole canvas."""
    A = winding_integral(layers.edges, layers.edge_layer, num_layers=layers.evenodd.shape[0], height=height,
                         width=width, max_pieces=max_pieces)
    if layers.evenodd.all():
        cov = fill_rule_coverage(A, "evenodd")
    elif not layers.evenodd.any():
        cov = fill_rule_coverage(A, "nonzero")
    else:
        cov = jnp.where(layers.evenodd[:, None, None], fill_rule_coverage(A, "evenodd"),
                        fill_rule_coverage(A, "nonzero"))
    return aliased_coverage(cov, layers.aliased)


def render_traced(scene: Scene, width, height, premultiplied, max_pieces, capacity, check_budget, max_depth):
    """float (height, width, 4) RGBA of a scene, traceable; every argument after ``scene``
    is static (``render`` checks them, then calls this under its jit)."""
    paint_at = functools.partial(paint_with_tiles, render_content=render_traced)
    root, layers = collect_layers(scene, capacity, height, width, paint_at)
    num_layers = layers.evenodd.shape[0]
    if num_layers and is_flat(root, layers):
        depth = min(max_depth, num_layers)
        winding, slot_layer, depth_need, pieces_need = tiled_winding(
            layers.edges, layers.edge_layer, layers.evenodd, num_layers=num_layers, height=height, width=width,
            max_pieces=max_pieces, max_depth=depth)
        out = composite_tiled(layers, winding, slot_layer, height, width)
        if check_budget:
            jax.debug.callback(warn_budget, pieces_need, max_pieces, jnp.max(depth_need), depth)
    elif num_layers:
        coverage = _dense_coverage(layers, height, width, max_pieces)
        if check_budget:
            need = kernel_pieces_needed(jax.lax.stop_gradient(layers.edges), height=height, width=width)
            jax.debug.callback(warn_budget, need, max_pieces, 0, 1)
        out = composite(root, layers, coverage, height, width)
    else:
        out = jnp.zeros((height, width, 4), float_dtype())
    bg = jnp.asarray(scene.background, float_dtype())
    bg_pre = jnp.concatenate([bg[:3] * bg[3], bg[3:]])
    out = out + bg_pre * (1.0 - out[..., 3:4])
    return out if premultiplied else unpremultiply(out)


_render_jit = jax.jit(render_traced, static_argnums=(1, 2, 3, 4, 5, 6, 7))
_need_jit = jax.jit(traced_pieces_needed, static_argnums=(1, 2, 3))
_depth_jit = jax.jit(traced_depth_needed, static_argnums=(1, 2, 3, 4))
# Bounded (see diffvg_jax.runtime.program_cache): many scene structures in one process
# would otherwise exhaust its memory mappings.
_PROGRAMS = ProgramCaches(_render_jit, _need_jit, _depth_jit, render_encoding_jit, flat_geometry, stroke_group_edges, assemble_edges,
                          count_pieces_program, count_depth_program, concatenate_program)
# Non-solid paints of encoded scenes: pattern tiles are drawn by the per-structure renderer.
_PAINT_AT = functools.partial(paint_with_tiles, render_content=render_traced)


def program_cache_size() -> int:
    """The number of compiled programs ``render``, ``encode``, ``pieces_needed`` and
    ``depth_needed`` hold (both routes, their geometry and budget counts)."""
    return _PROGRAMS.size()


def clear_program_caches():
    """Drop the compiled programs counted by :func:`program_cache_size`."""
    _PROGRAMS.clear()


def _is_concrete(scene) -> bool:
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(scene))


def _check_options(curve_pieces, max_pieces, max_depth):
    if not isinstance(curve_pieces, (int, np.integer)) or curve_pieces < 1:
        raise ValueError(f"render: curve_pieces must be a positive int, got {curve_pieces!r}")
    for name, v in (("max_pieces", max_pieces), ("max_depth", max_depth)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise ValueError(f"render: {name} must be a positive int, got {v!r}")


def _encode_scene(caller, scene, width, height, curve_pieces, max_pieces, max_depth, check_budget):
    """The checks ``encode`` and ``render`` share, then ``encode_flat``: (scene with pattern
    resolutions resolved, width, height, Encoding or None for sub-layer scenes)."""
    if not isinstance(scene, Scene):
        raise ValueError(f"{caller}: scene must be a diffvg_jax.Scene, got {type(scene).__name__}")
    validate_scene(scene)
    width, height = _canvas_size(scene, width, height)
    _check_options(curve_pieces, max_pieces, max_depth)
    _PROGRAMS.bound()
    if _is_concrete(scene):  # pattern tile rasters sized from the canvas scale (static sizes)
        scene = resolve_resolutions(scene)
    enc = encode_flat(scene, width=width, height=height, capacity=int(curve_pieces), paint_at=_PAINT_AT,
                      max_pieces=max_pieces, max_depth=max_depth, check_budget=check_budget)
    return scene, width, height, enc


def encode(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
           curve_pieces: int = DEFAULT_CURVE_PIECES, max_pieces: Optional[int] = None,
           max_depth: Optional[int] = None, check_budget: bool = True) -> Encoding:
    """The scene as flat padded arrays (:class:`~diffvg_jax.raster.encoding.Encoding`).

    ``render(encode(scene, ...))`` draws the same image as ``render(scene, ...)``, through
    one compiled program per canvas size and capacity class whatever the scene's structure
    (the class is the padded number of edges, layers and paint rasters: 2^k or 3 * 2^k).
    Differentiable in the scene's leaves; budgets as in :func:`render` (counted exactly
    when the scene's values are concrete, also under eager ``jax.grad``).

    Raises ValueError for scenes that composite in sub-layers (group opacity, clips,
    masks, a shape with fill and stroke under an opacity): ``render(scene)`` draws those
    with a program compiled for their structure.
    """
    enc = _encode_scene("encode", scene, width, height, curve_pieces, max_pieces, max_depth, check_budget)[3]
    if enc is None:
        raise ValueError("encode: this scene composites in sub-layers (group opacity, a clip or a mask, a blend "
                         "mode, an aliased shape, or a shape with both fill and stroke under an opacity), which "
                         "the encoded pipeline does not draw yet; dv.render(scene) draws it with a program compiled for its structure")
    return enc


def encode_batch(scenes, *, width: Optional[int] = None, height: Optional[int] = None,
                 curve_pieces: int = DEFAULT_CURVE_PIECES) -> Encoding:
    """Scenes of any (different) structure as one batched Encoding (leading axis B), padded
    to one capacity class: ``jax.vmap(dv.render)(dv.encode_batch(scenes, width=..., height=...))``
    draws them all with one program. Differentiable in every scene's leaves."""
    return stack_encodings([encode(s, width=width, height=height, curve_pieces=curve_pieces) for s in scenes])


def _canvas_size(scene, width, height):
    width = scene.width if width is None else width
    height = scene.height if height is None else height
    for name, v in (("width", width), ("height", height)):
        if v is None:
            raise ValueError(f"render: {name} is required (the scene has no canvas {name})")
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"render: {name} must be a positive int, got {v!r}")
    return int(width), int(height)


def pieces_needed(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
                  curve_pieces: int = DEFAULT_CURVE_PIECES) -> int:
    """The number of unit boundary pieces ``render`` needs for this (concrete) scene.

    Pass it (or more) as ``max_pieces`` when rendering inside your own ``jax.jit``.
    """
    validate_scene(scene)
    width, height = _canvas_size(scene, width, height)
    return int(_need_jit(scene, width, height, int(curve_pieces)))


def depth_needed(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
                 curve_pieces: int = DEFAULT_CURVE_PIECES, max_pieces: Optional[int] = None) -> int:
    """The most layers (fills and strokes) that any 16 x 16 tile of this (concrete) scene
    holds: pass it (or more) as ``max_depth`` when rendering inside your own ``jax.jit``.

    ``max_pieces`` is the piece budget to count with (default: the exact need).
    """
    validate_scene(scene)
    width, height = _canvas_size(scene, width, height)
    if max_pieces is None:
        max_pieces = auto_budget(int(_need_jit(scene, width, height, int(curve_pieces))))
    return int(_depth_jit(scene, width, height, int(curve_pieces), int(max_pieces)))


def render(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
           premultiplied: bool = False, max_pieces: Optional[int] = None, max_depth: Optional[int] = None,
           curve_pieces: int = DEFAULT_CURVE_PIECES, check_budget: bool = True) -> jax.Array:
    """Rasterise a scene with exact box-filtered anti-aliasing.

    Args:
      scene: a :class:`~diffvg_jax.Scene` (differentiable w.r.t. every float leaf), or an
        encoding from :func:`encode` / :func:`encode_batch` (the options below are then
        the encoding's own). Batch with
        ``jax.vmap(lambda s: render(s, width=..., height=...))(stacked)``, or scenes of
        different structure with ``jax.vmap(render)(encode_batch(scenes, ...))``.
      width, height: canvas size in pixels (static ints); default: the scene's own.
      premultiplied: return premultiplied RGBA instead of straight alpha.
      max_pieces: static budget of unit-length boundary pieces (the kernel's work). None:
        computed exactly when the scene is concrete (rounded up to a power of two), or a
        heuristic when traced; a warning is printed at run time if the budget is exceeded.
      max_depth: static budget of layers per 16 x 16 tile (after-kernel work follows
        depth x pixels). None: counted when the scene is concrete and has many layers,
        else every layer (always enough). A warning is printed at run time if it is
        exceeded. Inside your own jit, pass ``depth_needed(scene, ...)`` with some room.
      curve_pieces: static capacity of line pieces per Bezier segment; each segment uses as
        many as its flatness needs (0.02 px tolerance), at most this many.
      check_budget: when a budget was not counted exactly, warn at run time if it is
        exceeded. The warning is a host callback, which costs about 10 ms per call on CPU
        (XLA runs the program differently); loops that check the need themselves, as
        ``fit`` does, turn it off.

    Returns:
      float32 (height, width, 4) RGBA, straight alpha unless ``premultiplied``. Pixel
      (i, j) is the box-filtered average over [j, j+1] x [i, i+1] in canvas units.
    """
    if isinstance(scene, Encoding):
        for name, v, have in (("width", width, scene.width), ("height", height, scene.height)):
            if v is not None and v != have:
                raise ValueError(f"render: {name}={v!r} but the encoding was made for {name}={have}")
        _PROGRAMS.bound()
        return render_encoding_jit(scene, bool(premultiplied))
    scene, width, height, enc = _encode_scene("render", scene, width, height, curve_pieces, max_pieces, max_depth,
                                              check_budget)
    if enc is not None:
        return render_encoding_jit(enc, bool(premultiplied))
    # Sub-layer compositing: a program compiled for this structure. Budgets are counted on
    # the concrete values where there are any (also under eager autodiff).
    values = concrete_value(scene)
    exact = values is not None and max_pieces is None
    if max_pieces is None:
        if values is not None:
            max_pieces = auto_budget(int(_need_jit(values, width, height, int(curve_pieces))))
        else:
            max_pieces = default_budget(collect_edge_count(scene, int(curve_pieces)), height, width)
    if max_depth is None:
        num_layers = count_layers(scene)
        max_depth = max(num_layers, 1)
        if values is not None and num_layers > SMALL_SCENE_LAYERS:
            need = int(_depth_jit(values, width, height, int(curve_pieces), int(max_pieces)))
            max_depth = round_depth(need, num_layers)
    else:
        exact = False
    return _render_jit(scene, width, height, bool(premultiplied), int(max_pieces), int(curve_pieces),
                       bool(check_budget) and not exact, int(max_depth))
