"""Tiled compositing with dynamic work loops: exact for any scene, with no work budgets.

``tiles.tiled_winding`` has static budgets: ``max_pieces`` unit pieces and ``max_depth``
slots per tile. Inside a caller's ``jax.jit`` nothing is known about the scene, so the
budgets had to be "every layer in every tile", which made the plain
``jax.jit(dv.render)`` idiom 10-20x slower than a budgeted call, and a budget that was too
small dropped layers. Here both are *chunk sizes* of loops whose trip counts are computed
in the program:

  * pieces are made ``piece_chunk`` at a time (one chunk when the scene needs no more:
    its pieces are kept, and the other chunks are re-made where they are needed);
  * each tile's layers (in layer order, as in ``tiled_winding``) are composited
    ``depth_chunk`` slots at a time, front to back, for as many chunks as the deepest tile
    needs.

A chunk of slots is shaded by the caller's ``shade(winding, slot_layer, aux, params)``,
which returns the chunk's premultiplied colour over transparent black, float
(NT, T, T, 4), and its transmittance prod(1 - alpha), float (NT, T, T). Chunks combine
with "over": out = sum_d T_d * C_d, where T_d is the transmittance of the chunks above d.

Gradient (a custom VJP, so the loops need no stored intermediates): the forward pass
keeps T_d per chunk (one float per pixel per chunk). The backward pass walks the chunks
bottom up, rebuilding B_d, the composite of the chunks below d; the adjoint of C_d is
T_d * g and that of the chunk's transmittance is T_d * <g, B_d>. Each chunk's shading is
re-run under ``jax.vjp``; the winding's linear part (scatter of piece deltas, prefix sums,
backdrops) is transposed by hand, and the piece deltas are pulled back to the sub-edges
chunk by chunk. No division by 1 - alpha (opaque layers are the common case).
"""
from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .pieces import piece_deltas, piece_footprint, piece_plan, pieces_in_range
from .tiles import TILE, delta_positions, materialise, prefix_sum_last, tile_grid, tile_membership


class _Grid(NamedTuple):
    """Static sizes: layers L, canvas, tile side, tile grid, chunk sizes."""
    num_layers: int
    height: int
    width: int
    tile: int
    nty: int
    ntx: int
    piece_chunk: int
    depth_chunk: int

    @property
    def nt(self):
        return self.nty * self.ntx

    @property
    def rowsum_size(self):
        """(tile-column bins) x (layers + 1) x rows: the backdrop table."""
        return (self.ntx + 1) * (self.num_layers + 1) * self.height

    @property
    def max_chunks(self):
        """Depth chunks that every layer in one tile would need."""
        return -(-self.num_layers // self.depth_chunk)


class _Chunk(NamedTuple):
    """One chunk of pieces: their deltas float (P, 2, 3) and integer placement (P, 2, 3)."""
    deltas: jax.Array
    lay: jax.Array
    row: jax.Array
    col: jax.Array


def _piece_chunk(sub, sub_layer, ends, c, grid: _Grid):
    """Pieces of chunk ``c`` (int32 ()) -> (_Chunk, r0, c0); deltas differentiable in ``sub``."""
    pieces, layer = pieces_in_range(sub, sub_layer, ends, c * grid.piece_chunk, grid.piece_chunk)
    r0, c0 = piece_footprint(pieces)
    deltas = piece_deltas(pieces, r0, c0)
    layer, r0, c0 = materialise((layer, r0, c0), ends[-1] >= 0)
    lay, row, col = delta_positions(layer, r0, c0)
    return _Chunk(deltas, lay, row, col), r0, c0


def _chunk_with_deltas(sub, sub_layer, ends, c, grid: _Grid):
    """(deltas float (P, 2, 3), the _Chunk) of piece chunk ``c``: for ``jax.vjp`` with
    ``has_aux``, the deltas as a function of ``sub``."""
    ch = _piece_chunk(sub, sub_layer, ends, c, grid)[0]
    return ch.deltas, ch


def _valid(ch: _Chunk, grid: _Grid):
    return (ch.lay >= 0) & (ch.row >= 0) & (ch.row < grid.height) & (ch.col < grid.width)


def _bin(ch: _Chunk, grid: _Grid):
    """int32 (P, 2, 3): each delta's backdrop bin (0: columns < 0, the cover of edges left
    of the canvas; k + 1: tile column k)."""
    return jnp.where(ch.col < 0, 0, ch.col // grid.tile + 1)


def _row_index(ch: _Chunk, grid: _Grid):
    """int32 (P, 2, 3): each delta's cell of the backdrop table; past the end if dropped."""
    return jnp.where(_valid(ch, grid), (_bin(ch, grid) * (grid.num_layers + 1) + ch.lay) * grid.height + ch.row,
                     grid.rowsum_size)


def _tile_of(ch: _Chunk, grid: _Grid):
    """(inside bool (P, 2, 3): the delta lands on the canvas, tile id int32 (P, 2, 3))."""
    inside = _valid(ch, grid) & (ch.col >= 0)
    return inside, (ch.row // grid.tile) * grid.ntx + ch.col // grid.tile


class _Tally(NamedTuple):
    """What pass 1 sums over all piece chunks."""
    active: jax.Array    # bool (L * NT): a delta of the layer lands in the tile
    first: jax.Array     # float (L * nty * (ntx + 1)): first-row sums (constant windings)
    rowsum: jax.Array    # float (rowsum_size): deltas summed per (bin, layer, row)


def _tally(t: _Tally, ch: _Chunk, grid: _Grid) -> _Tally:
    L, nt, ntx, nty = grid.num_layers, grid.nt, grid.ntx, grid.nty
    inside, tile_id = _tile_of(ch, grid)
    act_idx = jnp.where(inside, ch.lay * nt + tile_id, L * nt).reshape(-1)
    first_size = L * nty * (ntx + 1)
    first_idx = jnp.where(_valid(ch, grid) & (ch.row % grid.tile == 0),
                          (ch.lay * nty + ch.row // grid.tile) * (ntx + 1) + _bin(ch, grid), first_size)
    flat = ch.deltas.reshape(-1)
    return _Tally(t.active.at[act_idx].set(True, mode="drop"),
                  t.first.at[first_idx.reshape(-1)].add(jax.lax.stop_gradient(flat), mode="drop"),
                  t.rowsum.at[_row_index(ch, grid).reshape(-1)].add(flat, mode="drop"))


class _Layout(NamedTuple):
    """Pass 1's result: everything the depth chunks read."""
    chunk0: _Chunk          # the first piece chunk (the only one in the common case)
    num_piece_chunks: jax.Array   # int32 ()
    num_depth_chunks: jax.Array   # int32 ()
    rank: jax.Array         # int32 (L * NT): a layer's slot index within a tile (-1: none)
    layer_at: jax.Array     # int32 (max_chunks * depth_chunk * NT + 1): layer of slot (rank, tile); L: empty
    backdrop: jax.Array     # float (rowsum_size): the cover carried into each (bin, layer, row)
    pieces_need: jax.Array  # int32 ()
    depth_need: jax.Array   # int32 (NT,)


def _prefix_over_bins(x, grid: _Grid, transpose=False):
    """Inclusive prefix sum over the backdrop table's bins (its leading axis), or its
    transpose (a suffix sum): a product with a triangular matrix (see ``prefix_sum_last``)."""
    n = grid.ntx + 1
    tri = np.tril(np.ones((n, n)))   # tri[j, k] = 1 for k <= j
    tri = jnp.asarray(tri.T if transpose else tri, x.dtype)
    return jnp.matmul(tri, x.reshape(n, -1), precision=jax.lax.Precision.HIGHEST).reshape(-1)


def _layout(sub, sub_layer, ends, evenodd, grid: _Grid) -> _Layout:
    """Pass 1: all piece chunks -> active tiles, constant windings, backdrops, slot ranks."""
    L, nt, nty, ntx = grid.num_layers, grid.nt, grid.nty, grid.ntx
    dt = sub.dtype
    pieces_need = ends[-1]
    num_pc = jnp.maximum(-(-pieces_need // grid.piece_chunk), 1)
    zero = jnp.zeros((), jnp.int32)

    def tally_chunk(c, carry):   # one copy of the piece code: chunk 0 is kept from the loop
        tally, chunk0 = carry
        ch = _piece_chunk(sub, sub_layer, ends, c, grid)[0]
        chunk0 = jax.tree.map(lambda new, old: jnp.where(c == 0, new, old), ch, chunk0)
        return _tally(tally, ch, grid), chunk0

    p6 = (grid.piece_chunk, 2, 3)
    chunk0 = _Chunk(jnp.zeros(p6, dt), *(jnp.zeros(p6, jnp.int32) for _ in range(3)))
    tally = _Tally(jnp.zeros((L * nt,), bool), jnp.zeros((L * nty * (ntx + 1),), dt),
                   jnp.zeros((grid.rowsum_size,), dt))
    tally, chunk0 = jax.lax.fori_loop(zero, num_pc, tally_chunk, (tally, chunk0))
    contributes, rank, depth_need = tile_membership(tally.active.reshape(L, nt), tally.first, evenodd, nty, ntx)
    slots = grid.max_chunks * grid.depth_chunk * nt
    tiles = jnp.arange(nt, dtype=jnp.int32)[None, :]
    where = jnp.where(contributes, rank * nt + tiles, slots).reshape(-1)
    layers = jnp.broadcast_to(jnp.arange(L, dtype=jnp.int32)[:, None], (L, nt)).reshape(-1)
    layer_at = jnp.full((slots + 1,), L, jnp.int32).at[where].set(layers, mode="drop")
    num_dc = -(-jnp.max(depth_need) // grid.depth_chunk)
    return _Layout(chunk0, num_pc, num_dc, jnp.where(contributes, rank, -1).reshape(-1), layer_at,
                   _prefix_over_bins(tally.rowsum, grid), pieces_need, depth_need)


def _local_index(ch: _Chunk, lay_rank, d, grid: _Grid):
    """int32 (P * 6,): each delta's position in depth chunk ``d``'s (K * NT, T, T) slot
    blocks, past the end when its slot is in another chunk or it is dropped."""
    K, nt, T = grid.depth_chunk, grid.nt, grid.tile
    inside, tile_id = _tile_of(ch, grid)
    r = lay_rank[jnp.clip(ch.lay, 0, grid.num_layers - 1) * nt + jnp.clip(tile_id, 0, nt - 1)] - d * K
    ok = inside & (r >= 0) & (r < K)
    return jnp.where(ok, ((r * nt + tile_id) * T + ch.row % T) * T + ch.col % T, K * nt * T * T).reshape(-1)


def _backdrop_index(slot_layer, grid: _Grid):
    """int32 (K * NT, T): the backdrop cell of every slot row (layer, pixel row, tile column)."""
    T, ntx = grid.tile, grid.ntx
    t = jnp.arange(slot_layer.shape[0], dtype=jnp.int32) % grid.nt
    prow = (t // ntx)[:, None] * T + jnp.arange(T, dtype=jnp.int32)[None, :]
    return jnp.where((prow < grid.height) & (slot_layer[:, None] < grid.num_layers),
                     ((t % ntx)[:, None] * (grid.num_layers + 1) + slot_layer[:, None]) * grid.height + prow,
                     grid.rowsum_size)


def _slot_layer(lay: _Layout, d, grid: _Grid):
    """int32 (K * NT,): the layer of each slot of depth chunk ``d`` (L: empty)."""
    n = grid.depth_chunk * grid.nt
    return jax.lax.dynamic_slice(lay.layer_at, (d * n,), (n,))


def _chunk_winding(sub, sub_layer, ends, lay: _Layout, d, grid: _Grid):
    """float (K * NT, T, T): the winding integrals of depth chunk ``d``'s slots."""
    K, nt, T = grid.depth_chunk, grid.nt, grid.tile
    size = K * nt * T * T
    local = jnp.zeros((size,), sub.dtype).at[_local_index(lay.chunk0, lay.rank, d, grid)].add(
        lay.chunk0.deltas.reshape(-1), mode="drop")

    def more(c, acc):   # piece chunks past the first (scenes past the piece chunk)
        ch = _piece_chunk(sub, sub_layer, ends, c, grid)[0]
        return acc.at[_local_index(ch, lay.rank, d, grid)].add(ch.deltas.reshape(-1), mode="drop")

    local = jax.lax.fori_loop(1, lay.num_piece_chunks, more, local)
    local = prefix_sum_last(local.reshape(K * nt, T, T))
    bd = lay.backdrop.at[_backdrop_index(_slot_layer(lay, d, grid), grid)].get(mode="fill", fill_value=0.0)
    return local + bd[:, :, None]


def _shade_chunk(shade, sub, sub_layer, ends, lay, d, aux, params, grid: _Grid):
    winding = _chunk_winding(sub, sub_layer, ends, lay, d, grid)
    shape = (grid.depth_chunk, grid.nt)
    return shade(winding.reshape(shape + (grid.tile, grid.tile)), _slot_layer(lay, d, grid).reshape(shape), aux,
                 params)


def _composite(sub, sub_layer, ends, evenodd, aux, params, shade, grid: _Grid, keep_transmittance: bool):
    """Front to back over depth chunks: (tiles float (NT, T, T, 4), layout, the T_d per
    chunk float (max_chunks, NT, T, T) or None)."""
    lay = _layout(sub, sub_layer, ends, evenodd, grid)
    T = grid.tile
    out = jnp.zeros((grid.nt, T, T, 4), sub.dtype)
    trans = jnp.ones((grid.nt, T, T), sub.dtype)
    kept = jnp.zeros((grid.max_chunks, grid.nt, T, T), sub.dtype) if keep_transmittance else None

    def step(i, carry):
        out, trans, kept = carry
        d = lay.num_depth_chunks - 1 - i
        colour, chunk_trans = _shade_chunk(shade, sub, sub_layer, ends, lay, d, aux, params, grid)
        if kept is not None:
            kept = jax.lax.dynamic_update_index_in_dim(kept, trans, d, 0)
        return out + trans[..., None] * colour, trans * chunk_trans, kept

    out, _, kept = jax.lax.fori_loop(0, lay.num_depth_chunks, step, (out, trans, kept))
    return out, lay, kept


@functools.partial(jax.custom_vjp, nondiff_argnums=(6, 7))
def _tiled_composite(sub, sub_layer, ends, evenodd, aux, params, shade, grid):
    return _composite(sub, sub_layer, ends, evenodd, aux, params, shade, grid, False)[0]


def _tiled_composite_fwd(sub, sub_layer, ends, evenodd, aux, params, shade, grid):
    out, lay, kept = _composite(sub, sub_layer, ends, evenodd, aux, params, shade, grid, True)
    return out, (sub, sub_layer, ends, aux, params, lay, kept)


def _tiled_composite_bwd(shade, grid: _Grid, res, g):
    sub, sub_layer, ends, aux, params, lay, kept = res
    T, K, nt = grid.tile, grid.depth_chunk, grid.nt
    g = g.astype(sub.dtype)
    tri_t = jnp.asarray(np.tril(np.ones((T, T))), sub.dtype)   # transpose of the prefix product
    num_dc = lay.num_depth_chunks

    def step(d, carry):
        """Depth chunk d: the adjoint of its slot windings, transposed to piece deltas and to
        the backdrop table. The first piece chunk's deltas are summed over depth chunks and
        pulled back once, after the last one, with the backdrops' share; other piece chunks
        are pulled back at once (one copy of that VJP in the program)."""
        below, g_chunk0, g_backdrop, g_sub, g_params = carry
        (colour, chunk_trans), vjp = jax.vjp(
            lambda w, p: shade(w, _slot_layer(lay, d, grid).reshape(K, nt), aux, p),
            _chunk_winding(sub, sub_layer, ends, lay, d, grid).reshape(K, nt, T, T), params)
        above = kept[d]
        g_w, g_p = vjp((g * above[..., None], above * jnp.sum(g * below, axis=-1)))
        g_w = g_w.reshape(K * nt, T, T)
        # Transpose of winding = prefix_x(scatter(deltas)) + backdrop[rows]:
        g_local = jnp.matmul(g_w, tri_t, precision=jax.lax.Precision.HIGHEST).reshape(-1)
        bd_idx = _backdrop_index(_slot_layer(lay, d, grid), grid)
        g_backdrop = g_backdrop.at[bd_idx].add(jnp.sum(g_w, axis=-1), mode="drop")
        g_chunk0 = g_chunk0 + jnp.take(g_local, _local_index(lay.chunk0, lay.rank, d, grid), mode="fill",
                                       fill_value=0.0).reshape(g_chunk0.shape)
        last = d == num_dc - 1
        g_rowsum = jax.lax.cond(last, lambda b: _prefix_over_bins(b, grid, transpose=True), jnp.zeros_like,
                                g_backdrop)

        def pull(c, acc):
            _, vjp, ch = jax.vjp(lambda s: _chunk_with_deltas(s, sub_layer, ends, c, grid), sub, has_aux=True)
            from_slots = jnp.take(g_local, _local_index(ch, lay.rank, d, grid), mode="fill",
                                  fill_value=0.0).reshape(ch.lay.shape)
            from_rows = jnp.take(g_rowsum, _row_index(ch, grid), mode="fill", fill_value=0.0)
            return acc + vjp(jnp.where(c == 0, g_chunk0, from_slots) + from_rows)[0]

        g_sub = jax.lax.fori_loop(jnp.where(last, 0, 1), lay.num_piece_chunks, pull, g_sub)
        g_params = jax.tree.map(jnp.add, g_params, g_p)
        return colour + chunk_trans[..., None] * below, g_chunk0, g_backdrop, g_sub, g_params

    carry = (jnp.zeros_like(g), jnp.zeros_like(lay.chunk0.deltas), jnp.zeros_like(lay.backdrop), jnp.zeros_like(sub),
             jax.tree.map(jnp.zeros_like, params))
    _, _, _, g_sub, g_params = jax.lax.fori_loop(0, num_dc, step, carry)
    return g_sub, None, None, None, None, g_params


_tiled_composite.defvjp(_tiled_composite_fwd, _tiled_composite_bwd)


def tiled_composite(edges, layer_ids, evenodd, aux, params, shade: Callable, *, num_layers: int, height: int,
                    width: int, piece_chunk: int, depth_chunk: int, tile: int = TILE):
    """Premultiplied tiles of a flat list of layers, exact for any scene (no budgets).

    Args:
      edges: float32 (E, 2, 2) directed line edges in pixels (closed contours per layer).
      layer_ids: int32 (E,) layer of each edge, 0 .. num_layers - 1.
      evenodd: bool (num_layers,) fill rule of each layer (decides which edge-free tiles
        are inside a layer; ``shade`` applies the rule to the windings).
      aux, params: pytrees passed to ``shade``; ``params`` (floats) is differentiable,
        ``aux`` (integers, booleans) is not.
      shade: static callable ``shade(winding float (K, NT, T, T), slot_layer int32 (K, NT),
        aux, params) -> (colour float (NT, T, T, 4), transmittance float (NT, T, T))``:
        a chunk of K slots per tile (bottom first; layer ``num_layers`` marks an empty
        slot, whose winding is 0) composited over transparent black, and prod(1 - alpha).
      num_layers, height, width: static ints.
      piece_chunk: static int, unit pieces made at a time (the whole need in one chunk is
        fastest; more chunks are correct and re-make pieces).
      depth_chunk: static int K, slots per tile composited at a time.
      tile: static int, tile side in pixels.

    Returns:
      float32 (NT, T, T, 4) premultiplied RGBA tiles of a ``tile_grid`` grid, row-major
      (pixels past the canvas hold garbage; ``tiles.untile`` cuts them off).
    Differentiable in ``edges`` and ``params`` (custom VJP, see the module docstring).
    """
    for name, v in (("num_layers", num_layers), ("height", height), ("width", width), ("piece_chunk", piece_chunk),
                    ("depth_chunk", depth_chunk), ("tile", tile)):
        if not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    edges = jnp.asarray(edges)
    if edges.ndim != 3 or edges.shape[1:] != (2, 2):
        raise ValueError(f"edges must have shape (E, 2, 2), got {edges.shape}")
    nty, ntx = tile_grid(height, width, tile)
    grid = _Grid(int(num_layers), int(height), int(width), int(tile), nty, ntx, int(piece_chunk),
                 int(min(depth_chunk, num_layers)))
    if edges.shape[0] == 0:
        return jnp.zeros((grid.nt, tile, tile, 4), edges.dtype)
    sub, sub_layer, ends = piece_plan(edges, jnp.asarray(layer_ids, jnp.int32), height, width)
    return _tiled_composite(sub, sub_layer, ends, jnp.asarray(evenodd, bool), aux, params, shade, grid)
