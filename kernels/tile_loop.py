"""Tiled compositing with dynamic work loops: exact for any scene, with no work budgets.

``tiles.tiled_winding`` has static budgets: ``max_pieces`` unit pieces and ``max_depth``
slots per tile. Inside a caller's ``jax.jit`` nothing is known about the scene, so the
budgets had to be "every layer in every tile", which made the plain
``jax.jit(dv.render)`` idiom 10-20x slower than a budgeted call, and a budget that was too
small dropped layers. Here both are *chunk sizes* of loops whose trip counts are computed
in the program:

  * pieces are made ``piece_chunk`` at a time, for as many chunks as the scene needs;
    the first ``piece_store`` pieces are kept (their deltas and placement), chunks past
    them are re-made where they are needed. So a generous store costs memory, not work:
    only the chunks that hold pieces are placed and pulled back;
  * each tile's layers (in layer order, as in ``tiled_winding``) are composited
    ``depth_chunk`` slots at a time, front to back, for as many chunks as *that tile*
    needs: the work list holds (tile, chunk) items, level i being every tile's i-th chunk
    from the top, cut into batches of ``tile_batch`` distinct tiles (one batch per level
    of every tile on small canvases: no gathers then).

A batch is shaded by the caller's ``shade(winding, slot_layer, tiles, aux, params)``,
which returns each item's premultiplied colour over transparent black, float
(B, T, T, 4), and its transmittance prod(1 - alpha), float (B, T, T). Chunks combine
with "over": out = sum_d T_d * C_d, where T_d is the transmittance of the chunks above d.

Gradient (a custom VJP, so the loops need no stored intermediates): the forward pass
keeps T_d per item (one float per pixel per item). The backward pass walks the batches
in reverse, so each tile's chunks bottom up, rebuilding B_d, the composite of the tile's
chunks below d; the adjoint of C_d is
T_d * g and that of the chunk's transmittance is T_d * <g, B_d>. Each chunk's shading is
re-run under ``jax.vjp``; the winding's linear part (scatter of piece deltas, prefix sums,
backdrops) is transposed by hand, and the piece deltas are pulled back to the sub-edges
chunk by chunk. No division by 1 - alpha (opaque layers are the common case).
"""
from __future__ import annotations

# long-file: one custom VJP whose forward and backward walk the same two loops (piece chunks,
# tile batches) with the same index helpers; split, those helpers would have to be public.

import functools
from typing import Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .pieces import materialise, piece_deltas, piece_owners, piece_plan, pieces_of, placed_deltas
from .tiles import TILE, delta_positions, prefix_sum_last, tile_grid, tile_membership


#: Bound on pass 1's slot codes (batch * batch_cells + cell, int32). Grids past it (about
#: layers x canvas pixels >= 2^31) look each stored delta up again per batch instead.
SLOT_CODE_LIMIT = 2 ** 31 - 1


class _Grid(NamedTuple):
    """Static sizes: layers L, canvas, tile side, tile grid, chunk sizes, tiles per batch."""
    num_layers: int
    height: int
    width: int
    tile: int
    nty: int
    ntx: int
    piece_chunk: int
    stored_chunks: int
    depth_chunk: int
    batch: int

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

    @property
    def dense(self):
        """One batch per level holding every tile, item b = tile b: the batch needs no
        gathers (tiles with fewer chunks get empty slots, which change nothing)."""
        return self.batch == self.nt

    @property
    def max_batches(self):
        """Work batches when every tile holds every layer (levels x batches per level)."""
        return self.max_chunks * -(-self.nt // self.batch)

    @property
    def batch_cells(self):
        """Cells of one batch's (K * B, T, T) slot blocks."""
        return self.depth_chunk * self.batch * self.tile * self.tile

    @property
    def slot_codes_fit(self):
        """Whether batch * batch_cells + cell fits an int32 for every batch (about layers x
        canvas pixels < 2^31): then pass 1 can record one slot code per stored delta."""
        return self.max_batches * self.batch_cells < SLOT_CODE_LIMIT


class _Chunk(NamedTuple):
    """Pieces placed on the grid: their deltas float (P, 2, 3) and integer placement (P, 2, 3)."""
    deltas: jax.Array
    lay: jax.Array
    row: jax.Array
    col: jax.Array


class _Pieces(NamedTuple):
    """A chunk of pieces as stored: deltas float (..., P, 2, 3), layer (-1: no piece), base
    row and base column int32 (..., P) of each piece's 2 x 3 footprint, and the sub-edge
    each piece is cut from int32 (..., P) (kept only for a backward pass: None otherwise)."""
    deltas: jax.Array
    layer: jax.Array
    r0: jax.Array
    c0: jax.Array
    owner: Optional[jax.Array]


def _make_chunk(sub, sub_layer, ends, c, grid: _Grid, first_pass: bool = False) -> _Pieces:
    """Pieces of chunk ``c`` (int32 ()); deltas differentiable in ``sub``. ``first_pass``
    (static): pass 1, which makes every chunk on every call, finds the pieces' sub-edges
    with the search that runs faster and compiles slower; the other copies (chunks past
    the store, re-made per batch) keep the compact one."""
    start = c * grid.piece_chunk
    owner = piece_owners(ends, start, grid.piece_chunk, written_out=first_pass)
    pieces, layer = pieces_of(sub, sub_layer, ends, owner, start)
    layer, r0, c0, deltas = placed_deltas(pieces, layer, ends[-1] >= 0)
    return _Pieces(deltas, layer, r0, c0, owner)


def _placed(p: _Pieces) -> _Chunk:
    """The pieces with each delta's layer, pixel row and pixel column (int32 (P, 2, 3))."""
    return _Chunk(p.deltas, *delta_positions(p.layer, p.r0, p.c0))


def _stored_placement(lay: "_Layout", c, grid: _Grid):
    """(layer, r0, c0, owner) int32 (P,) of stored piece chunk ``c`` (clamped to the dump
    row); the layout must keep owners."""
    p = lay.stored
    at = jnp.minimum(c, grid.stored_chunks)
    return p.layer[at], p.r0[at], p.c0[at], p.owner[at]


def _over_stored_chunks(lay: "_Layout", grid: _Grid, body, init):
    """``body(c, carry)`` over the stored piece chunks that hold pieces. A store of one
    chunk runs it once, without a loop: a loop around a single chunk cost 10 % of
    painterly-224's gradient (there is always at least one piece chunk)."""
    if grid.stored_chunks == 1:
        return body(0, init)
    return jax.lax.fori_loop(0, jnp.minimum(lay.num_piece_chunks, grid.stored_chunks), body, init)


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


def _tile_and_rank(ch: _Chunk, rank, grid: _Grid):
    """(inside bool, tile id clipped to the grid, the delta's layer's slot rank in that tile
    (-1: none)), each int32 / bool (P, 2, 3), for pass 1's ``rank`` int32 (L * NT)."""
    inside, tile_id = _tile_of(ch, grid)
    tile_id = jnp.clip(tile_id, 0, grid.nt - 1)
    return inside, tile_id, rank[jnp.clip(ch.lay, 0, grid.num_layers - 1) * grid.nt + tile_id]


class _Tally(NamedTuple):
    """What pass 1 sums over all piece chunks."""
    active: jax.Array    # bool (L * NT): a delta of the layer lands in the tile
    rowsum: jax.Array    # float (rowsum_size): deltas summed per (bin, layer, row)


def _tally(t: _Tally, ch: _Chunk, grid: _Grid) -> _Tally:
    inside, tile_id = _tile_of(ch, grid)
    act_idx = jnp.where(inside, ch.lay * grid.nt + tile_id, grid.num_layers * grid.nt).reshape(-1)
    return _Tally(t.active.at[act_idx].set(True, mode="drop"),
                  t.rowsum.at[_row_index(ch, grid).reshape(-1)].add(ch.deltas.reshape(-1), mode="drop"))


def _first_windings(backdrop, grid: _Grid):
    """float (L, NT): each layer's winding carried into the first pixel row of each tile
    (``tiles.tile_membership``), read off the backdrop table; no gradient (it only decides
    which tiles a layer fills)."""
    table = jax.lax.stop_gradient(backdrop).reshape(grid.ntx + 1, grid.num_layers + 1, grid.height)
    first = table[:grid.ntx, :grid.num_layers, ::grid.tile]                     # (ntx, L, nty)
    return jnp.transpose(first, (1, 2, 0)).reshape(grid.num_layers, grid.nt)


class _Layout(NamedTuple):
    """Pass 1's result: everything the work batches read."""
    stored: _Pieces         # piece chunks 0 .. stored_chunks - 1 (leading axis stored_chunks + 1)
    stored_code: Optional[jax.Array]   # int32 (stored_chunks + 1, P * 6): each stored delta's batch
                                       # * batch_cells + its cell in that batch's slot blocks (-1: none)
    num_piece_chunks: jax.Array   # int32 ()
    num_batches: jax.Array  # int32 (): work batches (see _batch)
    rank: jax.Array         # int32 (L * NT): a layer's slot index within a tile (-1: none)
    layer_at: jax.Array     # int32 (max_chunks * depth_chunk * NT + 1): layer of slot (rank, tile); L: empty
    backdrop: jax.Array     # float (rowsum_size): the cover carried into each (bin, layer, row)
    chunks: jax.Array       # int32 (NT,): depth chunks of each tile
    order: jax.Array        # int32 (NT + batch,): tiles by chunk count, most first; then NT (none)
    level_size: jax.Array   # int32 (max_chunks,): tiles with more than i chunks
    batch_end: jax.Array    # int32 (max_chunks,): batches of levels 0 .. i


def _prefix_over_bins(x, grid: _Grid, transpose=False):
    """Inclusive prefix sum over the backdrop table's bins (its leading axis), or its
    transpose (a suffix sum): a product with a triangular matrix (see ``prefix_sum_last``)."""
    n = grid.ntx + 1
    tri = np.tril(np.ones((n, n)))   # tri[j, k] = 1 for k <= j
    tri = jnp.asarray(tri.T if transpose else tri, x.dtype)
    return jnp.matmul(tri, x.reshape(n, -1), precision=jax.lax.Precision.HIGHEST).reshape(-1)


def _layout(sub, sub_layer, ends, evenodd, grid: _Grid, slot_codes: bool, keep_owners: bool) -> _Layout:
    """Pass 1: all piece chunks -> active tiles, constant windings, backdrops, slot ranks;
    with ``slot_codes`` (and when they fit an int32), each stored delta's batch and slot
    (worth their pass when read many times: painterly-224's forward, one batch per level,
    was 10 % slower with them); with ``keep_owners``, each stored piece's sub-edge (the
    backward pass makes the stored pieces again to differentiate them: a binary search
    per piece saved)."""
    L, nt = grid.num_layers, grid.nt
    dt = sub.dtype
    pieces_need = ends[-1]
    num_pc = jnp.maximum(-(-pieces_need // grid.piece_chunk), 1)
    zero = jnp.zeros((), jnp.int32)

    def tally_chunk(c, carry):   # one copy of the piece code: the stored chunks are kept from it
        tally, stored = carry
        ch = _make_chunk(sub, sub_layer, ends, c, grid, first_pass=True)
        ch = ch if keep_owners else ch._replace(owner=None)
        at = jnp.minimum(c, grid.stored_chunks)   # row stored_chunks: not kept
        stored = jax.tree.map(lambda buf, x: jax.lax.dynamic_update_index_in_dim(buf, x, at, 0), stored, ch)
        return _tally(tally, _placed(ch), grid), stored

    S, P = grid.stored_chunks + 1, grid.piece_chunk
    stored = _Pieces(jnp.zeros((S, P, 2, 3), dt), *(jnp.zeros((S, P), jnp.int32) for _ in range(3)),
                     jnp.zeros((S, P), jnp.int32) if keep_owners else None)
    tally = _Tally(jnp.zeros((L * nt,), bool), jnp.zeros((grid.rowsum_size,), dt))
    tally, stored = jax.lax.fori_loop(zero, num_pc, tally_chunk, (tally, stored))
    backdrop = _prefix_over_bins(tally.rowsum, grid)
    contributes, rank, depth_need = tile_membership(tally.active.reshape(L, nt), _first_windings(backdrop, grid),
                                                    evenodd)
    slots = grid.max_chunks * grid.depth_chunk * nt
    tiles = jnp.arange(nt, dtype=jnp.int32)[None, :]
    where = jnp.where(contributes, rank * nt + tiles, slots + 1).reshape(-1)   # past the end: dropped
    layers = jnp.broadcast_to(jnp.arange(L, dtype=jnp.int32)[:, None], (L, nt)).reshape(-1)
    layer_at = jnp.full((slots + 1,), L, jnp.int32).at[where].set(layers, mode="drop")
    chunks = -(-depth_need // grid.depth_chunk)
    # Work list: level i holds the tiles with more than i chunks (each one's chunk i from
    # the top), cut into batches of `grid.batch` tiles; a batch never spans two levels, so
    # its tiles are distinct. Sorted by chunk count, level i's tiles are a prefix of `order`.
    order = jnp.argsort(-chunks, stable=True).astype(jnp.int32)
    order = jnp.concatenate([order, jnp.full((grid.batch,), nt, jnp.int32)])
    count = jnp.zeros((grid.max_chunks + 1,), jnp.int32).at[chunks].add(1)
    level_size = jnp.cumsum(count[::-1])[::-1][1:]              # tiles with chunks > i
    batch_end = jnp.cumsum(-(-level_size // grid.batch)).astype(jnp.int32)
    rank = jnp.where(contributes, rank, -1).reshape(-1)

    # Each tile's position in `order` (the inverse permutation), once for all chunks.
    slot_codes = slot_codes and grid.slot_codes_fit
    order_pos = None if grid.dense or not slot_codes else \
        jnp.zeros((nt,), jnp.int32).at[order[:nt]].set(jnp.arange(nt, dtype=jnp.int32))

    def codes_of(c, codes):    # only the chunks that hold pieces
        ch = _Chunk(None, *delta_positions(stored.layer[c], stored.r0[c], stored.c0[c]))   # positions only
        return jax.lax.dynamic_update_index_in_dim(codes, _slot_codes(ch, rank, chunks, order_pos, batch_end, grid),
                                                   c, 0)

    stored_code = None
    if slot_codes:
        codes = jnp.full((S, P * 6), -1, jnp.int32)
        stored_code = (codes_of(0, codes) if grid.stored_chunks == 1 else
                       jax.lax.fori_loop(0, jnp.minimum(num_pc, grid.stored_chunks), codes_of, codes))
    return _Layout(stored, stored_code, num_pc, batch_end[-1], rank, layer_at, backdrop, chunks, order,
                   level_size.astype(jnp.int32), batch_end)


def _slot_codes(ch: _Chunk, rank, chunks, order_pos, batch_end, grid: _Grid):
    """int32 (P * 6,): batch * batch_cells + cell for each delta of a chunk, where batch is
    the work batch that composites its slot and cell its place in that batch's (K * B, T,
    T) slot blocks, as :func:`_batch` lays the batches out; -1 for a dropped delta.
    Computed once in pass 1, so that a batch only compares codes with its own range
    instead of looking up each delta's tile, rank and item again. order_pos int32 (NT,):
    each tile's position in the level order (None for a dense grid)."""
    K, B = grid.depth_chunk, grid.batch
    inside, tile_id, r = _tile_and_rank(ch, rank, grid)
    level = chunks[tile_id] - 1 - r // K            # batches go down each tile's chunks from the top
    if grid.dense:
        batch, item = level, tile_id
    else:   # a level's tiles are a prefix of `order`, cut into batches of B
        pos = order_pos[tile_id]
        first = jnp.where(level > 0, batch_end[jnp.maximum(level - 1, 0)], 0)
        batch, item = first + pos // B, pos % B
    ok = inside & (r >= 0)
    cell = _slot_cell(ok, r % K, item, ch, grid)
    return jnp.where(ok.reshape(-1), batch.reshape(-1) * grid.batch_cells + cell, -1)


def _slot_cell(ok, r, item, ch: _Chunk, grid: _Grid):
    """int32 (P * 6,): each delta's cell in a batch's (K * B, T, T) slot blocks, for its slot
    r within the depth chunk and its item in the batch; past the end where not ``ok``."""
    B, T = grid.batch, grid.tile
    return jnp.where(ok, ((r * B + item) * T + ch.row % T) * T + ch.col % T, grid.batch_cells).reshape(-1)


def _rows(x, batch: "_Batch", grid: _Grid):
    """x[batch.tile] for x (NT + 1, ...): the batch's rows (all but the last when dense)."""
    return x[:grid.nt] if grid.dense else x[batch.tile]


def _set_rows(x, batch: "_Batch", value, grid: _Grid):
    """x with x[batch.tile] = value."""
    return jnp.concatenate([value, x[grid.nt:]]) if grid.dense else x.at[batch.tile].set(value)


class _Batch(NamedTuple):
    """One work batch: B (tile, depth chunk) items with distinct tiles."""
    index: jax.Array   # int32 (): j, the batch's place in the work list
    tile: jax.Array    # int32 (B,): the item's tile; NT for an empty item
    chunk: jax.Array   # int32 (B,): its depth chunk (slots chunk * K .. chunk * K + K - 1)
    layer: jax.Array   # int32 (K, B): the layer in each slot (L: empty)
    item: jax.Array    # int32 (NT + 1,): each tile's item in the batch (-1: not in it)


def _batch(lay: _Layout, j, grid: _Grid) -> _Batch:
    """Batch ``j`` (int32 ()) of the work list: the tiles of level i at positions
    (j - first batch of level i) * B .. + B - 1, each with its chunk i from the top.
    Dense grids: level j, item b = tile b (tiles with fewer chunks get empty slots)."""
    B, K, nt = grid.batch, grid.depth_chunk, grid.nt
    if grid.dense:
        level = j
        tile = jnp.arange(nt, dtype=jnp.int32)
        valid = lay.chunks > j
        item = jnp.arange(nt + 1, dtype=jnp.int32)
    else:
        level = jnp.sum(lay.batch_end <= j).astype(jnp.int32)
        first = jnp.where(level > 0, lay.batch_end[jnp.maximum(level - 1, 0)], 0)
        pos = (j - first) * B + jnp.arange(B, dtype=jnp.int32)
        valid = pos < lay.level_size[jnp.minimum(level, grid.max_chunks - 1)]
        tile = jnp.where(valid, lay.order[jnp.minimum(pos, nt + B - 1)], nt)
        item = jnp.full((nt + 1,), -1, jnp.int32).at[tile].set(jnp.arange(B, dtype=jnp.int32))
    chunk = jnp.where(valid, lay.chunks[jnp.minimum(tile, nt - 1)] - 1 - level, 0)
    slot = (chunk[None, :] * K + jnp.arange(K, dtype=jnp.int32)[:, None]) * nt + tile[None, :]
    layer = lay.layer_at[jnp.where(valid[None, :], slot, lay.layer_at.shape[0] - 1)]
    return _Batch(j, tile, chunk, layer, item)


def _local_index(ch: _Chunk, lay: _Layout, batch: _Batch, grid: _Grid):
    """int32 (P * 6,): each delta's position in the batch's (K * B, T, T) slot blocks, past
    the end when its tile is not in the batch, its slot is in another chunk, or it is dropped."""
    K = grid.depth_chunk
    inside, tile_id, rank = _tile_and_rank(ch, lay.rank, grid)
    item = batch.item[tile_id]
    r = rank - batch.chunk[jnp.maximum(item, 0)] * K
    ok = inside & (item >= 0) & (r >= 0) & (r < K)
    return _slot_cell(ok, r, item, ch, grid)


def _stored_index(lay: _Layout, c, batch: _Batch, grid: _Grid):
    """int32 (P * 6,): :func:`_local_index` of stored chunk ``c`` (from pass 1's slot codes
    when it made them)."""
    if lay.stored_code is None:
        return _local_index(_placed(jax.tree.map(lambda x: x[c], lay.stored)), lay, batch, grid)
    size = grid.batch_cells
    cell = lay.stored_code[c] - batch.index * size
    return jnp.where((cell >= 0) & (cell < size), cell, size)


def _backdrop_index(batch: _Batch, grid: _Grid):
    """int32 (K * B, T): the backdrop cell of every slot row (layer, pixel row, tile column)."""
    T, ntx = grid.tile, grid.ntx
    t = jnp.broadcast_to(batch.tile[None, :], batch.layer.shape).reshape(-1)
    layer = batch.layer.reshape(-1)
    prow = (t // ntx)[:, None] * T + jnp.arange(T, dtype=jnp.int32)[None, :]
    return jnp.where((prow < grid.height) & (layer[:, None] < grid.num_layers) & (t[:, None] < grid.nt),
                     ((t % ntx)[:, None] * (grid.num_layers + 1) + layer[:, None]) * grid.height + prow,
                     grid.rowsum_size)


def _batch_winding(sub, sub_layer, ends, lay: _Layout, batch: _Batch, grid: _Grid):
    """float (K * B, T, T): the winding integrals of the batch's slots."""
    K, B, T = grid.depth_chunk, grid.batch, grid.tile
    size = K * B * T * T
    local = jnp.zeros((size,), sub.dtype)

    def add_stored(c, acc):
        return acc.at[_stored_index(lay, c, batch, grid)].add(lay.stored.deltas[c].reshape(-1), mode="drop")

    def add_remade(c, acc):   # chunks past the store (scenes past the piece capacity)
        ch = _placed(_make_chunk(sub, sub_layer, ends, c, grid))
        return acc.at[_local_index(ch, lay, batch, grid)].add(ch.deltas.reshape(-1), mode="drop")

    local = _over_stored_chunks(lay, grid, add_stored, local)
    local = jax.lax.fori_loop(grid.stored_chunks, lay.num_piece_chunks, add_remade, local)
    local = prefix_sum_last(local.reshape(K * B, T, T))
    bd = lay.backdrop.at[_backdrop_index(batch, grid)].get(mode="fill", fill_value=0.0)
    return local + bd[:, :, None]


def _shade_batch(shade, winding, batch: _Batch, aux, params, grid: _Grid):
    """The caller's shading of a batch: (colour float (B, T, T, 4), transmittance (B, T, T))."""
    shape = (grid.depth_chunk, grid.batch, grid.tile, grid.tile)
    return shade(winding.reshape(shape), batch.layer, jnp.minimum(batch.tile, grid.nt - 1), aux, params)


def _composite(sub, sub_layer, ends, evenodd, aux, params, shade, grid: _Grid, keep_transmittance: bool):
    """Front to back over the work batches: (tiles float (NT, T, T, 4), layout, the
    transmittance above each batch's items float (max_batches, B, T, T) or None).
    Row NT of the carried images collects the empty items."""
    # Slot codes cost a pass over the stored pieces; they pay off in the backward pass, and
    # in the forward when levels are cut into several batches (each batch would otherwise
    # look every stored delta's tile and rank up again): the tiger's forward 58 -> 53 ms.
    lay = _layout(sub, sub_layer, ends, evenodd, grid, keep_transmittance or not grid.dense,
                  keep_transmittance)
    T = grid.tile
    out = jnp.zeros((grid.nt + 1, T, T, 4), sub.dtype)
    trans = jnp.ones((grid.nt + 1, T, T), sub.dtype)
    kept = jnp.zeros((grid.max_batches, grid.batch, T, T), sub.dtype) if keep_transmittance else None

    def step(j, carry):
        out, trans, kept = carry
        batch = _batch(lay, j, grid)
        colour, chunk_trans = _shade_batch(shade, _batch_winding(sub, sub_layer, ends, lay, batch, grid), batch,
                                           aux, params, grid)
        above = _rows(trans, batch, grid)
        if kept is not None:
            kept = jax.lax.dynamic_update_index_in_dim(kept, above, j, 0)
        out = _set_rows(out, batch, _rows(out, batch, grid) + above[..., None] * colour, grid)
        return out, _set_rows(trans, batch, above * chunk_trans, grid), kept

    out, _, kept = jax.lax.fori_loop(0, lay.num_batches, step, (out, trans, kept))
    return out[:grid.nt], lay, kept


@functools.partial(jax.custom_vjp, nondiff_argnums=(6, 7))
def _tiled_composite(sub, sub_layer, ends, evenodd, aux, params, shade, grid):
    return _composite(sub, sub_layer, ends, evenodd, aux, params, shade, grid, False)[0]


def _tiled_composite_fwd(sub, sub_layer, ends, evenodd, aux, params, shade, grid):
    out, lay, kept = _composite(sub, sub_layer, ends, evenodd, aux, params, shade, grid, True)
    return out, (sub, sub_layer, ends, aux, params, lay, kept)


def _tiled_composite_bwd(shade, grid: _Grid, res, g):
    sub, sub_layer, ends, aux, params, lay, kept = res
    T = grid.tile
    g = jnp.concatenate([g.astype(sub.dtype), jnp.zeros((1, T, T, 4), sub.dtype)])   # row NT: empty items
    tri_t = jnp.asarray(np.tril(np.ones((T, T))), sub.dtype)   # transpose of the prefix product
    num_batches = lay.num_batches

    def step(i, carry):
        """Batch j (last first: each tile's chunks bottom up): the adjoint of its slot
        windings, transposed to piece deltas and to the backdrop table. The stored piece
        chunks' delta adjoints are summed over batches and pulled back once, after the last
        batch, with the backdrops' share; chunks past the store are pulled back at once
        (one copy of that VJP in the program)."""
        below, g_stored, g_backdrop, g_sub, g_params = carry
        j = num_batches - 1 - i
        batch = _batch(lay, j, grid)
        winding = _batch_winding(sub, sub_layer, ends, lay, batch, grid)
        (colour, chunk_trans), vjp = jax.vjp(lambda w, p: _shade_batch(shade, w, batch, aux, p, grid), winding,
                                             params)
        above, below_b, g_b = kept[j], _rows(below, batch, grid), _rows(g, batch, grid)
        g_w, g_p = vjp((g_b * above[..., None], above * jnp.sum(g_b * below_b, axis=-1)))
        # Transpose of winding = prefix_x(scatter(deltas)) + backdrop[rows]:
        g_local = jnp.matmul(g_w, tri_t, precision=jax.lax.Precision.HIGHEST).reshape(-1)
        g_backdrop = g_backdrop.at[_backdrop_index(batch, grid)].add(jnp.sum(g_w, axis=-1), mode="drop")

        def from_slots(index):
            return jnp.take(g_local, index, mode="fill", fill_value=0.0).reshape(-1, 2, 3)

        def collect(c, acc):
            return jax.lax.dynamic_update_index_in_dim(acc, acc[c] + from_slots(_stored_index(lay, c, batch, grid)),
                                                       c, 0)

        g_stored = _over_stored_chunks(lay, grid, collect, g_stored)
        last = i == num_batches - 1
        # The backdrops' adjoint is complete after the last batch only; before it the
        # table passes through unchanged (a zero table per batch cost the tiger 6 ms) and
        # the pieces pulled back then (re-made chunks) take no share of it.
        g_rowsum = jax.lax.cond(last, lambda b: _prefix_over_bins(b, grid, transpose=True), lambda b: b, g_backdrop)

        def pull(c, acc):
            stored = c < grid.stored_chunks
            # The placement the forward used (kept for a stored chunk, re-made for one past
            # the store), so that the deltas are differentiated on the footprint they were
            # placed with (see pieces.placed_deltas).
            layer, r0, c0, owner = jax.lax.cond(
                stored, lambda: _stored_placement(lay, c, grid),
                lambda: _make_chunk(jax.lax.stop_gradient(sub), sub_layer, ends, c, grid)[1:])
            ch = _Chunk(None, *delta_positions(layer, r0, c0))
            start = c * grid.piece_chunk
            _, vjp = jax.vjp(lambda s: piece_deltas(pieces_of(s, sub_layer, ends, owner, start)[0], r0, c0), sub)
            from_rows = jnp.where(last, jnp.take(g_rowsum, _row_index(ch, grid), mode="fill", fill_value=0.0), 0.0)
            # A stored chunk's adjoint was collected batch by batch; a re-made one's is
            # this batch's (a cond: the take is not computed for the stored chunks).
            adjoint = jax.lax.cond(stored, lambda: g_stored[jnp.minimum(c, grid.stored_chunks)],
                                   lambda: from_slots(_local_index(ch, lay, batch, grid))) + from_rows
            # Materialised: fused into the piece VJP's many slices, XLA recomputed its
            # gathers in each (painterly-224's kernel gradient 45 ms, 34 ms like this).
            return acc + vjp(materialise(adjoint, c >= 0))[0]

        g_sub = jax.lax.fori_loop(jnp.where(last, 0, grid.stored_chunks), lay.num_piece_chunks, pull, g_sub)
        g_params = jax.tree.map(jnp.add, g_params, g_p)
        below = _set_rows(below, batch, colour + chunk_trans[..., None] * below_b, grid)
        return below, g_stored, g_backdrop, g_sub, g_params

    carry = (jnp.zeros_like(g), jnp.zeros_like(lay.stored.deltas), jnp.zeros_like(lay.backdrop), jnp.zeros_like(sub),
             jax.tree.map(jnp.zeros_like, params))
    _, _, _, g_sub, g_params = jax.lax.fori_loop(0, num_batches, step, carry)
    return g_sub, None, None, None, None, g_params


_tiled_composite.defvjp(_tiled_composite_fwd, _tiled_composite_bwd)


def default_tile_batch(num_tiles: int) -> int:
    """Tiles per work batch: all of a grid of up to 256 tiles (a 256 px canvas), else a
    quarter of it (at least 256). Smaller batches skip more of the tiles that need fewer
    chunks, but each batch places every piece's deltas again: at 224 px batches of 64 made
    painterly's gradient 25 % slower; at 512 px batches of 256 made fxemoji's 1.6-2x and
    the tiger's 1.3x faster than one batch of all tiles (batches of 128 or 512: no better)."""
    return int(num_tiles if num_tiles <= 256 else max(256, -(-num_tiles // 4)))


def tiled_composite(edges, layer_ids, evenodd, aux, params, shade: Callable, *, num_layers: int, height: int,
                    width: int, piece_chunk: int, depth_chunk: int, piece_store: Optional[int] = None,
                    tile_batch: Optional[int] = None, tile: int = TILE, rematerialise: bool = False):
    """Premultiplied tiles of a flat list of layers, exact for any scene (no budgets).

    Args:
      edges: float32 (E, 2, 2) directed line edges in pixels (closed contours per layer).
      layer_ids: int32 (E,) layer of each edge, 0 .. num_layers - 1.
      evenodd: bool (num_layers,) fill rule of each layer (decides which edge-free tiles
        are inside a layer; ``shade`` applies the rule to the windings).
      aux, params: pytrees passed to ``shade``; ``params`` (floats) is differentiable,
        ``aux`` (integers, booleans) is not.
      shade: static callable ``shade(winding float (K, B, T, T), slot_layer int32 (K, B),
        tiles int32 (B,), aux, params) -> (colour float (B, T, T, 4), transmittance float
        (B, T, T))``: for B tiles (ids ``tiles``; an empty item repeats a tile id with
        only empty slots), a chunk of K slots each (bottom first; layer ``num_layers``
        marks an empty slot, whose winding is 0) composited over transparent black, and
        prod(1 - alpha).
      num_layers, height, width: static ints.
      piece_chunk: static int, unit pieces made (placed, pulled back) at a time: a chunk
        costs all its slots, used or not, and a loop step's overhead.
      depth_chunk: static int K, slots per tile composited at a time.
      piece_store: static int, pieces kept from the first pass (rounded up to whole
        chunks; default one chunk). Chunks past it are correct but re-made per batch.
      tile_batch: static int B, tiles shaded at a time (default ``default_tile_batch``):
        each batch holds one depth chunk of B distinct tiles, so a tile is shaded only
        for the chunks its own depth needs.
      tile: static int, tile side in pixels.
      rematerialise: static bool, recompute the edge split in the backward pass instead of
        keeping its residuals. For eager autodiff, where each residual becomes a constant
        of the linearised program (~45 us of JAX's Python apiece, a dozen per edge array);
        inside a jit keeping them is cheaper (clipdraw-224's gradient: 5 ms).

    Returns:
      float32 (NT, T, T, 4) premultiplied RGBA tiles of a ``tile_grid`` grid, row-major
      (pixels past the canvas hold garbage; ``tiles.untile`` cuts them off).
    Differentiable in ``edges`` and ``params`` (custom VJP, see the module docstring).
    """
    nty, ntx = tile_grid(height, width, tile) if isinstance(tile, (int, np.integer)) and tile > 0 else (1, 1)
    if tile_batch is None:
        tile_batch = default_tile_batch(nty * ntx)
    if piece_store is None:
        piece_store = piece_chunk
    for name, v in (("num_layers", num_layers), ("height", height), ("width", width), ("piece_chunk", piece_chunk),
                    ("depth_chunk", depth_chunk), ("piece_store", piece_store), ("tile_batch", tile_batch),
                    ("tile", tile)):
        if not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
    edges = jnp.asarray(edges)
    if edges.ndim != 3 or edges.shape[1:] != (2, 2):
        raise ValueError(f"edges must have shape (E, 2, 2), got {edges.shape}")
    grid = _Grid(int(num_layers), int(height), int(width), int(tile), nty, ntx, int(piece_chunk),
                 -(-int(piece_store) // int(piece_chunk)), int(min(depth_chunk, num_layers)),
                 int(min(tile_batch, nty * ntx)))
    if edges.shape[0] == 0:
        return jnp.zeros((grid.nt, tile, tile, 4), edges.dtype)
    sub, sub_layer, ends = piece_plan(edges, jnp.asarray(layer_ids, jnp.int32), height, width, bool(rematerialise))
    return _tiled_composite(sub, sub_layer, ends, jnp.asarray(evenodd, bool), aux, params, shade, grid)
