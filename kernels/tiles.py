"""Tiled winding integrals: only the (layer, tile) pairs that matter, with an analytic VJP.

``coverage.winding_integral`` returns a dense (layers, H, W) array, and everything after it
(fill rule, compositing) then costs layers x pixels even when each layer touches a few
tiles. Here the canvas is cut into T x T tiles (Vello, Pathfinder; shared/DESIGN.md section 5) and
each tile keeps a short list of *slots*: the layers whose coverage is not zero there, in
layer order, at most ``max_depth`` of them. A layer is in a tile's list when

  * a boundary piece writes an accumulation delta inside the tile ("active"), or
  * no boundary crosses the tile and its constant winding number is inside the shape
    ("full"; e.g. a large shape's interior or a background rectangle).

A slot's winding integral is the tile's own prefix sum of its deltas along x plus the
*backdrop*: the cover that the layer's deltas left of the tile carry into each tile row.
Backdrops come from per-(layer, row, tile column) sums, 1/T of the dense size.

Work after this stage follows depth x pixels, where depth is the largest number of layers
in any one tile, instead of layers x pixels.

Static shapes: ``max_depth`` slots per tile. Layers past it in a tile are dropped (an
output, the depth each tile needs, says by how much; ``depth_needed`` computes it alone).

Gradient: the slot windings are linear in the piece deltas (scatter, prefix sum, gather of
backdrops), and the deltas are the closed forms of ``coverage``. The custom VJP keeps only
integer bookkeeping, transposes the linear part, and re-derives the deltas from the edges.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .pieces import make_pieces, piece_deltas, placed_deltas

TILE = 16


def delta_positions(layer, r0, c0):
    """Layer, pixel row and pixel column of each of a piece's 2 x 3 deltas: int32 (P, 2, 3)."""
    rows = r0[:, None, None] + jnp.arange(2, dtype=jnp.int32)[None, :, None]
    cols = c0[:, None, None] + jnp.arange(3, dtype=jnp.int32)[None, None, :]
    lay = jnp.broadcast_to(layer[:, None, None], rows.shape[:2] + (3,))
    return lay, jnp.broadcast_to(rows, lay.shape), jnp.broadcast_to(cols, lay.shape)


def tile_membership(active, first_windings, evenodd):
    """Which layers hold a slot in which tile, and in what order.

    active: bool (L, NT), a piece delta of the layer lands in the tile. first_windings:
    float (L, NT), each layer's winding at the first pixel row of each tile carried in from
    the left (deltas summed over the columns left of the tile, the canvas's left edge
    included): the constant winding of a tile no boundary crosses. evenodd: bool (L,).
    Returns (contributes bool (L, NT): active, or inside the shape by its constant winding;
    rank int32 (L, NT): the slot's index within its tile, layers bottom first; depth_need
    int32 (NT,): slots per tile).
    """
    w = jnp.round(first_windings)
    inside_shape = jnp.where(evenodd[:, None], jnp.abs(w - 2.0 * jnp.round(0.5 * w)), jnp.abs(w)) > 0.5
    contributes = active | inside_shape
    rank = jnp.cumsum(contributes.astype(jnp.int32), axis=0) - 1
    return contributes, rank, jnp.sum(contributes, axis=0).astype(jnp.int32)


def _bookkeeping(lay, row, col, evenodd_of_layer, deltas, num_layers, height, width, tile, max_depth):
    """Integer layout of the tiled accumulation (no gradient flows through it).

    lay, row, col: int32 (P, 2, 3) delta positions (lay < 0: dropped piece).
    deltas: float (P, 2, 3) values, used only to find tiles that are fully inside a layer.
    Returns a dict of int32 index arrays (see ``_accumulate``) and the depth each tile needs.
    """
    nty, ntx = -(-height // tile), -(-width // tile)
    nt = nty * ntx
    L = num_layers
    valid = (lay >= 0) & (row >= 0) & (row < height) & (col < width)
    # Backdrop bins along a row: bin 0 holds columns < 0 (cover of edges left of the
    # canvas), bin k + 1 holds tile column k.
    bin_ = jnp.where(col < 0, 0, col // tile + 1)
    row_idx = jnp.where(valid, (bin_ * (L + 1) + lay) * height + row, (L + 1) * height * (ntx + 1))
    # A tile is active for a layer when a delta lands inside it.
    inside = valid & (col >= 0)
    tile_id = (row // tile) * ntx + col // tile
    act_idx = jnp.where(inside, lay * nt + tile_id, L * nt)
    active = jnp.zeros((L * nt,), bool).at[act_idx.reshape(-1)].set(True, mode="drop").reshape(L, nt)
    # Constant winding of an inactive tile: the backdrop of its first row (only the deltas
    # in first rows of tiles are summed for it).
    first_size = L * nty * (ntx + 1)
    first_idx = jnp.where(valid & (row % tile == 0), (lay * nty + row // tile) * (ntx + 1) + bin_, first_size)
    first = jnp.zeros((first_size,), deltas.dtype).at[first_idx.reshape(-1)].add(
        deltas.reshape(-1), mode="drop")
    first = jnp.cumsum(first.reshape(L, nty, ntx + 1), axis=2)[:, :, :ntx].reshape(L, nt)
    contributes, rank, depth_need = tile_membership(active, first, evenodd_of_layer)
    kept = contributes & (rank < max_depth)
    tiles = jnp.arange(nt, dtype=jnp.int32)[None, :]
    slot_of = jnp.where(kept, rank * nt + tiles, max_depth * nt)         # (L, NT); dump slot at the end
    layers = jnp.broadcast_to(jnp.arange(L, dtype=jnp.int32)[:, None], (L, nt))
    slot_layer = jnp.full((max_depth * nt + 1,), L, jnp.int32).at[slot_of.reshape(-1)].set(
        layers.reshape(-1), mode="drop")[:max_depth * nt]
    # Local position of each delta inside its slot's T x T block.
    slot = slot_of.reshape(-1)[jnp.clip(lay, 0, L - 1) * nt + jnp.clip(tile_id, 0, nt - 1)]
    local_idx = jnp.where(inside & (slot < max_depth * nt),
                          (slot * tile + row % tile) * tile + col % tile,
                          max_depth * nt * tile * tile)
    # Backdrop gather index of every slot row: (layer, pixel row, tile column).
    t = jnp.arange(max_depth * nt, dtype=jnp.int32) % nt
    prow = (t // ntx)[:, None] * tile + jnp.arange(tile, dtype=jnp.int32)[None, :]
    bd_idx = jnp.where((prow < height) & (slot_layer[:, None] < L),
                       ((t % ntx)[:, None] * (L + 1) + slot_layer[:, None]) * height + prow,
                       (L + 1) * height * (ntx + 1))
    return dict(row_idx=row_idx, local_idx=local_idx, bd_idx=bd_idx, slot_layer=slot_layer), depth_need


def prefix_sum_last(x):
    """Inclusive prefix sum along the last (short) axis as a product with a triangular
    matrix: XLA's CPU cumsum (a reduce-window) is several times slower at these sizes, and
    the product's transpose is again a product."""
    n = x.shape[-1]
    tri = jnp.asarray(np.triu(np.ones((n, n))), x.dtype)   # tri[k, j] = 1 for k <= j
    return jnp.matmul(x, tri, precision=jax.lax.Precision.HIGHEST)


def _accumulate(deltas, row_idx, local_idx, bd_idx, num_layers, height, width, tile, max_depth):
    """Slot windings float (D * NT, T, T) from deltas float (P, 2, 3): linear in ``deltas``."""
    ntx = -(-width // tile)
    nslots = bd_idx.shape[0]
    flat = deltas.reshape(-1)
    local = jnp.zeros((nslots * tile * tile,), deltas.dtype).at[local_idx.reshape(-1)].add(flat, mode="drop")
    local = prefix_sum_last(local.reshape(nslots, tile, tile))
    rowsum = jnp.zeros(((ntx + 1) * (num_layers + 1) * height,), deltas.dtype)
    rowsum = rowsum.at[row_idx.reshape(-1)].add(flat, mode="drop")
    # Prefix over the bins, which are the leading axis: (n, n) @ (n, M) with a large M.
    n = ntx + 1
    tri = jnp.asarray(np.tril(np.ones((n, n))), deltas.dtype)   # tri[j, k] = 1 for k <= j
    backdrop = jnp.matmul(tri, rowsum.reshape(n, -1), precision=jax.lax.Precision.HIGHEST).reshape(-1)
    return local + backdrop.at[bd_idx].get(mode="fill", fill_value=0.0)[:, :, None]


def _tile_forward(edges, layer_ids, evenodd, num_layers, height, width, max_pieces, max_depth, tile):
    pieces, layer, pieces_need = make_pieces(edges, layer_ids, height, width, max_pieces)
    layer, r0, c0, deltas = placed_deltas(pieces, layer, pieces_need >= 0)
    lay, row, col = delta_positions(layer, r0, c0)
    book, depth_need = _bookkeeping(lay, row, col, evenodd, jax.lax.stop_gradient(deltas), num_layers, height,
                                    width, tile, max_depth)
    out = _accumulate(deltas, book["row_idx"], book["local_idx"], book["bd_idx"], num_layers, height, width, tile,
                      max_depth)
    return (out, book["slot_layer"], depth_need, pieces_need), (edges, layer_ids, book, r0, c0)


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4, 5, 6, 7, 8))
def _tiled(edges, layer_ids, evenodd, num_layers, height, width, max_pieces, max_depth, tile):
    return _tile_forward(edges, layer_ids, evenodd, num_layers, height, width, max_pieces, max_depth, tile)[0]


def _tiled_fwd(edges, layer_ids, evenodd, num_layers, height, width, max_pieces, max_depth, tile):
    return _tile_forward(edges, layer_ids, evenodd, num_layers, height, width, max_pieces, max_depth, tile)


def _tiled_bwd(num_layers, height, width, max_pieces, max_depth, tile, res, g):
    edges, layer_ids, book, r0, c0 = res
    g_out = g[0].astype(edges.dtype)
    p = r0.shape[0]

    def accumulate(d):
        return _accumulate(d, book["row_idx"], book["local_idx"], book["bd_idx"], num_layers, height, width, tile,
                           max_depth)

    # The accumulation is linear: its transpose (gathers and suffix sums) maps the adjoint
    # slot images to adjoint deltas without any residual from the forward values.
    (g_deltas,) = jax.linear_transpose(accumulate, jax.ShapeDtypeStruct((p, 2, 3), edges.dtype))(g_out)

    def deltas_of_edges(e):
        pieces, _, _ = make_pieces(e, layer_ids, height, width, max_pieces)
        return piece_deltas(pieces, r0, c0)

    _, vjp = jax.vjp(deltas_of_edges, edges)
    (g_edges,) = vjp(g_deltas)
    return g_edges, None, None


_tiled.defvjp(_tiled_fwd, _tiled_bwd)


def tile_grid(height: int, width: int, tile: int = TILE):
    """(tile rows, tile columns) of the grid that covers a height x width canvas."""
    return -(-height // tile), -(-width // tile)


def tiled_winding(edges, layer_ids, evenodd, *, num_layers: int, height: int, width: int, max_pieces: int,
                  max_depth: int, tile: int = TILE):
    """Box-filtered winding integrals of each layer, kept only where the layer has coverage.

    Args:
      edges: float32 (E, 2, 2) directed line edges in pixels (closed contours per layer).
      layer_ids: int32 (E,) layer of each edge, 0 .. num_layers - 1.
      evenodd: bool (num_layers,) fill rule of each layer (True: even-odd, False: nonzero);
        it only decides which edge-free tiles are inside a layer.
      num_layers, height, width, max_pieces: static ints as in ``winding_integral``.
      max_depth: static int, slots per tile.
      tile: static int, tile side in pixels.

    Returns:
      winding: float32 (max_depth, NT, tile, tile); slot (d, t) of tile t (row-major over a
        ``tile_grid`` grid) holds the winding integral of its layer over that tile's pixels
        (pixels past the canvas edge hold garbage).
      slot_layer: int32 (max_depth, NT), the layer of each slot in increasing layer order
        within a tile, ``num_layers`` for an empty slot (its winding is 0).
      depth_need: int32 (NT,), how many layers each tile has; above ``max_depth`` the
        extra (topmost) layers were dropped.
      pieces_need: int32 (), the unit pieces the edges need; above ``max_pieces`` the
        extra ones were dropped.
    Differentiable in ``edges`` (analytic VJP); the other outputs are integers.
    """
    edges = jnp.asarray(edges)
    layer_ids = jnp.asarray(layer_ids, jnp.int32)
    evenodd = jnp.asarray(evenodd, bool)
    if edges.ndim != 3 or edges.shape[1:] != (2, 2):
        raise ValueError(f"edges must have shape (E, 2, 2), got {edges.shape}")
    if layer_ids.shape != edges.shape[:1]:
        raise ValueError(f"layer_ids must have shape ({edges.shape[0]},), got {layer_ids.shape}")
    if evenodd.shape != (num_layers,):
        raise ValueError(f"evenodd must have shape ({num_layers},), got {evenodd.shape}")
    for name, v in (("num_layers", num_layers), ("height", height), ("width", width), ("max_pieces", max_pieces),
                    ("max_depth", max_depth), ("tile", tile)):
        if not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    nty, ntx = tile_grid(height, width, tile)
    if edges.shape[0] == 0:
        nt = nty * ntx
        return (jnp.zeros((max_depth, nt, tile, tile), edges.dtype), jnp.full((max_depth, nt), num_layers, jnp.int32),
                jnp.zeros((nt,), jnp.int32), jnp.zeros((), jnp.int32))
    out, slot_layer, need, pieces_need = _tiled(edges, layer_ids, evenodd, int(num_layers), int(height), int(width),
                                   int(max_pieces), int(max_depth), int(tile))
    nt = nty * ntx
    return out.reshape(max_depth, nt, tile, tile), slot_layer.reshape(max_depth, nt), need, pieces_need


def untile(x, height: int, width: int):
    """Tiles float (NT, T, T, ...) of a ``tile_grid`` grid, row-major -> the float
    (height, width, ...) canvas image (pixels past the canvas are cut off)."""
    tile = x.shape[1]
    nty, ntx = tile_grid(height, width, tile)
    rest = x.shape[3:]
    img = x.reshape((nty, ntx, tile, tile) + rest)
    img = jnp.moveaxis(img, 2, 1).reshape((nty * tile, ntx * tile) + rest)
    return img[:height, :width]


def tile_image(img, tile: int = TILE):
    """Image float (H, W, ...) -> float (NT, T, T, ...) tiles of a ``tile_grid`` grid,
    row-major, zero-padded to whole tiles."""
    height, width = img.shape[:2]
    nty, ntx = tile_grid(height, width, tile)
    pad = [(0, nty * tile - height), (0, ntx * tile - width)] + [(0, 0)] * (img.ndim - 2)
    x = jnp.pad(img, pad).reshape((nty, tile, ntx, tile) + img.shape[2:])
    return jnp.moveaxis(x, 2, 1).reshape((nty * ntx, tile, tile) + img.shape[2:])


def depth_needed(edges, layer_ids, evenodd, *, num_layers: int, height: int, width: int, max_pieces: int,
                 tile: int = TILE) -> jax.Array:
    """int32 (): the ``max_depth`` that ``tiled_winding`` needs (the most layers in a tile)."""
    edges = jnp.asarray(edges)
    if edges.shape[0] == 0:
        return jnp.zeros((), jnp.int32)
    pieces, layer, need = make_pieces(edges, jnp.asarray(layer_ids, jnp.int32), height, width, max_pieces)
    layer, r0, c0, deltas = placed_deltas(pieces, layer, need >= 0)
    lay, row, col = delta_positions(layer, r0, c0)
    _, need = _bookkeeping(lay, row, col, jnp.asarray(evenodd, bool), deltas, num_layers, height, width, tile, 1)
    return jnp.max(need)
