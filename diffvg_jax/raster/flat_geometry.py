"""A flat scene's geometry as data: host-side plans, and the few programs that evaluate them.

Everything the encoding computes from the packed leaves ``theta`` (segment control points,
the group and shape transforms, fill edges, layer colours and opacities) is one jitted
program, :func:`flat_geometry`, whose inputs are ``theta`` and a :class:`FlatPlan` of integer
indices padded to capacity classes. Strokes add one program per (closed, join, cap, segment
class) (:func:`stroke_group_edges`; the miter limit is data). So a new scene structure in a
known class compiles nothing: before, each structure ran ~40 small eager operations whose
shapes, hence compiled programs, depended on the exact counts (about a second per drawing
in the conformance run), and under ``jax.grad`` each was linearised on its own.

Index convention: -1 is padding. Geometry indices read 0 there (:func:`.segments.read`);
colour and opacity indices read 1.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, List

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import Subpath, apply_transform, flatten_subpath, lifted_segments, stroke_outline

from .layers import ROUND_POINTS
from .segments import SegmentLayout, SegmentPlan, padded_rows, read, segment_arrays

ClassOf = Callable[[int], int]


def padded_theta_size(n: int, class_of: ClassOf) -> int:
    """Length of the packed leaf vector for ``n`` leaf entries: their class, with room for at
    least one zero entry after them."""
    return class_of(n + 1)


@functools.partial(jax.tree_util.register_dataclass,
                   data_fields=["segments", "group_parent", "group_transform", "item_group", "item_transform",
                                "seg_item", "fill_rows", "fill_first", "fill_last", "fill_live", "colour",
                                "alpha", "layer_live", "background", "op_opacity"],
                   meta_fields=[])
@dataclasses.dataclass(frozen=True)
class FlatPlan:
    """Integer plans (NumPy, padded to classes; -1 is padding) of a flat scene:

      segments        SegmentPlan: the segment table (S rows)
      group_parent    int32 (G,)       row of the frame table holding each group's parent
                                       (0: the canvas, g + 1: group g; parents come first)
      group_transform int32 (G, 3, 3)  theta indices of each group's matrix
      item_group      int32 (T,)       frame row of each shape's parent
      item_transform  int32 (T, 3, 3)  theta indices of each shape's own matrix
      seg_item        int32 (S,)       the shape of each segment row
      fill_rows       bool (S,)        rows that belong to a filled shape
      fill_first, fill_last int32 (N,) first / last row of each filled subpath
      fill_live       bool (N,)        real (not padding) filled subpaths
      colour          int32 (L, 4)     theta indices of each layer's straight RGBA (-1: 1)
      alpha           int32 (L, 2)     paint opacity and shape opacity of each layer (-1: 1)
      layer_live      bool (L,)        real layers
      background      int32 (4,)       the canvas colour
      op_opacity      int32 (K,)       the opacity of each compositing op (-1: 1)
    """
    segments: SegmentPlan
    group_parent: np.ndarray
    group_transform: np.ndarray
    item_group: np.ndarray
    item_transform: np.ndarray
    seg_item: np.ndarray
    fill_rows: np.ndarray
    fill_first: np.ndarray
    fill_last: np.ndarray
    fill_live: np.ndarray
    colour: np.ndarray
    alpha: np.ndarray
    layer_live: np.ndarray
    background: np.ndarray
    op_opacity: np.ndarray


def plan_frames(groups, group_index, items, index, group_class: ClassOf, item_class: ClassOf):
    """(group_parent, group_transform, item_group, item_transform) of :class:`FlatPlan`.
    ``groups`` [(parent group or -1, _)], ``group_index`` their matrices' theta indices,
    ``items`` with ``.group``, ``index[k]['transform']`` each shape's matrix indices."""
    G, T = group_class(len(groups)), item_class(len(items))
    return (padded_rows([p + 1 for p, _ in groups], G, fill=0), padded_rows(group_index, G, (3, 3)),
            padded_rows([it.group + 1 for it in items], T, fill=0),
            padded_rows([ix["transform"] for ix in index], T, (3, 3)))


def plan_fills(layout: SegmentLayout, fill_layer: np.ndarray, class_of: ClassOf):
    """(fill_rows, fill_first, fill_last, fill_live, row_layer int32 (S,), sub_layer int32
    (N,)) of the fill edges, NumPy: 2K edges per row (K curve pieces, each row's layer), then
    one closing edge per filled subpath (its layer)."""
    layer_of_row = np.append(fill_layer, -1)[layout.seg_item]          # padding rows (-1) read -1
    rows = layer_of_row >= 0
    subs = np.flatnonzero(fill_layer[layout.sub_item] >= 0)
    N = class_of(len(subs))
    row_layer = np.maximum(layer_of_row, 0).astype(np.int32)
    sub_layer = padded_rows(fill_layer[layout.sub_item[subs]], N, fill=0)
    return (rows, padded_rows(layout.first[subs], N, fill=0), padded_rows(layout.last[subs], N, fill=0),
            np.arange(N) < len(subs), row_layer, sub_layer)


def fill_edges(ctrl, to_canvas, first, last, live, capacity):
    """Edges in pixels of every filled subpath, float (S * 2K + N, 2, 2) with K = capacity.

    ctrl float (S, 4, 2) user units (zero on rows that are not filled), to_canvas float
    (S, 3, 3) per row; first, last int32 (N,) each subpath's first and last row, live bool
    (N,). Each segment is flattened on its own (lifted polyline,
    :func:`diffvg_jax.geometry.lifted_segments`), and each subpath is closed by one edge
    from its end back to its start (zero length when it is closed or padding).
    """
    verts = lifted_segments(ctrl, _batched_transform(to_canvas, ctrl), capacity)     # (S, 2K + 1, 2)
    verts = _batched_transform(to_canvas, verts)
    edges = jnp.stack([verts[:, :-1], verts[:, 1:]], axis=2).reshape(-1, 2, 2)
    closing = jnp.stack([verts[last, -1], verts[first, 0]], axis=1) * live[:, None, None]
    return jnp.concatenate([edges, closing], axis=0)


def _batched_transform(m, pts):
    """Per-row affine matrices m float (S, 3, 3) applied to points float (S, ..., 2)."""
    return apply_transform(m.reshape(m.shape[:1] + (1,) * (pts.ndim - 2) + (3, 3)), pts)


def _read_or_one(theta, idx):
    return jnp.where(idx >= 0, theta[jnp.maximum(idx, 0)], 1.0)


def _frames(theta, plan: FlatPlan):
    """Each shape's user -> canvas matrix, float (T, 3, 3) (padding: zeros).

    Frame rows: 0 the canvas (identity), 1 + g group g. Each group's matrix is composed
    with its ancestors' by pointer jumping: after step k, ``acc[r]`` is the product of the
    2^k nearest matrices on r's path to the root (its own last) and ``anc[r]`` the row
    above them, so ceil(log2(G + 1)) vectorised steps cover any nesting. (A scan over the
    groups in order cost ~13 us per group and twice that in its transpose: 6 ms of the
    tiger's gradient.)"""
    G = plan.group_parent.shape[0]
    eye = jnp.eye(3, dtype=theta.dtype)[None]
    acc = jnp.concatenate([eye, read(theta, plan.group_transform)])
    anc = jnp.concatenate([jnp.zeros((1,), jnp.int32), jnp.asarray(plan.group_parent, jnp.int32)])
    for _ in range(int(np.ceil(np.log2(G + 1)))):
        acc = acc[anc] @ acc
        anc = anc[anc]
    return acc[plan.item_group] @ read(theta, plan.item_transform)


@functools.partial(jax.jit, static_argnames=("capacity", "rematerialise"))
def flat_geometry(theta, plan: FlatPlan, capacity: int, rematerialise: bool = False):
    """Everything of a flat encoding that is a function of ``theta`` float (M,) alone:

    (ctrl float (S, 4, 2), widths float (S, 4), to_canvas float (T, 3, 3), fill edges float
    (S * 2K + N, 2, 2) in pixels, colour float (L, 4), alpha float (L,), background float (4,),
    op opacity float (K,)).
    One program per capacity class (``capacity``: line pieces per Bezier segment, static).
    ``rematerialise`` (static): recompute the geometry in the backward pass instead of
    keeping its residuals, for eager autodiff (each residual becomes a constant of the
    linearised program, ~45 us of JAX's Python; an emoji's geometry has ~50).
    """
    if rematerialise:
        return jax.checkpoint(_flat_geometry, static_argnums=(2,))(theta, plan, capacity)
    return _flat_geometry(theta, plan, capacity)


def _flat_geometry(theta, plan: FlatPlan, capacity: int):
    ctrl, widths = segment_arrays(theta, plan.segments)
    to_canvas = _frames(theta, plan)
    per_row = jnp.concatenate([to_canvas, jnp.zeros((1, 3, 3), theta.dtype)])[plan.seg_item]
    edges = fill_edges(ctrl * plan.fill_rows[:, None, None], per_row, plan.fill_first, plan.fill_last,
                       plan.fill_live, capacity)
    live = plan.layer_live.astype(theta.dtype)
    colour = _read_or_one(theta, plan.colour) * live[:, None]
    alpha = jnp.prod(_read_or_one(theta, plan.alpha), axis=1) * live
    return ctrl, widths, to_canvas, edges, colour, alpha, theta[plan.background], _read_or_one(theta, plan.op_opacity)


@functools.partial(jax.jit, static_argnums=(8, 9, 10, 11))
def stroke_group_edges(ctrl, widths, to_canvas, rows, pad, live, owner, miter, closed, join, cap, capacity):
    """Stroke outline edges in pixels of B subpaths of n segments, float (B * E, 2, 2).

    ctrl float (S, 4, 2), widths float (S, 4) (full widths) in user units, to_canvas float
    (T, 3, 3): the segment table and frames; rows int32 (B, n) each subpath's rows, pad bool
    (B, n) rows past its end (they repeat its end point: zero-length pieces, which inherit
    the last tangent), live bool (B,), owner int32 (B,) its shape, miter float (B,) its
    miter limit. Padding subpaths collapse to the origin with zero width.
    """
    # Padding rows index the subpath's last real row (see stroke_groups), so its end point
    # (control point 3) and end width are what they repeat.
    c = ctrl[rows]
    c = jnp.where(pad[..., None, None], c[..., 3:4, :], c) * live[:, None, None, None]
    w = widths[rows]
    w = jnp.where(pad[..., None], w[..., 3:4], w) * live[:, None, None]

    def one(c, w, m, limit):
        verts, wv, mask = flatten_subpath(Subpath(c, closed, w), m, capacity)
        outline = stroke_outline(verts, 0.5 * jnp.maximum(wv, 0.0), closed=closed, joint_mask=mask, join=join,
                                 cap=cap, miter_limit=limit, round_points=ROUND_POINTS)
        return apply_transform(m, outline)
    return jax.vmap(one)(c, w, to_canvas[owner], miter).reshape(-1, 2, 2)


def power_class(n: int, minimum: int) -> int:
    """The smallest power of two >= max(n, minimum): coarser than the capacity classes, for
    the stroke programs, whose count (joins x caps x closure x classes) grows fastest."""
    return 1 << max(int(np.ceil(np.log2(max(n, minimum, 1)))), 0)


def _merge_segment_classes(by_n: dict, min_subpaths: int) -> list:
    """[(n, subpath indices)] from {segment class n: subpath indices} of one (closed, join,
    cap): going down from the longest class, a class joins the group above it when the
    group's padded size (subpaths padded to a power of two, times its n) stays within
    what it already is or MERGE_SEGMENTS segments. Each group is one compiled outline
    program (~0.5-1 s on a 2-core CPU); the Ghostscript tiger's closed strokes (58 of 4
    segments, 4 of 8, one each of 16, 64 and 128) compile 3 instead of 5, and its edge
    count stays in its capacity class (a looser rule made it 1.5x larger)."""
    groups = []
    for n in sorted(by_n, reverse=True):
        subs = by_n[n]
        if groups:
            top_n, top = groups[-1]
            merged = power_class(len(top) + len(subs), min_subpaths) * top_n
            if merged <= max(power_class(len(top), min_subpaths) * top_n, MERGE_SEGMENTS):
                top.extend(subs)
                continue
        groups.append((n, list(subs)))
    return groups


# Padded segments a merged group may hold regardless of its size (see _merge_segment_classes).
MERGE_SEGMENTS = 256


def stroke_groups(layout: SegmentLayout, items, min_segments: int = 4, min_subpaths: int = 2):
    """Yields (static (closed, join, cap, n), rows, pad, live, owner, miter, layer of each
    subpath int32 (B,)) per group of stroked subpaths that share one outline program: B
    subpaths of n segments, both padded to powers of two (at least the minimums); rare
    long subpaths share a group (``_merge_segment_classes``)."""
    classes = {}
    for k in range(len(layout.first)):
        item = items[layout.sub_item[k]]
        if "stroke" not in item.layers:      # not stroked, or a clip shape (its fill only)
            continue
        shape = item.shape
        n = int(layout.last[k] - layout.first[k] + 1)
        kind = (bool(layout.closed[k]), shape.line_join, shape.line_cap)
        classes.setdefault(kind, {}).setdefault(power_class(n, min_segments), []).append(k)
    groups = {(*kind, n_cap): subs for kind, by_n in classes.items()
              for n_cap, subs in _merge_segment_classes(by_n, min_subpaths)}
    for (closed, join, cap, n_cap), subs in groups.items():
        B = power_class(len(subs), min_subpaths)
        rows = np.zeros((B, n_cap), np.int32)
        pad = np.ones((B, n_cap), bool)
        for b, k in enumerate(subs):
            n = int(layout.last[k] - layout.first[k] + 1)
            rows[b, :n] = np.arange(layout.first[k], layout.last[k] + 1)
            rows[b, n:] = layout.last[k]
            pad[b, :n] = False
        shapes = [items[layout.sub_item[k]] for k in subs]
        owner = padded_rows([layout.sub_item[k] for k in subs], B, fill=0)
        miter = padded_rows([float(it.shape.miter_limit) for it in shapes], B, fill=4.0, dtype=np.float32)
        layer = padded_rows([it.layers["stroke"] for it in shapes], B, fill=0)
        yield (closed, join, cap, n_cap), rows, pad, np.arange(B) < len(subs), owner, miter, layer


@functools.partial(jax.jit, static_argnums=(1,))
def assemble_edges(parts: List[jax.Array], size: int):
    """The edge parts float (E_i, 2, 2) concatenated and padded with zero edges to ``size``."""
    edges = jnp.concatenate(parts) if parts else jnp.zeros((0, 2, 2), jnp.float32)
    return jnp.concatenate([edges, jnp.zeros((size - edges.shape[0], 2, 2), edges.dtype)])
