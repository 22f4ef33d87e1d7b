"""Shapes -> one table of cubic segments, as gathers from the packed leaf vector.

The segment table of a list of shapes:

  ctrl      float (S, 4, 2)  cubic control points in each shape's user units
  widths    float (S, 4)     full stroke width at each control point (a scalar width is
                             broadcast), user units
  seg_item  int32 (S,)       the shape (index into the list) of each segment
  first, last int32 (N,)     first / last segment of each subpath
  closed    bool (N,)        and whether it is closed
  sub_item  int32 (N,)       the shape of each subpath

Lines and quadratics are exact degree elevations, circles and ellipses 8 arcs of 45
degrees, rounded rectangles 12 cubics: the constructions of ``geometry.shapes`` for one
shape (its public ELEVATION, UNIT_ARCS and rect_ctrl), written here as index plans on the
host plus a few gathers for all shapes at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import ELEVATION, UNIT_ARCS, rect_ctrl
from diffvg_jax.scene import Circle, Ellipse, Path, Polygon, Polyline, Rect, Solid

from .leaves import LeafTable


@dataclass
class SegmentTable:
    """The segment table (see the module docstring for each field's dtype, shape, units)."""
    ctrl: jax.Array
    widths: jax.Array
    seg_item: np.ndarray
    first: np.ndarray
    last: np.ndarray
    closed: np.ndarray
    sub_item: np.ndarray


def _elevation_plan(shape) -> Tuple[List[np.ndarray], List[np.ndarray], List[Tuple[int, bool]]]:
    """Static plan of a Path / Polygon / Polyline: per segment the point indices (4,) and
    elevation weights (4, 4); per subpath (segments, closed)."""
    srcs, weights, subs = [], [], []

    def segment(points, degree):
        src = np.zeros(4, np.int64)
        src[:len(points)] = points
        w = np.zeros((4, 4))
        w[:, :degree + 1] = ELEVATION[degree]
        srcs.append(src)
        weights.append(w)

    if isinstance(shape, Path):
        for start, degs, closed, n_points in shape.subpath_layout():
            k = 0
            for d in degs:
                segment([start + (k + i) % n_points for i in range(d + 1)], d)
                k += d
            subs.append((len(degs), bool(closed)))
        return srcs, weights, subs
    n = int(np.shape(shape.points)[0])
    closed = isinstance(shape, Polygon)
    if n == 0:
        return srcs, weights, subs
    k = n if closed else n - 1
    if k <= 0:  # a single point: one degenerate segment (caps still draw it)
        segment([0, 0], 1)
        return srcs, weights, [(1, False)]
    for s in range(k):
        segment([s, (s + 1) % n], 1)
    return srcs, weights, [(k, closed)]


class _Parts:
    """Accumulates segment blocks and their subpaths in one order."""

    def __init__(self):
        self.ctrl, self.widths, self.items, self.subs = [], [], [], []

    def add(self, ctrl, widths, items, subs):
        self.ctrl.append(ctrl)
        self.widths.append(widths)
        self.items.append(np.asarray(items, np.int32))
        self.subs += subs


def _pointy(shapes, indices, leaf_index, width_index, theta, parts):
    srcs, weights, items, width_src, scalar = [], [], [], [], []
    subs = []
    for i in indices:
        s_i, w_i, sub_i = _elevation_plan(shapes[i])
        pts = leaf_index[i]["points"]
        srcs += [pts[s] for s in s_i]                   # (4, 2) theta indices
        weights += w_i
        items += [i] * len(s_i)
        w = width_index[i]
        if w.ndim == 1:
            width_src += [w[s] for s in s_i]
            scalar += [False] * len(s_i)
        else:
            width_src += [np.full(4, int(w))] * len(s_i)
            scalar += [True] * len(s_i)
        subs += [(n, c, i) for n, c in sub_i]
    if not srcs:
        return
    w = jnp.asarray(np.stack(weights), theta.dtype)
    ctrl = jnp.einsum("sjk,skd->sjd", w, theta[np.stack(srcs)])
    raw = theta[np.stack(width_src)]                     # (S, 4)
    elevated = jnp.einsum("sjk,sk->sj", w, raw)
    widths = jnp.where(np.asarray(scalar)[:, None], raw, elevated)
    parts.add(ctrl, widths, items, subs)


def build_segments(shapes: Sequence, leaf_index, theta) -> SegmentTable:
    """The segment table of ``shapes``. ``leaf_index[i]`` maps a field name of shape i to
    its theta indices (see :func:`register_shape`)."""
    parts = _Parts()
    width_index = [leaf_index[i]["stroke_width"] for i in range(len(shapes))]
    _pointy(shapes, [i for i, s in enumerate(shapes) if isinstance(s, (Path, Polygon, Polyline))],
            leaf_index, width_index, theta, parts)
    for kind in (Circle, Ellipse):
        idx = [i for i, s in enumerate(shapes) if type(s) is kind]
        if not idx:
            continue
        centre = theta[np.stack([leaf_index[i]["center"] for i in idx])]
        radius = jnp.abs(theta[np.stack([np.broadcast_to(leaf_index[i]["radius"], (2,)) for i in idx])])
        ctrl = centre[:, None, None, :] + jnp.asarray(UNIT_ARCS, theta.dtype)[None] * radius[:, None, None, :]
        width = theta[np.stack([np.full((8, 4), int(width_index[i])) for i in idx])]
        parts.add(ctrl.reshape(-1, 4, 2), width.reshape(-1, 4), np.repeat(idx, 8), [(8, True, i) for i in idx])
    idx = [i for i, s in enumerate(shapes) if isinstance(s, Rect)]
    if idx:
        field = lambda name: theta[np.stack([leaf_index[i][name] for i in idx])]
        ctrl = jax.vmap(rect_ctrl)(field("p_min"), field("p_max"), field("corner_radius"))
        n_seg = ctrl.shape[1]
        width = theta[np.stack([np.full((n_seg, 4), int(width_index[i])) for i in idx])]
        parts.add(ctrl.reshape(-1, 4, 2), width.reshape(-1, 4), np.repeat(idx, n_seg),
                  [(n_seg, True, i) for i in idx])
    if not parts.ctrl:
        z = np.zeros(0, np.int32)
        return SegmentTable(jnp.zeros((0, 4, 2), theta.dtype), jnp.zeros((0, 4), theta.dtype), z, z, z,
                            np.zeros(0, bool), z)
    sizes = np.array([n for n, _, _ in parts.subs], np.int64)
    ends = np.cumsum(sizes)
    return SegmentTable(jnp.concatenate(parts.ctrl), jnp.concatenate(parts.widths),
                        np.concatenate(parts.items).astype(np.int32), (ends - sizes).astype(np.int32),
                        (ends - 1).astype(np.int32), np.array([c for _, c, _ in parts.subs], bool),
                        np.array([i for _, _, i in parts.subs], np.int32))


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
