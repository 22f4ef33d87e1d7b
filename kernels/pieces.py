"""Unit boundary pieces: the piece math that every coverage kernel shares.

Edges are clipped to the canvas rows and split at x = 0 (the part left of the canvas is
projected onto x = -1/2, where it only adds cover), then cut into *unit pieces* (extent
<= 1 px in x and in y). Each piece writes its signed area and cover into 2 rows x 3
columns of an accumulation buffer (``piece_deltas``); a prefix sum along x then gives the
box-filtered winding integral (the design notes, shared/DESIGN.md section 2).

``coverage.winding_integral`` (the dense XLA reference) and ``tiles.tiled_winding`` (the
tiled kernel) both build their pieces, footprints and deltas here, so they integrate the
same pieces and differ only in where the deltas are accumulated.

Units: pixels, origin at the canvas's top-left corner, y down.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .numerics import components, safe_div

EPS = 1e-6  # below this |dy| (px) an edge is horizontal: no cover, no division by it


def _div(num, den, fallback):
    """num / den where |den| > EPS, else ``fallback`` (finite gradients)."""
    return safe_div(num, den, jnp.abs(den) > EPS, fallback)


def _band_interval(a0, d, lo, hi, flat_inside=None):
    """Parameter interval [t0, t1] of a0 + t*d inside [lo, hi], intersected with [0, 1].

    a0, d: float32 (...). lo, hi: broadcastable bounds. Empty intervals come back with
    t1 <= t0. A (near-)constant coordinate gives [0, 1] when inside (lo <= a0 <= hi, or
    ``flat_inside``, bool (...), when given) and an empty one if not.
    """
    flat = jnp.abs(d) <= EPS
    inside = (a0 >= lo) & (a0 <= hi) if flat_inside is None else flat_inside
    ta = _div(lo - a0, d, 0.0)
    tb = _div(hi - a0, d, 0.0)
    t0 = jnp.where(flat, jnp.where(inside, 0.0, 1.0), jnp.maximum(jnp.minimum(ta, tb), 0.0))
    t1 = jnp.where(flat, jnp.where(inside, 1.0, 0.0), jnp.minimum(jnp.maximum(ta, tb), 1.0))
    return t0, t1


def _left_interval(x0, dx):
    """Parameter interval of x0 + t*dx <= 0 within [0, 1] (finite bounds keep gradients finite)."""
    tc = _div(-x0, dx, 0.0)
    flat = jnp.abs(dx) <= EPS
    left_flat = x0 < 0.0  # an edge on x = 0 belongs to the inside part, not both
    t0 = jnp.where(flat, jnp.where(left_flat, 0.0, 1.0), jnp.where(dx > 0, 0.0, jnp.clip(tc, 0.0, 1.0)))
    t1 = jnp.where(flat, jnp.where(left_flat, 1.0, 0.0), jnp.where(dx > 0, jnp.clip(tc, 0.0, 1.0), 1.0))
    return t0, t1


def split_edges(edges, height, width):
    """Clip edges to the canvas rows and split each at x = 0.

    edges: float32 (E, 2, 2) as [[x0, y0], [x1, y1]] in pixels.
    Returns sub-edges float32 (2E, 2, 2): first the parts left of the canvas, projected onto
    x = -1/2 (they only add cover), then the parts with 0 <= x <= width. Parts right of the
    canvas and outside the rows are dropped (returned as zero-length).
    """
    # Per coordinate, not as (E, 2) points: a per-edge parameter times a point broadcasts
    # over the size-2 axis, and its transpose is a reduction over that axis, which XLA:CPU
    # runs as a slow library call (four of them were 6 ms of clipdraw-224's gradient). The
    # coordinates by one split (see ``components``), not four slices.
    x0, y0, x1, y1 = components(edges.reshape(-1, 4))
    dx, dy = x1 - x0, y1 - y0
    ty0, ty1 = _band_interval(y0, dy, 0.0, float(height))
    tl0, tl1 = _left_interval(x0, dx)
    ti0, ti1 = _band_interval(x0, dx, 0.0, float(width))

    def piece(t0, t1, project_left):
        a0 = jnp.maximum(t0, ty0)
        a1 = jnp.maximum(jnp.minimum(t1, ty1), a0)  # empty -> zero length
        if project_left:
            qx0 = qx1 = jnp.full_like(x0, -0.5)
        else:
            qx0, qx1 = x0 + a0 * dx, x0 + a1 * dx
        return jnp.stack([jnp.stack([qx0, y0 + a0 * dy], -1), jnp.stack([qx1, y0 + a1 * dy], -1)], axis=1)

    return jnp.concatenate([piece(tl0, tl1, True), piece(ti0, ti1, False)], axis=0)


def piece_counts(sub):
    """int32 (S,) unit pieces per sub-edge of ``sub`` float (S, 2, 2) pixels: the ceil of
    its larger extent; 0 for a zero-length one."""
    d = jnp.abs(sub[:, 1] - sub[:, 0])
    ext = jnp.maximum(d[:, 0], d[:, 1])  # not a max-reduction: XLA:CPU is slow on a size-2 axis
    return jnp.where(ext > 0, jnp.maximum(jnp.ceil(ext), 1.0), 0.0).astype(jnp.int32)


def piece_plan(edges, layer_ids, height, width, rematerialise=False):
    """Sub-edges and their piece bookkeeping: (sub float (2E, 2, 2) pixels from
    ``split_edges``, their layer int32 (2E,), ends int32 (2E,) the cumulative unit-piece
    counts). ``ends[-1]`` is the number of pieces the edges need; the counts carry no
    gradient, ``sub`` is differentiable in ``edges``. ``rematerialise`` (static bool):
    recompute the split in the backward pass instead of keeping its residuals (see
    ``tile_loop.tiled_composite``)."""
    split = jax.checkpoint(split_edges, static_argnums=(1, 2)) if rematerialise else split_edges
    sub = split(edges, height, width)
    sub_layer = jnp.concatenate([layer_ids, layer_ids])
    return sub, sub_layer, jnp.cumsum(piece_counts(jax.lax.stop_gradient(sub)))


def count_at_most(table, x):
    """int32 (...): how many entries of ``table`` int32 (S,), sorted ascending, are <= x
    int32 (...) (``searchsorted(table, x, side="right")``).

    A branchless binary search written out step by step (ceil(log2 S) gathers): XLA fuses
    it into one loop over x, where ``jnp.searchsorted`` runs a loop of separate kernels
    (2.4x slower for 16k pieces over 98k sub-edges on the 2-core CPU)."""
    size = table.shape[0]
    pos = jnp.zeros(jnp.shape(x), jnp.int32)
    step = 1 << (size.bit_length() - 1) if size else 0
    while step >= 1:   # pos + step - 1 is the last entry the step would count
        take = (pos + step <= size) & (table[jnp.minimum(pos + step - 1, size - 1)] <= x)
        pos = jnp.where(take, pos + step, pos)
        step //= 2
    return pos


def piece_owners(ends, start, n, written_out: bool = False):
    """int32 (n,): the sub-edge (index into :func:`piece_plan`'s ``sub``) that unit pieces
    ``start`` .. ``start + n - 1`` are cut from; clamped to the last sub-edge past the last
    piece. start: int32 () (traced is fine); n: static int. A binary search per piece:
    callers that make the same pieces twice keep the owners (``tile_loop``'s backward).

    written_out (static): :func:`count_at_most`, 2.4x faster to run but ~0.2 s more to
    compile per copy in a program (painterly-224's first gradient held four: +0.9 s);
    else ``jnp.searchsorted``. For the one place that runs on every call."""
    slot = start + jnp.arange(n, dtype=jnp.int32)
    if written_out:   # materialised: fused into each of its four readers, XLA would search four times
        return materialise(jnp.minimum(count_at_most(ends, slot), ends.shape[0] - 1), ends[-1] >= 0)
    return jnp.clip(jnp.searchsorted(ends, slot, side="right"), 0, ends.shape[0] - 1).astype(jnp.int32)


def pieces_of(sub, sub_layer, ends, owner, start):
    """Unit pieces ``start`` .. ``start + n - 1`` of the sub-edges of :func:`piece_plan`,
    given their :func:`piece_owners` ``owner`` int32 (n,).

    Returns (pieces float (n, 2, 2) pixels, their layer int32 (n,), -1 for a slot past the
    last piece). Piece placement (which sub-edge, which parameter range) is integer
    bookkeeping with no gradient; endpoints are affine in the sub-edge endpoints, so
    gradients flow through them.
    """
    slot = start + jnp.arange(owner.shape[0], dtype=jnp.int32)
    end = ends[owner]
    first = jnp.where(owner > 0, ends[jnp.maximum(owner - 1, 0)], 0)    # the owner's first piece
    count = jnp.maximum(end - first, 1).astype(sub.dtype)
    k = (slot - first).astype(sub.dtype)
    valid = slot < ends[-1]
    ta = jnp.where(valid, k / count, 0.0)[:, None]
    tb = jnp.where(valid, (k + 1.0) / count, 0.0)[:, None]
    s = sub[owner]
    d = s[:, 1] - s[:, 0]
    pieces = jnp.stack([s[:, 0] + ta * d, s[:, 0] + tb * d], axis=1)
    return pieces, jnp.where(valid, sub_layer[owner], -1)


def pieces_in_range(sub, sub_layer, ends, start, n):
    """:func:`pieces_of` pieces ``start`` .. ``start + n - 1`` (n static), owners found here."""
    return pieces_of(sub, sub_layer, ends, piece_owners(ends, start, n), start)


def make_pieces(edges, layer_ids, height, width, max_pieces):
    """Cut edges float (E, 2, 2) pixels (layer int32 (E,)) into ``max_pieces`` unit pieces.

    Returns (pieces float (P, 2, 2) pixels, their layer int32 (P,) (-1: an unused slot),
    the count needed int32 ()), P = max_pieces; pieces past the budget are dropped.
    """
    sub, sub_layer, ends = piece_plan(edges, layer_ids, height, width)
    pieces, layer = pieces_in_range(sub, sub_layer, ends, jnp.zeros((), jnp.int32), max_pieces)
    return pieces, layer, ends[-1]


# Sub-pixel offset added to piece coordinates before they are clipped to cells. Integer and
# half-integer coordinates are common (SVG files, tests); exactly on a grid line, the
# clipping's min / max have ties, where JAX splits gradients in halves, and nested ties (a
# vertex on a grid corner) then give wrong derivatives. Shifting everything by a fixed
# irrational-looking ~2e-5 px removes exact ties; the image moves by that much (far below
# float32 coverage noise). Applied in piece-local coordinates, where float32 resolves it.
TIE_BREAK = np.array([0.78539816 * 2.0 ** -15, 0.57721566 * 2.0 ** -15], np.float32)


def piece_footprint(pieces):
    """Base cell (row r0, column c0; int32 (P,) each) of each unit piece's 2 x 2 cell
    window, for pieces float (P, 2, 2) pixels."""
    lo = jnp.min(jax.lax.stop_gradient(pieces), axis=1) + TIE_BREAK
    return jnp.floor(lo[:, 1]).astype(jnp.int32), jnp.floor(lo[:, 0]).astype(jnp.int32)


def materialise(xs, always_true):
    """``xs`` unchanged, computed once into memory.

    Fused into each computation that reads them, XLA recomputes cheap values once per
    reader (measured: the pieces once per index array, 4 ms of a 20 ms render), and the
    copies need not agree to the last bit (one contracted into an FMA, one not). XLA:CPU
    drops optimization barriers, but it cannot fuse across a conditional whose predicate
    it cannot evaluate (``always_true`` is a run-time fact such as ``count >= 0``).
    """
    return jax.lax.cond(always_true, lambda v: v, lambda v: jax.tree.map(jnp.zeros_like, v), xs)


def placed_deltas(pieces, layer, always_true):
    """(layer, r0, c0 int32 (P,), deltas float (P, 2, 3)): each piece's layer and
    :func:`piece_footprint` materialised, and :func:`piece_deltas` computed on that very
    footprint, for pieces float (P, 2, 2) pixels and their layer int32 (P,).

    A footprint is a floor of a piece's coordinates, and a coordinate within an ulp of a
    grid line floors either way depending on rounding. Computed twice (for the indices
    and again inside the deltas' fusion) the two could disagree: the deltas then land a
    row or column off and the row's cover never cancels (a streak to the right edge,
    seen at LLVM -O0 on an SVG clip path). Materialised first, they cannot.
    ``always_true``: bool () true at run time (see :func:`materialise`).
    """
    layer, r0, c0 = materialise((layer,) + piece_footprint(pieces), always_true)
    return layer, r0, c0, piece_deltas(pieces, r0, c0)


def piece_deltas(pieces, r0, c0):
    """Accumulation deltas of unit pieces: float32 (P, 2, 3) for rows r0 + {0, 1} and
    columns c0 + {0, 1, 2}.

    For each of the 2 x 2 cells the piece may cross, clip the piece to the cell; the clipped
    part (signed height h, mean x m) adds h * (c + 1 - m) to the cell's own pixel and the
    rest of its cover, h * (m - c), to the next column; the prefix sum along x carries the
    cover onward. Closed form and smooth in the endpoints: its derivative is the edge VJP.
    """
    base = jnp.stack([c0, r0], axis=-1).astype(pieces.dtype)
    a = pieces[:, 0] - base + TIE_BREAK  # local coordinates in [0, 2]
    d = pieces[:, 1] - pieces[:, 0]
    # The window's outer column bounds are open (-2 and 4 instead of 0 and 2). A floor of
    # coordinates near a pixel line can round either way (TIE_BREAK is below half an ulp
    # past 512 px), and a steep piece placed one column over lies partly left of its
    # window: clipped there, it would lose that part's cover, whatever its size, and the
    # row would never cancel. Rows need no such care: a piece an ulp outside its rows loses
    # an ulp of cover. A vertical piece lies in exactly one column, decided by a0 < 1.
    col_t = [_band_interval(a[:, 0], d[:, 0], -2.0, 1.0, a[:, 0] < 1.0),
             _band_interval(a[:, 0], d[:, 0], 1.0, 4.0, a[:, 0] >= 1.0)]
    rows = []
    for r in (0, 1):
        ty0, ty1 = _band_interval(a[:, 1], d[:, 1], float(r), float(r) + 1.0)
        acc = [0.0, 0.0, 0.0]
        for c, (tx0, tx1) in enumerate(col_t):
            t0 = jnp.maximum(ty0, tx0)
            t1 = jnp.maximum(jnp.minimum(ty1, tx1), t0)
            h = d[:, 1] * (t1 - t0)
            m = a[:, 0] + d[:, 0] * (0.5 * (t0 + t1))
            acc[c] = acc[c] + h * (c + 1.0 - m)
            acc[c + 1] = acc[c + 1] + h * (m - c)
        rows.append(jnp.stack(acc, axis=-1))
    return jnp.stack(rows, axis=1)
