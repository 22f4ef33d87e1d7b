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
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import apply_transform, float_dtype, safe_inverse
from diffvg_jax.kernels import depth_needed as kernel_depth_needed
from diffvg_jax.kernels import pieces_needed as kernel_pieces_needed
from diffvg_jax.scene import Scene

from .budgets import DEPTH_CHUNK, auto_budget, default_budget, default_piece_store
from .encoding_plan import (MIN_EDGES, PLANS, EncodingPlan, capacity_class, plan_encoding,
                            structure_key)
from .flat_geometry import assemble_edges, flat_geometry, stroke_group_edges
from .layers import pixel_centres
from .leaves import concrete_value, pack_leaves


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


def _paint_rasters(plan: EncodingPlan, paints, to_canvas, height, width, paint_at, dtype):
    """images float (I, H, W, 4): straight RGBA rasters of the non-solid ``paints`` (in
    ``plan.paints`` order), evaluated at the pixel centres in each shape's user space."""
    if not paints:
        return jnp.zeros((0, height, width, 4), dtype)
    centres = pixel_centres(height, width)
    rasters = [paint_at(paint, apply_transform(safe_inverse(to_canvas[slot.item]), centres))
               for slot, paint in zip(plan.paints, paints)]
    return pad_rows(jnp.stack(rasters).astype(dtype), capacity_class(len(paints), 1))


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


def encode_scene(scene: Scene, *, width: int, height: int, capacity: int, paint_at: Callable,
                 max_pieces: Optional[int] = None, max_depth: Optional[int] = None,
                 check_budget: bool = True, prepare: Optional[Callable] = None) -> Encoding:
    """The :class:`Encoding` of a scene. ``paint_at(paint, xy)`` evaluates a non-solid
    paint at user-space points (the renderer passes one that draws pattern tiles);
    ``capacity`` is the static number of line pieces per Bezier segment.

    The scene's structure becomes host-side integer plans padded to capacity classes
    (:mod:`.encoding_plan`), so the programs that run depend on the classes only; the
    plan of a structure seen recently is reused. ``prepare(scene) -> scene`` runs when the
    structure is new (the renderer's checks and pattern resolution), and again, to raise
    its named error, when a reused structure's concrete values hold NaN or inf."""
    leaves, treedef = jax.tree_util.tree_flatten(scene)
    key = structure_key(treedef, leaves, capacity)
    plan = PLANS.get(key)
    reused = plan is not None
    if reused:
        packed = [leaves[p] for p in plan.leaf_positions]
        paints = [jax.tree_util.tree_unflatten(s.treedef, [leaves[p] for p in s.positions]) for s in plan.paints]
    else:
        if prepare is not None:
            prepared = prepare(scene)
            if prepared is not scene:          # patterns resolved: other static fields
                scene, leaves = prepared, jax.tree_util.tree_leaves(prepared)
        plan, packed, paints = plan_encoding(scene, leaves, capacity)
        PLANS.put(key, plan)
    theta = pack_leaves(float_dtype(), plan.theta_size, plan.leaf_shapes, packed)
    if reused and prepare is not None and not _all_finite(theta, [leaves[p] for p in plan.other_positions]):
        prepare(scene)           # raises the checks' error naming the element and attribute
        raise ValueError("the scene contains NaN or inf")
    return _evaluate(plan, theta, paints, width, height, capacity, paint_at, max_pieces, max_depth, check_budget)


def _all_finite(theta, others) -> bool:
    """No NaN or inf in the concrete ones of ``theta`` and the ``others`` leaves (tracers
    are not checked, as in :func:`.validate.validate_scene`)."""
    for x in [theta, *others]:
        if not isinstance(x, jax.core.Tracer) and not np.isfinite(np.asarray(x)).all():
            return False
    return True


def _evaluate(plan: EncodingPlan, theta, paints, width, height, capacity, paint_at, max_pieces, max_depth,
              check_budget) -> Encoding:
    """The Encoding of ``plan`` on the packed leaves ``theta`` float (M,) and the non-solid
    paint objects ``paints`` (in ``plan.paints`` order)."""
    dt = float_dtype()
    ctrl, widths, to_canvas, fill, colour, alpha, background, opacity = flat_geometry(
        theta, plan.flat, capacity, rematerialise=concrete_value(theta) is not None)
    edge_parts, layer_parts = [], []
    if plan.fill_layer is not None:
        edge_parts.append(fill)
        layer_parts.append(plan.fill_layer)
    for group in plan.strokes:
        closed, join, cap, _ = group.key
        edges = stroke_group_edges(ctrl, widths, to_canvas, group.rows, group.pad, group.live, group.owner,
                                   group.miter, closed, join, cap, 2 * capacity)
        edge_parts.append(edges)
        layer_parts.append(np.repeat(group.layer, edges.shape[0] // group.layer.shape[0]))
    edge_layer = np.concatenate(layer_parts).astype(np.int32) if layer_parts else np.zeros(0, np.int32)
    live_edges = len(edge_layer)
    E = capacity_class(live_edges, MIN_EDGES)
    edges = assemble_edges(edge_parts or [jnp.zeros((0, 2, 2), dt)], E)
    edge_layer = np.concatenate([edge_layer, np.zeros(E - live_edges, np.int32)])
    images = _paint_rasters(plan, paints, to_canvas, height, width, paint_at, dt)
    max_pieces, max_depth, exact = _budgets(edges, plan.evenodd.shape[0], live_edges, height, width, max_pieces, max_depth,
                                            plan.flat_scene)
    compositing = None
    if plan.compositing is not None:
        arrays, num_runs, stack_depth, blend_modes = plan.compositing
        compositing = Compositing(*arrays, opacity, num_runs, stack_depth, blend_modes)
    return Encoding(edges, jnp.asarray(edge_layer), plan.evenodd, colour, alpha, plan.image_index, images,
                    background, compositing, int(width), int(height), max_pieces, max_depth,
                    bool(check_budget) and not exact)
