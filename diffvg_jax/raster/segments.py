"""Shapes -> one table of cubic segments: a host-side plan, then gathers from the packed leaves.

The segment table of a list of shapes:

  ctrl      float (S, 4, 2)  cubic control points in each shape's user units
  widths    float (S, 4)     full stroke width at each control point (a scalar width is
                             broadcast), user units

computed by :func:`segment_arrays` from the packed leaf vector ``theta`` and a
:class:`SegmentPlan`: integer indices into ``theta`` padded to capacity classes, so the
program that evaluates it depends on the classes only, never on the scene's structure. The
plan's host-side :class:`SegmentLayout` says which shape and subpath each row belongs to.

Lines and quadratics are exact degree elevations, circles and ellipses 8 arcs of 45
degrees, rounded rectangles 12 cubics: the constructions of ``geometry.shapes`` for one
shape (its public ELEVATION, UNIT_ARCS and rect_ctrl), written as index plans for all shapes
at once. Rows are laid out as [pointy segments | 8 per arc shape | 12 per rectangle], each
block padded; padding indices are -1, which reads 0 (degenerate segments at the origin).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import ELEVATION, UNIT_ARCS, rect_ctrl
from diffvg_jax.scene import Circle, Ellipse, Path, Polygon, Polyline, Rect, Solid, subpath_layout

from .leaves import LeafTable

ARC_SEGMENTS = UNIT_ARCS.shape[0]       # cubics per circle / ellipse
RECT_SEGMENTS = 12                      # cubics per rounded rectangle (geometry.rect_ctrl)
# Smallest block sizes: small scenes of any mix of kinds share one class (padding rows
# cost flattening work, so the minimums stay small).
MIN_POINTY, MIN_ARCS, MIN_RECTS = 32, 4, 4


@functools.partial(jax.tree_util.register_dataclass,
                   data_fields=["points", "weights", "widths", "scalar_width", "arc_centre", "arc_radius",
                                "arc_width", "rect_min", "rect_max", "rect_radius", "rect_width"],
                   meta_fields=[])
@dataclasses.dataclass(frozen=True)
class SegmentPlan:
    """Indices into ``theta`` (int32, -1 reads 0) for every segment row, padded to classes.

      points        int32 (P, 4, 2)  each pointy segment's (up to 4) points, per coordinate
      weights       float32 (P, 4, 4) degree elevation: ctrl = weights @ points
      widths        int32 (P, 4)     stroke width entries at those points (per-point widths)
      scalar_width  bool (P,)        the shape has one scalar width (broadcast, not elevated)
      arc_centre, arc_radius  int32 (A, 2); arc_width int32 (A,)      circles and ellipses
      rect_min, rect_max, rect_radius int32 (R, 2); rect_width int32 (R,)  rectangles
    """
    points: np.ndarray
    weights: np.ndarray
    widths: np.ndarray
    scalar_width: np.ndarray
    arc_centre: np.ndarray
    arc_radius: np.ndarray
    arc_width: np.ndarray
    rect_min: np.ndarray
    rect_max: np.ndarray
    rect_radius: np.ndarray
    rect_width: np.ndarray

    @property
    def num_rows(self) -> int:
        """S: rows of the segment table this plan evaluates to."""
        return self.points.shape[0] + ARC_SEGMENTS * self.arc_centre.shape[0] + RECT_SEGMENTS * self.rect_min.shape[0]


@dataclasses.dataclass
class SegmentLayout:
    """Host-side rows of the planned table (NumPy):

      seg_item    int32 (S,)  the shape of each row (-1: padding)
      first, last int32 (N,)  first / last row of each subpath
      closed      bool (N,)   and whether it is closed
      sub_item    int32 (N,)  the shape of each subpath
    """
    seg_item: np.ndarray
    first: np.ndarray
    last: np.ndarray
    closed: np.ndarray
    sub_item: np.ndarray


# ELEVATION as one table: row d holds degree d's weights (4, 4), zero past its d + 1 points.
_ELEVATION_TABLE = np.zeros((4, 4, 4), np.float32)
for _d, _w in ELEVATION.items():
    _ELEVATION_TABLE[_d, :, :_d + 1] = _w


def _elevation_plan(shape) -> Tuple[np.ndarray, np.ndarray, Tuple[Tuple[int, bool], ...]]:
    """Static plan of a Path / Polygon / Polyline: point indices int64 (n, 4) of its n
    segments (0 past a segment's degree + 1 points, where the weight is 0), their degrees
    int64 (n,), and per subpath (segments, closed). Eager calls plan every shape on every
    call, so plans are remembered per structure (read-only arrays)."""
    if isinstance(shape, Path):
        return _path_plan(shape.degrees, shape.subpath_sizes, shape.closed)
    return _polyline_plan(int(np.shape(shape.points)[0]), isinstance(shape, Polygon))


@functools.lru_cache(maxsize=4096)
def _path_plan(degrees, subpath_sizes, closed):
    """:func:`_elevation_plan` of a Path of this static structure (NumPy per subpath)."""
    srcs, degs_out, subs = [], [], []
    for start, degs, closed_k, n_points in subpath_layout(degrees, subpath_sizes, closed):
        d = np.asarray(degs, np.int64)
        first = np.cumsum(d) - d                                # each segment's first point
        i = np.arange(4)
        src = start + (first[:, None] + i) % n_points
        srcs.append(np.where(i <= d[:, None], src, 0))
        degs_out.append(d)
        subs.append((len(degs), bool(closed_k)))
    if not srcs:
        return _frozen(np.zeros((0, 4), np.int64), np.zeros(0, np.int64), subs)
    return _frozen(np.concatenate(srcs), np.concatenate(degs_out), subs)


@functools.lru_cache(maxsize=1024)
def _polyline_plan(n: int, closed: bool):
    """:func:`_elevation_plan` of a Polygon (closed) / Polyline of n points."""
    if n == 0:
        return _frozen(np.zeros((0, 4), np.int64), np.zeros(0, np.int64), [])
    k = n if closed else n - 1
    if k <= 0:  # a single point: one degenerate segment (caps still draw it)
        return _frozen(np.zeros((1, 4), np.int64), np.ones(1, np.int64), [(1, False)])
    s = np.arange(k)
    src = np.zeros((k, 4), np.int64)
    src[:, 0], src[:, 1] = s, (s + 1) % n
    return _frozen(src, np.ones(k, np.int64), [(k, closed)])


def _frozen(src, degrees, subs):
    """A cached plan: arrays read-only, subpaths a tuple (callers must not change them)."""
    src.flags.writeable = False
    degrees.flags.writeable = False
    return src, degrees, tuple(subs)


def padded_rows(values: Sequence, n: int, shape=(), fill=-1, dtype=np.int32) -> np.ndarray:
    """NumPy (n, *shape) of ``dtype``: ``values`` (each of ``shape``) stacked, then rows of
    ``fill`` (the plans' padding: -1 indices) up to n."""
    out = np.full((n,) + tuple(shape), fill, dtype)
    if len(values):
        out[:len(values)] = np.stack([np.asarray(v) for v in values])
    return out


def plan_segments(shapes: Sequence, leaf_index, class_of) -> Tuple[SegmentPlan, SegmentLayout]:
    """The plan and layout of ``shapes``' segment table. ``leaf_index[i]`` maps a field name
    of shape i to its theta indices (see :func:`register_shape`); ``class_of(n)`` pads a
    count to its capacity class (at least 1)."""
    srcs, degrees, widths, scalar, p_items, p_subs = [], [], [], [], [], []
    for i, shape in enumerate(shapes):
        if not isinstance(shape, (Path, Polygon, Polyline)):
            continue
        s_i, d_i, sub_i = _elevation_plan(shape)
        pts, w = leaf_index[i]["points"], leaf_index[i]["stroke_width"]
        srcs.append(pts[s_i])                                               # (n, 4, 2) theta indices
        degrees.append(d_i)
        widths.append(w[s_i] if w.ndim == 1 else np.full(s_i.shape, int(w)))
        scalar.append(np.full(len(s_i), w.ndim != 1))
        p_items.append(np.full(len(s_i), i))
        p_subs += [(n, c, i) for n, c in sub_i]
    num_segments = sum(len(x) for x in srcs)
    arcs = [i for i, s in enumerate(shapes) if isinstance(s, (Circle, Ellipse))]
    rects = [i for i, s in enumerate(shapes) if isinstance(s, Rect)]
    P = class_of(max(num_segments, MIN_POINTY))
    A, R = class_of(max(len(arcs), MIN_ARCS)), class_of(max(len(rects), MIN_RECTS))
    def field(ids, n, name, shape):        # theta indices of one field of these shapes, padded to n
        return padded_rows([np.broadcast_to(leaf_index[i][name], shape) for i in ids], n, shape)

    def rows(blocks, shape, fill, dtype):     # per-shape blocks concatenated, padded to P rows
        out = np.full((P,) + shape, fill, dtype)
        if num_segments:
            out[:num_segments] = np.concatenate(blocks)
        return out

    plan = SegmentPlan(
        points=rows(srcs, (4, 2), -1, np.int32),
        weights=rows([_ELEVATION_TABLE[d] for d in degrees], (4, 4), 0.0, np.float32),
        widths=rows(widths, (4,), -1, np.int32), scalar_width=rows(scalar, (), True, bool),
        arc_centre=field(arcs, A, "center", (2,)), arc_radius=field(arcs, A, "radius", (2,)),
        arc_width=field(arcs, A, "stroke_width", ()),
        rect_min=field(rects, R, "p_min", (2,)), rect_max=field(rects, R, "p_max", (2,)),
        rect_radius=field(rects, R, "corner_radius", (2,)), rect_width=field(rects, R, "stroke_width", ()))
    seg_item = np.full(plan.num_rows, -1, np.int32)
    if num_segments:
        seg_item[:num_segments] = np.concatenate(p_items)
    starts, subs = [], []
    row = 0
    for n, c, i in p_subs:
        starts.append(row)
        subs.append((n, c, i))
        row += n
    for block_start, ids, n_seg in ((P, arcs, ARC_SEGMENTS), (P + ARC_SEGMENTS * A, rects, RECT_SEGMENTS)):
        for k, i in enumerate(ids):
            start = block_start + n_seg * k
            seg_item[start:start + n_seg] = i
            starts.append(start)
            subs.append((n_seg, True, i))
    sizes = np.array([n for n, _, _ in subs], np.int64)
    first = np.array(starts, np.int64)
    layout = SegmentLayout(seg_item, first.astype(np.int32), (first + sizes - 1).astype(np.int32),
                           np.array([c for _, c, _ in subs], bool), np.array([i for _, _, i in subs], np.int32))
    return plan, layout


def read(theta, idx):
    """theta[idx] where index -1 reads 0 (padding), float (idx.shape)."""
    ext = jnp.concatenate([theta, jnp.zeros((1,), theta.dtype)])
    return ext[idx]


def _elevate(w, values):
    """w float (S, 4, 4) times values float (S, 4, ...) per row: sum_k w[:, j, k] values[:, k],
    float (S, 4, ...). Four products written out: XLA:CPU is slow on a batched contraction
    over 4 (and its transpose)."""
    extra = (1,) * (values.ndim - 2)
    return sum(w[:, :, k].reshape(w.shape[:2] + extra) * values[:, k][:, None] for k in range(4))


def segment_arrays(theta, plan: SegmentPlan):
    """(ctrl float (S, 4, 2), widths float (S, 4)) of a plan, user units; traceable, and the
    same program for every plan of one capacity class."""
    dt = theta.dtype
    w = jnp.asarray(plan.weights, dt)
    ctrl = [_elevate(w, read(theta, plan.points))]
    raw = read(theta, plan.widths)                                        # (P, 4)
    widths = [jnp.where(plan.scalar_width[:, None], raw, _elevate(w, raw))]
    radius = jnp.abs(read(theta, plan.arc_radius))
    arcs = read(theta, plan.arc_centre)[:, None, None, :] + jnp.asarray(UNIT_ARCS, dt)[None] * radius[:, None, None, :]
    ctrl.append(arcs.reshape(-1, 4, 2))
    widths.append(jnp.repeat(read(theta, plan.arc_width), ARC_SEGMENTS * 4).reshape(-1, 4))
    rects = jax.vmap(rect_ctrl)(read(theta, plan.rect_min), read(theta, plan.rect_max), read(theta, plan.rect_radius))
    ctrl.append(rects.reshape(-1, 4, 2))
    widths.append(jnp.repeat(read(theta, plan.rect_width), RECT_SEGMENTS * 4).reshape(-1, 4))
    return jnp.concatenate(ctrl), jnp.concatenate(widths)


GEOMETRY_FIELDS = {Path: ("points",), Polygon: ("points",), Polyline: ("points",), Circle: ("center", "radius"),
                   Ellipse: ("center", "radius"), Rect: ("p_min", "p_max", "corner_radius")}


def register_shape(shape, table: LeafTable) -> dict:
    """Register the leaves of one shape that geometry and paint read; returns
    {field: theta indices} ('fill_color' / 'stroke_color' for solid paints)."""
    out = {name: table.add(getattr(shape, name)) for name in GEOMETRY_FIELDS[type(shape)]}
    for name in ("stroke_width", "transform", "fill_opacity", "stroke_opacity"):
        out[name] = table.add(getattr(shape, name))
    if shape.opacity is not None:
        out["opacity"] = table.add(shape.opacity)
    for kind in ("fill", "stroke"):
        paint = getattr(shape, kind)
        if isinstance(paint, Solid):
            out[kind + "_color"] = table.add(paint.color)
    return out
