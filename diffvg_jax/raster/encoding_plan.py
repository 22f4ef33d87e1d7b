"""A scene's structure as a reusable plan: everything encoding derives without reading values.

Encoding a scene is two kinds of work. The host-side part walks the scene tree, registers
its leaves in the packed vector ``theta``, and builds the integer plans (segment table,
frames, fills, stroke groups, layer records, compositing ops) padded to capacity classes;
the device part evaluates those plans on the leaves' values (:mod:`.flat_geometry`). The
host part depends only on the scene's *structure*: its tree definition (node kinds and
static fields) and its leaves' shapes and dtypes. On a 240-path drawing it is ~20 ms of
Python per call, more than the device work, and a loop that renders or differentiates one
structure again and again (an optimisation, an animation, eager ``dv.render`` in a
notebook) repeated it every time.

:class:`EncodingPlan` is that host part with leaves named by their position in
``jax.tree_util.tree_leaves(scene)``, so it applies to any scene of the same structure;
:data:`PLANS` keeps the plans of recent structures (:func:`structure_key`). A plan is only
kept when every leaf it reads is a leaf of the scene at exactly one position: a scene whose
encoding reads derived arrays (a mask region becomes a polygon), shares one array object
between two fields, or holds pattern paints (their tile resolution follows the values of
the transforms above them) is planned afresh on each call, as before.
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import math
import threading
from typing import Optional, Tuple

import jax
import numpy as np

from diffvg_jax.geometry import float_dtype
from diffvg_jax.scene import Pattern, Solid

from .compositing import OpPlan, plan_ops, walk_scene_items
from .flat_geometry import FlatPlan, padded_theta_size, plan_fills, plan_frames, stroke_groups
from .leaves import LeafTable
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


def class_of(minimum: int = 1):
    """``n -> capacity_class(n, minimum)``."""
    return functools.partial(capacity_class, minimum=minimum)


@dataclasses.dataclass(frozen=True)
class StrokeGroup:
    """One outline program's subpaths (see :func:`.flat_geometry.stroke_groups`): static
    ``key`` (closed, join, cap, segments per subpath), device arrays ``rows`` int32 (B, n),
    ``pad`` bool (B, n), ``live`` bool (B,), ``owner`` int32 (B,), ``miter`` float32 (B,),
    and ``layer`` int32 NumPy (B,), each subpath's layer."""
    key: tuple
    rows: jax.Array
    pad: jax.Array
    live: jax.Array
    owner: jax.Array
    miter: jax.Array
    layer: np.ndarray


@dataclasses.dataclass(frozen=True)
class PaintSlot:
    """A non-solid paint: the layer it paints, the shape (item) whose frame it is evaluated
    in, and how to rebuild it from the scene's flat leaves (its tree definition and the
    positions of its leaves)."""
    layer: int
    item: int
    treedef: object
    positions: Tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class EncodingPlan:
    """The structure of a scene's encoding (host-side; the module docstring says why).

      leaf_positions  int (N,) NumPy   the flat-leaf position of each leaf packed into
                                       theta, in packing order
      leaf_shapes     their shapes; theta_size: theta's padded length (a class)
      other_positions int NumPy        the flat leaves not packed (paint leaves): checked
                                       for NaN / inf on their own
      flat            FlatPlan of device arrays (:mod:`.flat_geometry`)
      fill_layer      int32 NumPy: the layer of each fill edge (None: no filled shape)
      strokes         StrokeGroup per outline program
      paints          PaintSlot per non-solid paint
      evenodd, image_index  device arrays bool (L,), int32 (L,) (I: a solid paint), L the
                      padded layer count
      flat_scene      every layer straight onto the canvas (the tiled pipeline)
      compositing     (aliased, layer_run, run_end, ops) device arrays, num_runs,
                      stack_depth, blend_modes of a layered scene; None for a flat one
      cacheable       every leaf read is a unique leaf of the scene, and no pattern
    """
    leaf_positions: np.ndarray
    leaf_shapes: tuple
    theta_size: int
    other_positions: np.ndarray
    flat: FlatPlan
    fill_layer: Optional[np.ndarray]
    strokes: Tuple[StrokeGroup, ...]
    paints: Tuple[PaintSlot, ...]
    evenodd: jax.Array
    image_index: jax.Array
    flat_scene: bool
    compositing: Optional[tuple]
    cacheable: bool


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


def _op_opacity_plan(ops: Optional[OpPlan], table: LeafTable):
    """int32 (K,) theta indices of each op's opacity (-1: 1); (1,) for a flat scene."""
    if ops is None:
        return np.full(1, -1, np.int32)
    return np.array([-1 if o is None else int(table.add(o)) for o in ops.opacity], np.int32)


def _non_solid_paints(items):
    """[(layer, item index, paint)] of the paints evaluated as rasters (not clip shapes)."""
    return [(layer, k, getattr(it.shape, kind)) for k, it in enumerate(items) for kind, layer in it.layers.items()
            if not it.clip and not isinstance(getattr(it.shape, kind), Solid)]


def _on_device(tree):
    """NumPy leaves as device arrays, made now even inside a trace (a plan outlives the
    trace that made it, so it must not hold tracers)."""
    with jax.ensure_compile_time_eval():
        return jax.device_put(tree)


def _positions(leaves):
    """{id(leaf): position} of the scene's flat leaves, and the ids seen more than once."""
    where, shared = {}, set()
    for i, leaf in enumerate(leaves):
        if id(leaf) in where:
            shared.add(id(leaf))
        where[id(leaf)] = i
    return where, shared


def plan_encoding(scene, leaves, capacity: int):
    """(EncodingPlan, the leaves packed into theta in order, the non-solid paint objects) of
    ``scene``, whose flat leaves are ``leaves``; ``capacity`` is the static number of line
    pieces per Bezier segment. Host-side: nothing is evaluated."""
    walk = walk_scene_items(scene)
    items, num_layers = walk.items, walk.num_layers
    L = capacity_class(num_layers, MIN_LAYERS)
    table = LeafTable()
    index = [register_shape(it.shape, table) for it in items]
    group_index = [table.add(t) for _, t in walk.frames]
    background_index = table.add(scene.background)
    ops = None if walk.flat else plan_ops(walk, L)
    op_opacity = _op_opacity_plan(ops, table)
    segments, layout = plan_segments([it.shape for it in items], index, class_of())
    fill_layer = np.array([it.layers.get("fill", -1) for it in items], np.int32)
    fill_rows, first, last, fill_live, row_layer, sub_layer = plan_fills(layout, fill_layer, class_of(MIN_SUBPATHS))
    colour_plan, alpha_plan, layer_live, evenodd = _layer_plan(items, num_layers, L, index)
    frames = plan_frames(walk.frames, group_index, items, index, class_of(MIN_GROUPS), class_of(MIN_SHAPES))
    flat = FlatPlan(segments, *frames, layout.seg_item, fill_rows, first, last, fill_live, colour_plan, alpha_plan,
                    layer_live, np.asarray(background_index, np.int32), op_opacity)
    strokes = tuple(StrokeGroup(key, *_on_device((rows, pad, live, owner, miter)), layer)
                    for key, rows, pad, live, owner, miter, layer in stroke_groups(layout, items))
    paints = _non_solid_paints(items)
    image_index = np.zeros(L, np.int32)
    if paints:
        image_index[:] = capacity_class(len(paints), 1)
        for n, (layer, _, _) in enumerate(paints):
            image_index[layer] = n

    where, shared = _positions(leaves)
    packed = [where.get(id(x), -1) for x in table.leaves]
    slots, cacheable = [], not any(isinstance(p, Pattern) for _, _, p in paints)
    for layer, k, paint in paints:
        p_leaves, p_def = jax.tree_util.tree_flatten(paint)
        slots.append(PaintSlot(layer, k, p_def, tuple(where.get(id(x), -1) for x in p_leaves)))
    used = packed + [p for s in slots for p in s.positions]
    cacheable = cacheable and min(used, default=0) >= 0 and not any(id(leaves[p]) in shared for p in used)
    others = np.setdiff1d(np.arange(len(leaves)), np.asarray(packed, np.int64))

    compositing = None
    if ops is not None:
        aliased = np.zeros(L, bool)
        aliased[:num_layers] = walk.aliased
        compositing = (_on_device((aliased, ops.layer_run, ops.run_end, ops.ops)),
                       ops.num_runs, ops.stack_depth, ops.blend_modes)
    plan = EncodingPlan(
        leaf_positions=np.asarray(packed, np.int64), leaf_shapes=tuple(table.shapes),
        theta_size=padded_theta_size(table.size, class_of(MIN_LEAVES)), other_positions=others,
        flat=_on_device(flat),
        fill_layer=np.concatenate([np.repeat(row_layer, 2 * capacity), sub_layer]) if fill_rows.any() else None,
        strokes=strokes, paints=tuple(slots), evenodd=_on_device(evenodd),
        image_index=_on_device(image_index), flat_scene=walk.flat, compositing=compositing, cacheable=cacheable)
    return plan, table.leaves, [p for _, _, p in paints]


def structure_key(treedef, leaves, capacity: int):
    """What an EncodingPlan depends on: the tree definition (node kinds, static fields),
    every leaf's shape and dtype, the curve capacity and the float dtype; None when a leaf
    is not an array (such scenes are planned on every call)."""
    try:
        avals = tuple(x.aval for x in leaves)      # concrete arrays and tracers alike
    except AttributeError:
        return None
    return treedef, avals, int(capacity), np.dtype(float_dtype()).str


class PlanCache:
    """The plans of the ``size`` most recently used structures (least recently used goes)."""

    def __init__(self, size: int = 32):
        self.size = size
        self._plans: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> Optional[EncodingPlan]:
        if key is None:
            return None
        with self._lock:
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
            return plan

    def put(self, key, plan: EncodingPlan):
        if key is None or not plan.cacheable:
            return
        with self._lock:
            self._plans[key] = plan
            self._plans.move_to_end(key)
            while len(self._plans) > self.size:
                self._plans.popitem(last=False)

    def clear(self):
        with self._lock:
            self._plans.clear()

    def __len__(self):
        return len(self._plans)

    def __contains__(self, key):
        return key in self._plans


PLANS = PlanCache()
