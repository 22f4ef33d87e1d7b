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

Encoding is differentiable in the scene's leaves: it runs eagerly (outside any jit) as a few
gathers from the packed leaf vector (:mod:`.leaves`) and a few small cached programs: one
for all fills (:func:`fill_edges`, per segment class) and one per group of stroked subpaths
that share join, cap, miter limit, closure and a segment class (:func:`stroke_edges`).
Inside a caller's jit the same code is traced into the caller's program.

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

from diffvg_jax.geometry import (Subpath, apply_transform, flatten_subpath, float_dtype, lifted_segments,
                                 safe_inverse, stroke_outline)
from diffvg_jax.kernels import depth_needed as kernel_depth_needed
from diffvg_jax.kernels import pieces_needed as kernel_pieces_needed
from diffvg_jax.scene import Group, Scene, Solid

from .budgets import SMALL_SCENE_LAYERS, auto_budget, default_budget, round_depth
from .layers import ROUND_POINTS, pixel_centres
from .leaves import LeafTable, concrete_value
from .segments import SegmentTable, build_segments, register_shape

# Smallest capacity of each class: tiny scenes share programs with small ones.
MIN_SEGMENTS, MIN_SUBPATHS, MIN_EDGES, MIN_LAYERS = 64, 16, 1024, 8


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
    None when the scene composites in sub-layers (group opacity, clip or mask, or a shape
    with both fill and stroke under an opacity)."""
    items: List[FlatItem] = []
    groups: List[tuple] = []
    counter = [0]

    def walk(children, group):
        for child in children:
            if isinstance(child, Group):
                if child.opacity is not None or child.clip is not None or child.mask is not None:
                    raise LookupError
                groups.append((group, child.transform))
                walk(child.children, len(groups) - 1)
                continue
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


def _batched_transform(m, pts):
    """Per-row affine matrices m float (S, 3, 3) applied to points float (S, ..., 2)."""
    out = jnp.einsum("sij,s...j->s...i", m[:, :2, :2], pts)
    return out + m[:, :2, 2].reshape(m.shape[:1] + (1,) * (pts.ndim - 2) + (2,))


@functools.partial(jax.jit, static_argnums=(4,))
def fill_edges(ctrl, to_canvas, first, last, capacity):
    """Edges in pixels of every filled subpath, float (S * 2K + N, 2, 2) with K = capacity.

    ctrl float (S, 4, 2) user units, to_canvas float (S, 3, 3) per segment; first, last
    int32 (N,) each subpath's first and last segment. Each segment is flattened on its own
    (lifted polyline, :func:`diffvg_jax.geometry.lifted_segments`), and each subpath is
    closed by one edge from its end back to its start (zero length when it is closed).
    """
    verts = lifted_segments(ctrl, _batched_transform(to_canvas, ctrl), capacity)     # (S, 2K + 1, 2)
    verts = _batched_transform(to_canvas, verts)
    edges = jnp.stack([verts[:, :-1], verts[:, 1:]], axis=2).reshape(-1, 2, 2)
    closing = jnp.stack([verts[last, -1], verts[first, 0]], axis=1)
    return jnp.concatenate([edges, closing], axis=0)


@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6, 7))
def stroke_edges(ctrl, widths, to_canvas, closed, join, cap, miter_limit, capacity):
    """Stroke outline edges in pixels of B subpaths of n segments, float (B, E, 2, 2).

    ctrl float (B, n, 4, 2) and widths float (B, n, 4) (full widths) in user units,
    to_canvas float (B, 3, 3). Segments past a subpath's end repeat its end point: zero-length
    pieces, which the outline ignores (they inherit the last tangent).
    """
    def one(c, w, m):
        verts, wv, mask = flatten_subpath(Subpath(c, closed, w), m, capacity)
        outline = stroke_outline(verts, 0.5 * jnp.maximum(wv, 0.0), closed=closed, joint_mask=mask, join=join,
                                 cap=cap, miter_limit=miter_limit, round_points=ROUND_POINTS)
        return apply_transform(m, outline)
    return jax.vmap(one)(ctrl, widths, to_canvas)


def pad_rows(x, n):
    """x padded with zero rows to n rows (axis 0)."""
    if n <= x.shape[0]:
        return x
    return jnp.concatenate([x, jnp.zeros((n - x.shape[0],) + x.shape[1:], x.dtype)], axis=0)


def _fill_part(seg: SegmentTable, fill_layer, to_canvas, capacity):
    """Edges float (S * 2K + N, 2, 2) and their layers (int32 NumPy) of every filled subpath."""
    used = fill_layer[seg.seg_item] >= 0
    subs = np.flatnonzero(fill_layer[seg.sub_item] >= 0)
    # One spare segment at least: padded subpaths close on it (zero matrices: at the origin).
    S = capacity_class(len(seg.seg_item) + 1, MIN_SEGMENTS)
    N = capacity_class(len(subs), MIN_SUBPATHS)
    ctrl = pad_rows(seg.ctrl * jnp.asarray(used, seg.ctrl.dtype)[:, None, None], S)
    first = np.full(N, S - 1, np.int32)
    last = np.full(N, S - 1, np.int32)
    first[:len(subs)] = seg.first[subs]
    last[:len(subs)] = seg.last[subs]
    edges = fill_edges(ctrl, pad_rows(to_canvas[seg.seg_item], S), first, last, capacity)
    seg_layer = np.zeros(S, np.int32)
    seg_layer[:len(used)] = np.where(used, fill_layer[seg.seg_item], 0)
    sub_layer = np.zeros(N, np.int32)
    sub_layer[:len(subs)] = fill_layer[seg.sub_item[subs]]
    return edges, np.concatenate([np.repeat(seg_layer, 2 * capacity), sub_layer])


def _stroke_parts(seg: SegmentTable, items, to_canvas, capacity):
    """Yields (edges, layers) per group of stroked subpaths that share one outline program."""
    groups = {}
    for k in range(len(seg.first)):
        shape = items[seg.sub_item[k]].shape
        if shape.stroke is None:
            continue
        n = int(seg.last[k] - seg.first[k] + 1)
        key = (bool(seg.closed[k]), shape.line_join, shape.line_cap, float(shape.miter_limit), capacity_class(n, 1))
        groups.setdefault(key, []).append(k)
    for (closed, join, cap, miter, n_cap), subs in groups.items():
        B = capacity_class(len(subs), 1)
        idx = np.zeros((B, n_cap), np.int32)
        pad = np.ones((B, n_cap), bool)
        for b, k in enumerate(subs):
            n = int(seg.last[k] - seg.first[k] + 1)
            idx[b, :n] = np.arange(seg.first[k], seg.last[k] + 1)
            idx[b, n:] = seg.last[k]
            pad[b, :n] = False
        live = np.arange(B) < len(subs)
        # Padding segments repeat the end point; padding subpaths collapse to the origin
        # with zero width (no pieces, no coverage).
        ctrl = seg.ctrl[idx]
        ctrl = jnp.where(pad[..., None, None], ctrl[:, :, 3:4, :], ctrl) * live[:, None, None, None]
        widths = seg.widths[idx]
        widths = jnp.where(pad[..., None], widths[..., 3:4], widths) * live[:, None, None]
        owner = np.array([seg.sub_item[k] for k in subs] + [0] * (B - len(subs)))
        edges = stroke_edges(ctrl, widths, to_canvas[owner], closed, join, cap, miter, 2 * capacity)
        layer = np.array([items[seg.sub_item[k]].layers["stroke"] for k in subs] + [0] * (B - len(subs)), np.int32)
        yield edges.reshape(-1, 2, 2), np.repeat(layer, edges.shape[1])


def _layer_records(items, num_layers, L, index, theta):
    """colour float (L, 4), alpha float (L,), evenodd bool (L,) from the packed leaves."""
    colour_src = np.full((L, 4), -1, np.int64)
    alpha_src = np.full((L, 2), -1, np.int64)      # the paint's opacity, the shape's opacity
    evenodd = np.zeros(L, bool)
    for k, item in enumerate(items):
        for kind, layer in item.layers.items():
            if kind + "_color" in index[k]:
                colour_src[layer] = index[k][kind + "_color"]
            alpha_src[layer, 0] = index[k][kind + "_opacity"]
            if item.opacity_in_alpha:
                alpha_src[layer, 1] = index[k]["opacity"]
            evenodd[layer] = kind == "fill" and item.shape.fill_rule == "evenodd"
    ext = jnp.concatenate([theta, jnp.ones((1,), theta.dtype)])      # index -1 reads 1
    real = jnp.asarray(np.arange(L) < num_layers, theta.dtype)
    return ext[colour_src] * real[:, None], jnp.prod(ext[alpha_src], axis=1) * real, jnp.asarray(evenodd)


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
    of line pieces per Bezier segment."""
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
    theta = table.pack()
    matrices = []                       # group -> canvas; parents come before their children
    for (parent, _), gi in zip(groups, group_index):
        matrices.append(theta[gi] if parent < 0 else matrices[parent] @ theta[gi])
    edge_parts, layer_parts = [], []
    to_canvas = None
    if items:
        parents = jnp.stack([jnp.eye(3, dtype=dt)] + matrices)
        to_canvas = parents[np.array([it.group + 1 for it in items])] @ theta[np.stack([ix["transform"] for ix in index])]
        seg = build_segments([it.shape for it in items], index, theta)
        fill_layer = np.array([it.layers.get("fill", -1) for it in items], np.int32)
        if (fill_layer >= 0).any():
            edges, layers = _fill_part(seg, fill_layer, to_canvas, capacity)
            edge_parts.append(edges)
            layer_parts.append(layers)
        for edges, layers in _stroke_parts(seg, items, to_canvas, capacity):
            edge_parts.append(edges)
            layer_parts.append(layers)
    edges = jnp.concatenate(edge_parts) if edge_parts else jnp.zeros((0, 2, 2), dt)
    edge_layer = np.concatenate(layer_parts).astype(np.int32) if layer_parts else np.zeros(0, np.int32)
    live_edges = edges.shape[0]
    E = capacity_class(live_edges, MIN_EDGES)
    edges = pad_rows(edges, E)
    edge_layer = np.concatenate([edge_layer, np.zeros(E - len(edge_layer), np.int32)])
    colour, alpha, evenodd = _layer_records(items, num_layers, L, index, theta)
    image_index, images = _paint_rasters(items, to_canvas, L, height, width, paint_at, dt)
    max_pieces, max_depth, exact = _budgets(edges, edge_layer, evenodd, num_layers, live_edges, height, width,
                                            max_pieces, max_depth)
    return Encoding(edges, jnp.asarray(edge_layer), evenodd, colour, alpha, jnp.asarray(image_index), images,
                    theta[background_index], int(width), int(height), max_pieces, max_depth,
                    bool(check_budget) and not exact)
