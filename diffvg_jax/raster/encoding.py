"""Scene -> Encoding: the scene as a few flat, padded arrays (the compile-once pipeline's input).

The per-structure renderer compiles one program per scene structure (shape kinds, segment
counts, groups, paints), so every new drawing paid seconds to minutes of compilation. An
:class:`Encoding` is the same scene as data:

  edges        float (E, 2, 2)  every layer's closed boundary, line edges in pixels
  edge_layer   int32 (E,)       the layer of each edge (padding: zero-length edges)
  evenodd      bool (L,)        fill rule of each layer
  colour       float (L, 4)     straight RGBA of solid paints (1s for other paints)
  alpha        float (L,)       opacity multipliers (fill / stroke opacity x shape opacity)
  image_index  int32 (L,)       row of ``images`` with the layer's paint raster (I: solid)
  images       float (I, H, W, 4) straight RGBA rasters of gradient, pattern, image paints
  background   float (4,)       straight RGBA of the canvas
  compositing  None for a flat scene; else the sub-layer structure as data
               (:class:`Compositing`: op list, runs, aliased layers; :mod:`.compositing`)

with E, L and I padded to *capacity classes* (2^k or 3 * 2^k), and static metadata: canvas
size and the work chunks (``max_pieces``, ``max_depth``: chunk sizes of the tiled
pipeline's loops, a piece budget of the layered one). The pipeline that renders it
(:mod:`.pipeline`) depends only on the canvas, the class and the budgets, so scenes of any
structure in one class share one compiled program: flat scenes (every layer straight onto
the canvas; groups may transform) go through the tiled pipeline, scenes with sub-layers
(group opacity, clips, masks, blend modes, aliased shapes) through the layered one.

Encoding is differentiable in the scene's leaves: the leaves are packed into one vector
(:mod:`.leaves`), the structure becomes integer plans padded to classes, and a few programs
per class evaluate them (:mod:`.flat_geometry`): one for segments, transforms, fills and
layer records, one per group of stroked subpaths that share closure, join, cap and a
segment class. Inside a caller's jit the same code is traced into the caller's program.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import apply_transform, float_dtype, safe_inverse
from diffvg_jax.kernels import depth_needed as kernel_depth_needed
from diffvg_jax.kernels import pieces_needed as kernel_pieces_needed
from diffvg_jax.scene import Scene, Solid

from .budgets import DEPTH_CHUNK, auto_budget, default_budget, default_piece_store
from .flat_geometry import (FlatPlan, assemble_edges, flat_geometry, padded_theta_size, plan_fills, plan_frames,
                            stroke_group_edges, stroke_groups)
from .layers import pixel_centres
from .leaves import LeafTable, concrete_value
from .compositing import OpPlan, plan_ops, walk_scene_items
from .segments import plan_segments, register_shape

# Smallest capacity of each class: tiny scenes share programs with small ones.
MIN_SUBPATHS, MIN_EDGES, MIN_LAYERS = 16, 1024, 8
MIN_LEAVES, MIN_SHAPES, MIN_GROUPS = 256, 16, 4


def capacity_class(n: int, minimum: int) -> int:
    """The capacity class of a count: the smallest 2^k or 3 * 2^k >= n (two classes per
    octave: padding wastes at most a third), at least ``minimum``."""
    n = max(int(n), int(minimum), 1)
    k = max(0, int(math.ceil(math.log2(n))) - 1)
    for c in sorted({1 << k, (3 << k) >> 1, 1 << (k + 1)}):
        if c >= n:
            return c
    return 1 << (k + 1)


@functools.partial(jax.tree_util.register_dataclass,
                   data_fields=["aliased", "layer_run", "run_end", "ops", "op_opacity"],
                   meta_fields=["num_runs", "stack_depth", "blend_modes"])
@dataclasses.dataclass(frozen=True)
class Compositing:
    """The sub-layer structure of an encoding (:mod:`.compositing`: the op list and runs).

      aliased     bool (L,)      layers drawn aliased (``shape_rendering``)
      layer_run   int32 (L,)     the run of each layer (``num_runs``: a padding layer)
      run_end     bool (L,)      the layer is the topmost of its run
      ops         int32 (K, 3)   [code, arg, blend] of the stack machine
      op_opacity  float (K,)     the opacity each POP scales its image by (1 for others)

    and static ``num_runs`` (R), ``stack_depth`` (images on the stack, the canvas's
    included) and ``blend_modes`` ('normal' and the modes the POPs use, which ``ops``
    index; only these are compiled).
    """
    aliased: jax.Array
    layer_run: jax.Array
    run_end: jax.Array
    ops: jax.Array
    op_opacity: jax.Array
    num_runs: int
    stack_depth: int
    blend_modes: tuple

    @property
    def has_blend(self) -> bool:
        """Whether a mode other than 'normal' is used."""
        return len(self.blend_modes) > 1


@functools.partial(jax.tree_util.register_dataclass,
                   data_fields=["edges", "edge_layer", "evenodd", "colour", "alpha", "image_index", "images",
                                "background", "compositing"],
                   meta_fields=["width", "height", "max_pieces", "max_depth", "check_budget"])
@dataclasses.dataclass(frozen=True)
class Encoding:
    """A scene as flat padded arrays (module docstring: fields, dtypes, shapes, units).

    A pytree: the arrays are leaves, the canvas size (pixels) and the static budgets are
    metadata. ``compositing`` is None for a flat scene (drawn by the tiled pipeline),
    else its sub-layer structure (drawn by the layered pipeline). Encodings can be
    stacked and rendered with ``jax.vmap`` (see :func:`diffvg_jax.encode_batch`).
    """
    edges: jax.Array
    edge_layer: jax.Array
    evenodd: jax.Array
    colour: jax.Array
    alpha: jax.Array
    image_index: jax.Array
    images: jax.Array
    background: jax.Array
    compositing: Optional[Compositing]
    width: int
    height: int
    max_pieces: int
    max_depth: int
    check_budget: bool

    @property
    def capacity(self):
        """The capacity class: (edges, layers, paint rasters), and for a layered encoding
        also (ops, runs, stack depth)."""
        base = (self.edges.shape[-3], self.evenodd.shape[-1], self.images.shape[-4])
        c = self.compositing
        if c is None:
            return base
        return base + (c.ops.shape[-2], c.num_runs, c.stack_depth)


def pad_rows(x, n):
    """x padded with zero rows to n rows (axis 0)."""
    if n <= x.shape[0]:
        return x
    return jnp.concatenate([x, jnp.zeros((n - x.shape[0],) + x.shape[1:], x.dtype)], axis=0)


def _class_of(minimum: int = 1):
    return functools.partial(capacity_class, minimum=minimum)


def _layer_plan(items, num_layers, L, index):
    """(colour int32 (L, 4), alpha int32 (L, 2), live bool (L,), evenodd bool (L,)): theta
    indices of each layer's colour, paint opacity and shape opacity (-1 reads 1)."""
    colour = np.full((L, 4), -1, np.int32)
    alpha = np.full((L, 2), -1, np.int32)
    evenodd = np.zeros(L, bool)
    for k, item in enumerate(items):
        for kind, layer in item.layers.items():
            evenodd[layer] = kind == "fill" and item.shape.fill_rule == "evenodd"
            if item.clip:       # coverage only: opaque white
                continue
            if kind + "_color" in index[k]:
                colour[layer] = index[k][kind + "_color"]
            alpha[layer, 0] = index[k][kind + "_opacity"]
            if item.opacity_in_alpha:
                alpha[layer, 1] = index[k]["opacity"]
    return colour, alpha, np.arange(L) < num_layers, evenodd


def _paint_rasters(items, to_canvas, L, height, width, paint_at, dtype):
    """image_index int32 NumPy (L,) (I: solid) and images float (I, H, W, 4) straight RGBA
    of the non-solid paints, evaluated at the pixel centres in each shape's user space."""
    others = [(layer, getattr(it.shape, kind), k) for k, it in enumerate(items) for kind, layer in it.layers.items()
              if not it.clip and not isinstance(getattr(it.shape, kind), Solid)]
    if not others:
        return np.zeros(L, np.int32), jnp.zeros((0, height, width, 4), dtype)
    I = capacity_class(len(others), 1)
    image_index = np.full(L, I, np.int32)
    centres = pixel_centres(height, width)
    rasters = []
    for n, (layer, paint, k) in enumerate(others):
        image_index[layer] = n
        rasters.append(paint_at(paint, apply_transform(safe_inverse(to_canvas[k]), centres)))
    return image_index, pad_rows(jnp.stack(rasters).astype(dtype), I)


# The budget counts of encoded scenes (programs per capacity class, like the pipeline's).
count_pieces_program = jax.jit(kernel_pieces_needed, static_argnames=("height", "width"))
count_depth_program = jax.jit(kernel_depth_needed, static_argnames=("num_layers", "height", "width", "max_pieces"))


def _budgets(edges, num_layers, live_edges, height, width, max_pieces, max_depth, tiled):
    """(max_pieces, max_depth, exact).

    Tiled pipeline: ``max_pieces`` is the piece store and ``max_depth`` the depth chunk
    (see ``kernels.tile_loop``); the loops' trip counts are computed in the program, so
    any value draws the exact image. ``max_pieces`` defaults to the need counted on the
    concrete values when there are any (plain calls, and eager autodiff such as
    ``jax.grad`` outside jit), else a generous store (``default_piece_store``);
    ``max_depth`` to ``DEPTH_CHUNK`` slots per tile. Layered pipeline: ``max_pieces`` is
    a budget (pieces past it are dropped, with a warning when not counted exactly); it
    has no depth (every layer is drawn over the whole canvas)."""
    concrete = concrete_value(edges)
    exact = tiled or (concrete is not None and max_pieces is None)
    if max_pieces is None:
        if concrete is not None:
            max_pieces = auto_budget(int(count_pieces_program(concrete, height=height, width=width)))
        elif tiled:
            max_pieces = default_piece_store(live_edges, height, width)
        else:
            max_pieces = default_budget(live_edges, height, width)
    if not tiled:
        return int(max_pieces), num_layers, exact
    return int(max_pieces), int(min(DEPTH_CHUNK if max_depth is None else max_depth, num_layers)), exact


def _op_opacity_plan(ops: Optional[OpPlan], table: LeafTable):
    """int32 (K,) theta indices of each op's opacity (-1: 1); (1,) for a flat scene."""
    if ops is None:
        return np.full(1, -1, np.int32)
    return np.array([-1 if o is None else int(table.add(o)) for o in ops.opacity], np.int32)


def _compositing(ops: Optional[OpPlan], op_opacity, aliased) -> Optional[Compositing]:
    """The Compositing of a layered scene (None for a flat one)."""
    if ops is None:
        return None
    return Compositing(jnp.asarray(aliased), jnp.asarray(ops.layer_run), jnp.asarray(ops.run_end),
                       jnp.asarray(ops.ops), op_opacity, ops.num_runs, ops.stack_depth, ops.blend_modes)


def encode_scene(scene: Scene, *, width: int, height: int, capacity: int, paint_at: Callable,
                 max_pieces: Optional[int] = None, max_depth: Optional[int] = None,
                 check_budget: bool = True) -> Encoding:
    """The :class:`Encoding` of a scene. ``paint_at(paint, xy)`` evaluates a non-solid
    paint at user-space points (the renderer passes one that draws pattern tiles);
    ``capacity`` is the static number of line pieces per Bezier segment.

    The scene's structure becomes host-side integer plans padded to capacity classes
    (:mod:`.flat_geometry`, :mod:`.compositing`), so the programs that run depend on the
    classes only."""
    walk = walk_scene_items(scene)
    items, num_layers = walk.items, walk.num_layers
    dt = float_dtype()
    L = capacity_class(num_layers, MIN_LAYERS)
    table = LeafTable(dt)
    index = [register_shape(it.shape, table) for it in items]
    group_index = [table.add(t) for _, t in walk.frames]
    background_index = table.add(scene.background)
    ops = None if walk.flat else plan_ops(walk, L)
    op_opacity = _op_opacity_plan(ops, table)
    theta = table.pack(padded_theta_size(table.size, _class_of(MIN_LEAVES)))
    segments, layout = plan_segments([it.shape for it in items], index, _class_of())
    fill_layer = np.array([it.layers.get("fill", -1) for it in items], np.int32)
    fill_rows, first, last, fill_live, row_layer, sub_layer = plan_fills(layout, fill_layer,
                                                                         _class_of(MIN_SUBPATHS))
    colour_plan, alpha_plan, layer_live, evenodd = _layer_plan(items, num_layers, L, index)
    frames = plan_frames(walk.frames, group_index, items, index, _class_of(MIN_GROUPS), _class_of(MIN_SHAPES))
    plan = FlatPlan(segments, *frames, layout.seg_item, fill_rows, first, last, fill_live, colour_plan, alpha_plan,
                    layer_live, np.asarray(background_index, np.int32), op_opacity)
    ctrl, widths, to_canvas, fill, colour, alpha, background, opacity = flat_geometry(
        theta, plan, capacity, rematerialise=concrete_value(theta) is not None)
    edge_parts, layer_parts = [], []
    if fill_rows.any():
        edge_parts.append(fill)
        layer_parts += [np.repeat(row_layer, 2 * capacity), sub_layer]
    for key, rows, pad, live, owner, miter, layer in stroke_groups(layout, items):
        closed, join, cap, _ = key
        edges = stroke_group_edges(ctrl, widths, to_canvas, rows, pad, live, owner, miter, closed, join, cap,
                                   2 * capacity)
        edge_parts.append(edges)
        layer_parts.append(np.repeat(layer, edges.shape[0] // layer.shape[0]))
    edge_layer = np.concatenate(layer_parts).astype(np.int32) if layer_parts else np.zeros(0, np.int32)
    live_edges = len(edge_layer)
    E = capacity_class(live_edges, MIN_EDGES)
    edges = assemble_edges(edge_parts or [jnp.zeros((0, 2, 2), dt)], E)
    edge_layer = np.concatenate([edge_layer, np.zeros(E - live_edges, np.int32)])
    image_index, images = _paint_rasters(items, to_canvas, L, height, width, paint_at, dt)
    max_pieces, max_depth, exact = _budgets(edges, L, live_edges, height, width, max_pieces, max_depth, walk.flat)
    aliased = np.zeros(L, bool)
    aliased[:num_layers] = walk.aliased
    return Encoding(edges, jnp.asarray(edge_layer), jnp.asarray(evenodd), colour, alpha, jnp.asarray(image_index),
                    images, background, _compositing(ops, opacity, aliased), int(width), int(height), max_pieces,
                    max_depth, bool(check_budget) and not exact)
