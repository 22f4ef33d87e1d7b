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

with E, L and I padded to *capacity classes* (2^k or 3 * 2^k), and static metadata: canvas
size and the work budgets (``max_pieces``, ``max_depth``). The pipeline that renders it
(:mod:`.pipeline`) depends only on the canvas, the class and the budgets, so scenes of any
structure in one class share one compiled program.

Encoding is differentiable in the scene's leaves: the leaves are packed into one vector
(:mod:`.leaves`), the structure becomes integer plans padded to classes, and a few programs
per class evaluate them (:mod:`.flat_geometry`): one for segments, transforms, fills and
layer records, one per group of stroked subpaths that share closure, join, cap and a
segment class. Inside a caller's jit the same code is traced into the caller's program.

Scope: flat scenes, whose layers composite straight onto the canvas (groups may carry
transforms). Group opacity, clips, masks and shapes with both fill and stroke under an
opacity composite in sub-layers; :func:`flat_items` returns None for them and ``render``
draws them with the per-structure program.
"""
from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable, List, Optional

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import apply_transform, float_dtype, safe_inverse
from diffvg_jax.kernels import depth_needed as kernel_depth_needed
from diffvg_jax.kernels import pieces_needed as kernel_pieces_needed
from diffvg_jax.scene import ALIASED_RENDERINGS, Group, Scene, Solid

from .budgets import SMALL_SCENE_LAYERS, auto_budget, default_budget, round_depth
from .flat_geometry import (FlatPlan, assemble_edges, flat_geometry, padded_theta_size, plan_fills, plan_frames,
                            stroke_group_edges, stroke_groups)
from .layers import pixel_centres
from .leaves import LeafTable, concrete_value
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
                   data_fields=["edges", "edge_layer", "evenodd", "colour", "alpha", "image_index", "images",
                                "background"],
                   meta_fields=["width", "height", "max_pieces", "max_depth", "check_budget"])
@dataclasses.dataclass(frozen=True)
class Encoding:
    """A scene as flat padded arrays (module docstring: fields, dtypes, shapes, units).

    A pytree: the arrays are leaves, the canvas size (pixels) and the static budgets are
    metadata. Encodings of one capacity class can be stacked and rendered with ``jax.vmap``
    (see :func:`diffvg_jax.encode_batch`).
    """
    edges: jax.Array
    edge_layer: jax.Array
    evenodd: jax.Array
    colour: jax.Array
    alpha: jax.Array
    image_index: jax.Array
    images: jax.Array
    background: jax.Array
    width: int
    height: int
    max_pieces: int
    max_depth: int
    check_budget: bool

    @property
    def capacity(self):
        """The capacity class: (edges, layers, paint rasters)."""
        return self.edges.shape[-3], self.evenodd.shape[-1], self.images.shape[-4]


@dataclasses.dataclass
class FlatItem:
    """A shape of a flat scene: its group (index into the groups, -1: the scene), its layers
    ('fill' / 'stroke' -> layer index) and whether its opacity scales its one layer."""
    shape: object
    group: int
    layers: dict
    opacity_in_alpha: bool


def flat_items(scene: Scene):
    """(items in paint order, groups as [(parent group, transform)], number of layers), or
    None when the scene composites in sub-layers (group opacity, clip, mask or blend mode,
    or a shape with both fill and stroke under an opacity) or has an aliased shape
    (``shape_rendering`` crispEdges / optimizeSpeed)."""
    items: List[FlatItem] = []
    groups: List[tuple] = []
    counter = [0]

    def walk(children, group):
        for child in children:
            if isinstance(child, Group):
                if child.opacity is not None or child.clip is not None or child.mask is not None \
                        or child.blend_mode != "normal":
                    raise LookupError
                groups.append((group, child.transform))
                walk(child.children, len(groups) - 1)
                continue
            if child.shape_rendering in ALIASED_RENDERINGS:   # drawn by the per-structure program
                raise LookupError
            kinds = [k for k in ("fill", "stroke") if getattr(child, k) is not None]
            if child.paint_order == "stroke":
                kinds.reverse()
            if child.opacity is not None and len(kinds) > 1:
                raise LookupError
            layers = {}
            for kind in kinds:
                layers[kind] = counter[0]
                counter[0] += 1
            items.append(FlatItem(child, group, layers, child.opacity is not None))
    try:
        walk(scene.children, -1)
    except LookupError:
        return None
    return items, groups, counter[0]


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
            if kind + "_color" in index[k]:
                colour[layer] = index[k][kind + "_color"]
            alpha[layer, 0] = index[k][kind + "_opacity"]
            if item.opacity_in_alpha:
                alpha[layer, 1] = index[k]["opacity"]
            evenodd[layer] = kind == "fill" and item.shape.fill_rule == "evenodd"
    return colour, alpha, np.arange(L) < num_layers, evenodd


def _paint_rasters(items, to_canvas, L, height, width, paint_at, dtype):
    """image_index int32 NumPy (L,) (I: solid) and images float (I, H, W, 4) straight RGBA
    of the non-solid paints, evaluated at the pixel centres in each shape's user space."""
    others = [(layer, getattr(it.shape, kind), k) for k, it in enumerate(items) for kind, layer in it.layers.items()
              if not isinstance(getattr(it.shape, kind), Solid)]
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


def _budgets(edges, edge_layer, evenodd, num_layers, live_edges, height, width, max_pieces, max_depth):
    """(max_pieces, max_depth, exact): counted on the concrete values when there are any
    (plain calls, and eager autodiff such as ``jax.grad`` outside jit), else the traced
    heuristics (a piece per live edge slot plus a canvas allowance; every layer in every
    tile). Depths are rounded to multiples of 8, so scenes of a class share programs."""
    concrete = concrete_value(edges)
    L = evenodd.shape[0]
    exact = concrete is not None and max_pieces is None and max_depth is None
    if max_pieces is None:
        if concrete is not None:
            max_pieces = auto_budget(int(count_pieces_program(concrete, height=height, width=width)))
        else:
            max_pieces = default_budget(live_edges, height, width)
    if max_depth is None:
        max_depth = round_depth(num_layers, L)
        if concrete is not None and num_layers > SMALL_SCENE_LAYERS:
            need = int(count_depth_program(concrete, jnp.asarray(edge_layer), concrete_value(evenodd), num_layers=L,
                                  height=height, width=width, max_pieces=max_pieces))
            max_depth = round_depth(need, L)
    return int(max_pieces), int(min(max_depth, L)), exact


def encode_flat(scene: Scene, *, width: int, height: int, capacity: int, paint_at: Callable,
                max_pieces: Optional[int] = None, max_depth: Optional[int] = None,
                check_budget: bool = True) -> Optional[Encoding]:
    """The :class:`Encoding` of a flat scene, or None when the scene composites in
    sub-layers. ``paint_at(paint, xy)`` evaluates a non-solid paint at user-space points
    (the renderer passes one that draws pattern tiles); ``capacity`` is the static number
    of line pieces per Bezier segment.

    The scene's structure becomes host-side integer plans padded to capacity classes
    (:mod:`.flat_geometry`), so the programs that run depend on the classes only."""
    flat = flat_items(scene)
    if flat is None:
        return None
    items, groups, num_layers = flat
    dt = float_dtype()
    L = capacity_class(num_layers, MIN_LAYERS)
    table = LeafTable(dt)
    index = [register_shape(it.shape, table) for it in items]
    group_index = [table.add(t) for _, t in groups]
    background_index = table.add(scene.background)
    theta = table.pack(padded_theta_size(table.size, _class_of(MIN_LEAVES)))
    segments, layout = plan_segments([it.shape for it in items], index, _class_of())
    fill_layer = np.array([it.layers.get("fill", -1) for it in items], np.int32)
    fill_rows, first, last, fill_live, row_layer, sub_layer = plan_fills(layout, fill_layer,
                                                                         _class_of(MIN_SUBPATHS))
    colour_plan, alpha_plan, layer_live, evenodd = _layer_plan(items, num_layers, L, index)
    frames = plan_frames(groups, group_index, items, index, _class_of(MIN_GROUPS), _class_of(MIN_SHAPES))
    plan = FlatPlan(segments, *frames, layout.seg_item, fill_rows, first, last, fill_live, colour_plan, alpha_plan,
                    layer_live, np.asarray(background_index, np.int32))
    ctrl, widths, to_canvas, fill, colour, alpha, background = flat_geometry(theta, plan, capacity)
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
    max_pieces, max_depth, exact = _budgets(edges, edge_layer, jnp.asarray(evenodd), num_layers, live_edges, height,
                                            width, max_pieces, max_depth)
    return Encoding(edges, jnp.asarray(edge_layer), jnp.asarray(evenodd), colour, alpha, jnp.asarray(image_index),
                    images, background, int(width), int(height), max_pieces, max_depth,
                    bool(check_budget) and not exact)
