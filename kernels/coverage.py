"""Exact box-filtered winding integrals of polygons, with an analytic VJP (pure XLA).

For a set of directed line edges the box-filtered winding integral of pixel (i, j) is

    A[i, j] = sum over edges of  integral over the edge's part in row i of
              clamp(j + 1 - x(y), 0, 1) dy                        (shared/DESIGN.md section 2)

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
that is too small loses boundary (``pieces_needed`` tells the exact need). The piece math is
in :mod:`.pieces`, shared with the tiled kernel; this module is the dense reference.

Gradient: A is linear in the per-piece deltas, and the deltas are closed-form functions of
the piece endpoints. The VJP therefore reads the adjoint image through a reverse prefix sum
at each piece's footprint and multiplies by the closed-form derivative: O(pieces), no
per-edge residuals (shared/DESIGN.md section 3 measured why plain autodiff is not an option).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .pieces import make_pieces, placed_deltas, piece_counts, piece_deltas, split_edges


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
    pieces, layer, need = make_pieces(edges, layer_ids, height, width, max_pieces)
    layer, r0, c0, deltas = placed_deltas(pieces, layer, need >= 0)
    idx = _flat_index(layer, r0, c0, num_layers, height, width)
    out = _accumulate(idx, deltas, num_layers, height, width)
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
        pieces, _, _ = make_pieces(e, layer_ids, height, width, max_pieces)
        return piece_deltas(pieces, r0, c0)

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
    return jnp.sum(piece_counts(split_edges(edges, height, width)))


def fill_rule_coverage(winding, fill_rule: str):
    """Map box-filtered winding integrals to coverage in [0, 1] (shared/DESIGN.md section 2).

    nonzero: min(|A|, 1); evenodd: |A - 2 round(A / 2)|. Exact where a pixel holds no winding
    change other than 0 <-> +-1. float32 array in, same shape out.
    """
    if fill_rule == "nonzero":
        return jnp.minimum(jnp.abs(winding), 1.0)
    if fill_rule == "evenodd":
        return jnp.abs(winding - 2.0 * jnp.round(0.5 * winding))
    raise ValueError(f"fill_rule must be 'nonzero' or 'evenodd', got {fill_rule!r}")
