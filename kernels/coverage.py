"""Exact box-filtered winding integrals of polygons, with an analytic VJP (pure XLA).

For a set of directed line edges the box-filtered winding integral of pixel (i, j) is

    A[i, j] = sum over edges of  integral over the edge's part in row i of
              clamp(j + 1 - x(y), 0, 1) dy                        (DESIGN.md section 2)

that is, each edge adds the signed area it sweeps inside the pixel and its full signed
height ("cover") to every pixel to its right. We evaluate it the way accumulation
rasterisers do (libart, font-rs): split every edge into *unit pieces* (extent <= 1 px in x
and in y), let each piece write its area and cover deltas into 2 rows x 3 columns of
an accumulation buffer, and take a prefix sum along x. Work follows boundary length, not
pixels x edges.

Static shapes: the number of pieces is a static budget ``max_pieces``. Edges are first
clipped to the canvas rows, the part left of the canvas is projected onto x = -1/2 (there it
only adds cover, so only its height costs pieces), the part right of it is dropped. Each
remaining sub-edge gets ceil(extent) pieces; pieces past the budget are dropped, so a budget
that is too small loses boundary (``pieces_needed`` tells the exact need).

Gradient: A is linear in the per-piece deltas, and the deltas are closed-form functions of
the piece endpoints. The VJP therefore reads the adjoint image through a reverse prefix sum
at each piece's footprint and multiplies by the closed-form derivative: O(pieces), no
per-edge residuals (DESIGN.md section 3 measured why plain autodiff is not an option).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

_EPS = 1e-6  # below this |dy| (px) an edge is horizontal: no cover, no division by it


def _safe_div(num, den, fallback):
    """num / den where |den| > _EPS, else ``fallback``; gradients stay finite (double where)."""
    ok = jnp.abs(den) > _EPS
    safe = jnp.where(ok, den, 1.0)
    return jnp.where(ok, num / safe, fallback)


def _band_interval(a0, d, lo, hi):
    """Parameter interval [t0, t1] of a0 + t*d inside [lo, hi], intersected with [0, 1].

    a0, d: float32 (...). lo, hi: broadcastable bounds. Empty intervals come back with
    t1 <= t0. A (near-)constant coordinate gives [0, 1] when inside and an empty one if not.
    """
    flat = jnp.abs(d) <= _EPS
    inside = (a0 >= lo) & (a0 <= hi)
    ta = _safe_div(lo - a0, d, 0.0)
    tb = _safe_div(hi - a0, d, 0.0)
    t0 = jnp.where(flat, jnp.where(inside, 0.0, 1.0), jnp.maximum(jnp.minimum(ta, tb), 0.0))
    t1 = jnp.where(flat, jnp.where(inside, 1.0, 0.0), jnp.minimum(jnp.maximum(ta, tb), 1.0))
    return t0, t1


def _left_interval(x0, dx):
    """Parameter interval of x0 + t*dx <= 0 within [0, 1] (finite bounds keep gradients finite)."""
    tc = _safe_div(-x0, dx, 0.0)
    flat = jnp.abs(dx) <= _EPS
    left_flat = x0 < 0.0  # an edge on x = 0 belongs to the inside part, not both
    t0 = jnp.where(flat, jnp.where(left_flat, 0.0, 1.0), jnp.where(dx > 0, 0.0, jnp.clip(tc, 0.0, 1.0)))
    t1 = jnp.where(flat, jnp.where(left_flat, 1.0, 0.0), jnp.where(dx > 0, jnp.clip(tc, 0.0, 1.0), 1.0))
    return t0, t1


def _split_edges(edges, height, width):
    """Clip edges to the canvas rows and split each at x = 0.

    edges: float32 (E, 2, 2) as [[x0, y0], [x1, y1]] in pixels.
    Returns sub-edges float32 (2E, 2, 2): first the parts left of the canvas, projected onto
    x = -1/2 (they only add cover), then the parts with 0 <= x <= width. Parts right of the
    canvas and outside the rows are dropped (returned as zero-length).
    """
    p0, p1 = edges[:, 0], edges[:, 1]
    d = p1 - p0
    ty0, ty1 = _band_interval(p0[:, 1], d[:, 1], 0.0, float(height))
    tl0, tl1 = _left_interval(p0[:, 0], d[:, 0])
    ti0, ti1 = _band_interval(p0[:, 0], d[:, 0], 0.0, float(width))

    def piece(t0, t1, project_left):
        a0 = jnp.maximum(t0, ty0)
        a1 = jnp.maximum(jnp.minimum(t1, ty1), a0)  # empty -> zero length
        q0 = p0 + a0[:, None] * d
        q1 = p0 + a1[:, None] * d
        if project_left:
            q0 = q0.at[:, 0].set(-0.5)
            q1 = q1.at[:, 0].set(-0.5)
        return jnp.stack([q0, q1], axis=1)

    return jnp.concatenate([piece(tl0, tl1, True), piece(ti0, ti1, False)], axis=0)


def _piece_counts(sub):
    """Unit pieces per sub-edge: ceil of its larger extent; 0 for a zero-length one. int32 (S,)."""
    d = jnp.abs(sub[:, 1] - sub[:, 0])
    ext = jnp.maximum(d[:, 0], d[:, 1])  # not a max-reduction: XLA:CPU is slow on a size-2 axis
    return jnp.where(ext > 0, jnp.maximum(jnp.ceil(ext), 1.0), 0.0).astype(jnp.int32)


def _make_pieces(edges, layer_ids, height, width, max_pieces):
    """Unit pieces (P, 2, 2), their layer (P,) int32 (num_layers = dropped) and the count needed.

    Piece placement (which sub-edge, which parameter range) is integer bookkeeping with no
    gradient; endpoints are affine in the edge endpoints, so gradients flow through them.
    """
    sub = _split_edges(edges, height, width)
    sub_layer = jnp.concatenate([layer_ids, layer_ids])
    counts = _piece_counts(jax.lax.stop_gradient(sub))
    ends = jnp.cumsum(counts)
    starts = ends - counts
    slot = jnp.arange(max_pieces, dtype=jnp.int32)
    owner = jnp.clip(jnp.searchsorted(ends, slot, side="right"), 0, sub.shape[0] - 1)
    n = jnp.maximum(counts[owner], 1).astype(edges.dtype)
    k = (slot - starts[owner]).astype(edges.dtype)
    valid = slot < ends[-1]
    ta = jnp.where(valid, k / n, 0.0)[:, None]
    tb = jnp.where(valid, (k + 1.0) / n, 0.0)[:, None]
    s = sub[owner]
    d = s[:, 1] - s[:, 0]
    pieces = jnp.stack([s[:, 0] + ta * d, s[:, 0] + tb * d], axis=1)
    return pieces, jnp.where(valid, sub_layer[owner], -1), ends[-1]


# Sub-pixel offset added to piece coordinates before they are clipped to cells. Integer and
# half-integer coordinates are common (SVG files, tests); exactly on a grid line, the
# clipping's min / max have ties, where JAX splits gradients in halves, and nested ties (a
# vertex on a grid corner) then give wrong derivatives. Shifting everything by a fixed
# irrational-looking ~2e-5 px removes exact ties; the image moves by that much (far below
# float32 coverage noise). Applied in piece-local coordinates, where float32 resolves it.
_TIE_BREAK = np.array([0.78539816 * 2.0 ** -15, 0.57721566 * 2.0 ** -15], np.float32)


def _piece_footprint(pieces):
    """Base cell (row r0, column c0; int32 (P,)) of each unit piece's 2 x 2 cell window."""
    lo = jnp.min(jax.lax.stop_gradient(pieces), axis=1) + _TIE_BREAK
    return jnp.floor(lo[:, 1]).astype(jnp.int32), jnp.floor(lo[:, 0]).astype(jnp.int32)


def _piece_deltas(pieces, r0, c0):
    """Accumulation deltas of unit pieces: float32 (P, 2, 3) for rows r0 + {0, 1} and
    columns c0 + {0, 1, 2}.

    For each of the 2 x 2 cells the piece may cross, clip the piece to the cell; the clipped
    part (signed height h, mean x m) adds h * (c + 1 - m) to the cell's own pixel and the
    rest of its cover, h * (m - c), to the next column; the prefix sum along x carries the
    cover onward. Closed form and smooth in the endpoints: its derivative is the edge VJP.
    """
    base = jnp.stack([c0, r0], axis=-1).astype(pieces.dtype)
    a = pieces[:, 0] - base + _TIE_BREAK  # local coordinates in [0, 2]
    d = pieces[:, 1] - pieces[:, 0]
    col_t = [_band_interval(a[:, 0], d[:, 0], float(c), float(c) + 1.0) for c in (0, 1)]
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


def _flat_index(layer, r0, c0, num_layers, height, width):
    """Flat buffer index (P, 2, 3) of each delta in the (layers + 1, H + 2, W + 5) buffer.

    Buffer row i + 1 holds pixel row i and buffer column j + 2 holds pixel column j; the
    rows and columns around them catch footprints that touch the canvas borders (x < 0 cells
    only carry cover into column 0). The extra layer collects dropped pieces.
    """
    rows = jnp.clip(r0[:, None] + 1 + jnp.arange(2), 0, height + 1)
    cols = jnp.clip(c0[:, None] + 2 + jnp.arange(3), 0, width + 4)
    layer = jnp.where(layer < 0, num_layers, layer)
    return ((layer[:, None, None] * (height + 2) + rows[:, :, None]) * (width + 5) + cols[:, None, :])


def _accumulate(idx, deltas, num_layers, height, width):
    buf = jnp.zeros(((num_layers + 1) * (height + 2) * (width + 5),), deltas.dtype)
    buf = buf.at[idx.reshape(-1)].add(deltas.reshape(-1))
    buf = buf.reshape(num_layers + 1, height + 2, width + 5)
    return jnp.cumsum(buf, axis=2)[:num_layers, 1:height + 1, 2:width + 2]


def _winding_forward(edges, layer_ids, num_layers, height, width, max_pieces):
    """The winding integral and what its VJP needs (the integer footprint, not the pieces)."""
    pieces, layer, _ = _make_pieces(edges, layer_ids, height, width, max_pieces)
    r0, c0 = _piece_footprint(pieces)
    idx = _flat_index(layer, r0, c0, num_layers, height, width)
    out = _accumulate(idx, _piece_deltas(pieces, r0, c0), num_layers, height, width)
    return out, (edges, layer_ids, idx, r0, c0)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5))
def _winding(edges, layer_ids, num_layers, height, width, max_pieces):
    return _winding_forward(edges, layer_ids, num_layers, height, width, max_pieces)[0]


def _winding_fwd(edges, layer_ids, num_layers, height, width, max_pieces):
    return _winding_forward(edges, layer_ids, num_layers, height, width, max_pieces)


def _winding_bwd(num_layers, height, width, max_pieces, res, g):
    edges, layer_ids, idx, r0, c0 = res
    # Transpose of "prefix sum along x": a suffix sum of the adjoint image.
    g_buf = jnp.zeros((num_layers + 1, height + 2, width + 5), edges.dtype)
    g_buf = g_buf.at[:num_layers, 1:height + 1, 2:width + 2].set(g.astype(edges.dtype))
    g_buf = jnp.flip(jnp.cumsum(jnp.flip(g_buf, axis=2), axis=2), axis=2)
    g_deltas = g_buf.reshape(-1)[idx]

    def deltas_of_edges(e):
        pieces, _, _ = _make_pieces(e, layer_ids, height, width, max_pieces)
        return _piece_deltas(pieces, r0, c0)

    _, vjp = jax.vjp(deltas_of_edges, edges)
    (g_edges,) = vjp(g_deltas.astype(edges.dtype))
    return g_edges, None


_winding.defvjp(_winding_fwd, _winding_bwd)


def winding_integral(edges, layer_ids, *, num_layers: int, height: int, width: int, max_pieces: int):
    """Box-filtered winding integral of each layer's edges over a pixel grid.

    Args:
      edges: float32 (E, 2, 2) directed line edges [[x0, y0], [x1, y1]] in pixels (origin at
        the top-left corner, y down). Each layer's edges must form closed contours.
      layer_ids: int32 (E,) the layer (0 .. num_layers-1) each edge belongs to.
      num_layers, height, width, max_pieces: static ints. ``max_pieces`` is the budget of
        unit pieces (see module docstring and :func:`pieces_needed`).

    Returns:
      float32 (num_layers, height, width): the signed winding number integrated over each
      pixel (the pixel area is 1). Differentiable in ``edges`` with an analytic VJP.
    """
    edges = jnp.asarray(edges)
    if not jnp.issubdtype(edges.dtype, jnp.floating):
        edges = edges.astype(jnp.float32)
    layer_ids = jnp.asarray(layer_ids, jnp.int32)
    if edges.ndim != 3 or edges.shape[1:] != (2, 2):
        raise ValueError(f"edges must have shape (E, 2, 2), got {edges.shape}")
    if layer_ids.shape != edges.shape[:1]:
        raise ValueError(f"layer_ids must have shape ({edges.shape[0]},), got {layer_ids.shape}")
    for name, v in (("num_layers", num_layers), ("height", height), ("width", width), ("max_pieces", max_pieces)):
        if not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    if edges.shape[0] == 0:
        return jnp.zeros((num_layers, height, width), edges.dtype)
    return _winding(edges, layer_ids, int(num_layers), int(height), int(width), int(max_pieces))


def pieces_needed(edges, *, height: int, width: int) -> jax.Array:
    """int32 (): the number of unit pieces ``winding_integral`` needs for these edges."""
    edges = jnp.asarray(edges)
    if edges.shape[0] == 0:
        return jnp.zeros((), jnp.int32)
    return jnp.sum(_piece_counts(_split_edges(edges, height, width)))


def fill_rule_coverage(winding, fill_rule: str):
    """Map box-filtered winding integrals to coverage in [0, 1] (DESIGN.md section 2).

    nonzero: min(|A|, 1); evenodd: |A - 2 round(A / 2)|. Exact where a pixel holds no winding
    change other than 0 <-> +-1. float32 array in, same shape out.
    """
    if fill_rule == "nonzero":
        return jnp.minimum(jnp.abs(winding), 1.0)
    if fill_rule == "evenodd":
        return jnp.abs(winding - 2.0 * jnp.round(0.5 * winding))
    raise ValueError(f"fill_rule must be 'nonzero' or 'evenodd', got {fill_rule!r}")
