"""``render``: scene -> image, with exact box-filtered coverage and analytic gradients.

Every scene is encoded as data (:mod:`.encoding`: padded arrays, its compositing structure
as an op list) and drawn by a compile-once pipeline (:mod:`.pipeline`): one compiled
program per canvas size and capacity class, whatever the scene's structure.
  * flat scenes (layers composite straight onto the canvas; groups may transform) go
    through the tiled pipeline: each 16 x 16 tile composites only the layers present in
    it (at most ``max_depth``), so the work after the kernel costs depth x pixels;
  * scenes with sub-layers (group opacity, clips, masks, blend modes) or aliased shapes
    (``shape_rendering``) go through the layered pipeline (:mod:`.layered`): every layer
    over the whole canvas, then a stack machine runs the op list.
Paints other than solid colours are evaluated at the pixel centres (pattern tiles drawn by
:mod:`.patterns`, recursing through the same encoded route).

Work chunks and budgets (``max_pieces``, ``max_depth``) follow the policy of :mod:`.budgets`.

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

from diffvg_jax.runtime import ProgramCaches
from diffvg_jax.scene import Scene

from .budgets import DEFAULT_CURVE_PIECES, DEPTH_CHUNK, auto_budget, count_layers
from .encoding import Encoding, count_depth_program, count_pieces_program, encode_scene
from .encoding_plan import PLANS
from .flat_geometry import assemble_edges, flat_geometry, stroke_group_edges
from .leaves import concatenate_program, concrete_value
from .patterns import paint_with_tiles, resolve_resolutions
from .pipeline import render_encoding_jit, stack_encodings
from .validate import validate_scene

__all__ = ["DEFAULT_CURVE_PIECES", "DEPTH_CHUNK", "auto_budget", "count_layers", "depth_needed",
           "encode", "encode_batch", "pieces_needed", "render", "traced_depth_needed",
           "traced_pieces_needed", "program_cache_size", "clear_program_caches"]


# Bounded (see diffvg_jax.runtime.program_cache): many capacity classes in one process
# would otherwise exhaust its memory mappings.
_PROGRAMS = ProgramCaches(render_encoding_jit, flat_geometry, stroke_group_edges, assemble_edges,
                          count_pieces_program, count_depth_program, concatenate_program)


def _render_content(scene: Scene, width, height, premultiplied, max_pieces, capacity, check_budget, max_depth):
    """A pattern tile's content drawn through the encoded pipeline (the ``render_content``
    of :mod:`.patterns`: the per-structure renderer's signature; budgets are counted
    when the content is concrete, so the given ones are only the traced fallback)."""
    concrete = concrete_value(scene) is not None
    enc = encode_scene(scene, width=width, height=height, capacity=int(capacity), paint_at=_PAINT_AT,
                       max_pieces=None if concrete else max_pieces, max_depth=None if concrete else max_depth,
                       check_budget=check_budget)
    return render_encoding_jit(enc, bool(premultiplied), concrete)


# Non-solid paints of encoded scenes: pattern tiles recurse through the encoded pipeline.
_PAINT_AT = functools.partial(paint_with_tiles, render_content=_render_content)


def program_cache_size() -> int:
    """The number of compiled programs ``render``, ``encode``, ``pieces_needed`` and
    ``depth_needed`` hold (both routes, their geometry and budget counts)."""
    return _PROGRAMS.size()


def clear_program_caches():
    """Drop the compiled programs counted by :func:`program_cache_size`, and the kept
    encoding plans (:mod:`.encoding_plan`: device arrays of recent scene structures)."""
    _PROGRAMS.clear()
    PLANS.clear()


def _is_concrete(scene) -> bool:
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(scene))


def _check_options(curve_pieces, max_pieces, max_depth):
    if not isinstance(curve_pieces, (int, np.integer)) or curve_pieces < 1:
        raise ValueError(f"render: curve_pieces must be a positive int, got {curve_pieces!r}")
    for name, v in (("max_pieces", max_pieces), ("max_depth", max_depth)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1):
            raise ValueError(f"render: {name} must be a positive int, got {v!r}")


def _prepare(scene):
    """What a scene of a structure not seen recently goes through before it is planned:
    the checks (named errors), and pattern tile rasters sized from the canvas scale
    (static sizes, so only when the values are concrete)."""
    validate_scene(scene)
    return resolve_resolutions(scene) if _is_concrete(scene) else scene


def _encode_scene(caller, scene, width, height, curve_pieces, max_pieces, max_depth, check_budget) -> Encoding:
    """The checks ``encode`` and ``render`` share, then ``encode_scene`` (which runs
    ``_prepare`` on structures it has no plan for)."""
    if not isinstance(scene, Scene):
        raise ValueError(f"{caller}: scene must be a diffvg_jax.Scene, got {type(scene).__name__}")
    width, height = _canvas_size(scene, width, height)
    _check_options(curve_pieces, max_pieces, max_depth)
    _PROGRAMS.bound()
    return encode_scene(scene, width=width, height=height, capacity=int(curve_pieces), paint_at=_PAINT_AT,
                        max_pieces=max_pieces, max_depth=max_depth, check_budget=check_budget, prepare=_prepare)


def encode(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
           curve_pieces: int = DEFAULT_CURVE_PIECES, max_pieces: Optional[int] = None,
           max_depth: Optional[int] = None, check_budget: bool = True) -> Encoding:
    """The scene as flat padded arrays (:class:`~diffvg_jax.raster.encoding.Encoding`).

    ``render(encode(scene, ...))`` draws the same image as ``render(scene, ...)``, through
    one compiled program per canvas size and capacity class whatever the scene's structure
    (the class is the padded number of edges, layers and paint rasters: 2^k or 3 * 2^k).
    Differentiable in the scene's leaves; budgets as in :func:`render` (counted exactly
    when the scene's values are concrete, also under eager ``jax.grad``). Scenes with
    sub-layers (group opacity, clips, masks, blend modes, aliased shapes) carry their
    compositing structure as data too (:class:`~diffvg_jax.raster.encoding.Compositing`)
    and add the op count, run count and stack depth to their class.
    """
    return _encode_scene("encode", scene, width, height, curve_pieces, max_pieces, max_depth, check_budget)


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


def _no_paint(paint, xy):
    """Paint rasters are not needed to count the work: opaque white, float (..., 4)."""
    return jnp.ones(xy.shape[:-1] + (4,), xy.dtype)


def _geometry(scene, width, height, curve_pieces) -> Encoding:
    """The scene's Encoding with budgets given, not counted, and no paint rasters: the
    edges the counts below read (traceable)."""
    return encode_scene(scene, width=width, height=height, capacity=int(curve_pieces), paint_at=_no_paint,
                        max_pieces=1, max_depth=1, check_budget=False)


def traced_pieces_needed(scene: Scene, width: int, height: int, curve_pieces: int = DEFAULT_CURVE_PIECES):
    """int32 (): the unit boundary pieces ``render`` needs for the scene (traceable: use it
    inside your own jit; static width, height in pixels and curve_pieces)."""
    return count_pieces_program(_geometry(scene, width, height, curve_pieces).edges, height=height, width=width)


def traced_depth_needed(scene: Scene, width: int, height: int, curve_pieces: int, max_pieces: int):
    """int32 (): the most layers any 16 x 16 tile holds when the edges are cut into at most
    ``max_pieces`` pieces (traceable; static ints)."""
    enc = _geometry(scene, width, height, curve_pieces)
    return count_depth_program(enc.edges, enc.edge_layer, enc.evenodd, num_layers=enc.evenodd.shape[0],
                               height=height, width=width, max_pieces=int(max_pieces))


def _checked_canvas(caller, scene, width, height, curve_pieces):
    if not isinstance(scene, Scene):
        raise ValueError(f"{caller}: scene must be a diffvg_jax.Scene, got {type(scene).__name__}")
    validate_scene(scene)
    _check_options(curve_pieces, None, None)
    return _canvas_size(scene, width, height)


def pieces_needed(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
                  curve_pieces: int = DEFAULT_CURVE_PIECES) -> int:
    """The number of unit boundary pieces ``render`` needs for this (concrete) scene.

    Passed (or more) as ``max_pieces`` inside your own ``jax.jit``, the pieces are made in
    one chunk, the fastest render; any value draws the same image.
    """
    width, height = _checked_canvas("pieces_needed", scene, width, height, curve_pieces)
    return int(traced_pieces_needed(scene, width, height, curve_pieces))


def depth_needed(scene: Scene, *, width: Optional[int] = None, height: Optional[int] = None,
                 curve_pieces: int = DEFAULT_CURVE_PIECES, max_pieces: Optional[int] = None) -> int:
    """The most layers (fills and strokes) that any 16 x 16 tile of this (concrete) scene
    holds: the tiled pipeline composites ``ceil(depth / max_depth)`` chunks of slots.

    ``max_pieces`` is the piece budget to count with (default: the exact need).
    """
    width, height = _checked_canvas("depth_needed", scene, width, height, curve_pieces)
    if max_pieces is None:
        max_pieces = auto_budget(int(traced_pieces_needed(scene, width, height, curve_pieces)))
    return int(traced_depth_needed(scene, width, height, curve_pieces, max_pieces))


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
      max_pieces: static int, unit-length boundary pieces (the kernels' work). Flat
        scenes (the tiled pipeline) keep this many from a first pass and work on them in
        chunks (``budgets.piece_chunk_of_store``), only on the chunks that hold pieces;
        pieces past the store are re-made, so any value draws the exact image. None: the
        need, counted when the scene is concrete (rounded up to a power of two), else a
        generous store from the capacity class (``budgets.default_piece_store``). Scenes
        with sub-layers (group opacity, clips, masks, blend modes) treat it as a budget
        (default ``budgets.default_budget`` when traced): pieces past it are dropped, with
        a run-time warning when it was not counted exactly.
      max_depth: static int, slots per 16 x 16 tile composited at a time by the tiled
        pipeline (after-kernel work follows depth x pixels, in chunks of this many). None:
        ``DEPTH_CHUNK``. Any value is exact.
      curve_pieces: static capacity of line pieces per Bezier segment; each segment uses as
        many as its flatness needs (0.02 px tolerance), at most this many.
      check_budget: for scenes with sub-layers whose ``max_pieces`` was not counted
        exactly, warn at run time if it is exceeded. The warning is a host callback, which
        costs about 10 ms per call on CPU (XLA runs the program differently); loops that
        check the need themselves turn it off. Flat scenes never need it.

    Returns:
      float32 (height, width, 4) RGBA, straight alpha unless ``premultiplied``. Pixel
      (i, j) is the box-filtered average over [j, j+1] x [i, i+1] in canvas units.
    """
    if isinstance(scene, Encoding):
        for name, v, have in (("width", width, scene.width), ("height", height, scene.height)):
            if v is not None and v != have:
                raise ValueError(f"render: {name}={v!r} but the encoding was made for {name}={have}")
        _PROGRAMS.bound()
        return render_encoding_jit(scene, bool(premultiplied), concrete_value(scene.edges) is not None)
    enc = _encode_scene("render", scene, width, height, curve_pieces, max_pieces, max_depth, check_budget)
    # Concrete values (eager calls, eager autodiff) take the program variant that keeps
    # few residuals (see render_encoding_jit).
    return render_encoding_jit(enc, bool(premultiplied), concrete_value(enc.edges) is not None)
