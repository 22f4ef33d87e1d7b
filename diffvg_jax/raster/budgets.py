"""Work chunks and budgets: how many boundary pieces and layers per tile a render handles at once.

The tiled pipeline (flat scenes) loops over chunks of ``max_pieces`` unit boundary pieces
and ``max_depth`` slots per 16 x 16 tile, with trip counts computed in the program
(``kernels.tile_loop``): any sizes draw the exact image, the right ones draw it fastest.
The layered pipeline (scenes with sub-layers) has a static budget of ``max_pieces``: pieces
past it are dropped, with a run-time warning. This module holds the policy that picks the
sizes: the rounding that keeps recompilations rare, the heuristic used when the scene is
traced, and the warning. The needs themselves are counted on a scene's encoding
(:mod:`.renderer`: ``pieces_needed``, ``depth_needed`` and their traceable forms).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from diffvg_jax.kernels.tiles import TILE

from .layers import count_layers

DEFAULT_CURVE_PIECES = 16
# Slots per tile the tiled pipeline composites at a time (its depth chunk). Slots cost
# pixels each while a chunk's fixed cost (placing the pieces' deltas) is small, so small
# chunks win: measured on fxemoji at 512 px and painterly / clipdraw at 224 px, 8 was as
# fast or faster than 16 everywhere (bentobox, depth 9: 54 vs 68 ms forward).
DEPTH_CHUNK = 8

# A store of pieces up to this size is made, placed and pulled back as one chunk: a loop
# over chunks costs ~10 % (painterly-224's gradient: one chunk of 32768 pieces 29 ms, the
# same store in chunks of 4096 32 ms), and each chunk is placed again in every tile batch
# (the tiger at 512 px, 4 batches per level: chunks of 8192 5 % slower than 16384).
# Larger stores are cut into STORE_CHUNKS chunks of at least MIN_STORE_CHUNK pieces, so a
# generous store costs memory but little work (clipdraw-224, 68k pieces needed, a store
# of 131072: 109 ms as one chunk, 86 ms in chunks of 16384).
ONE_CHUNK_STORE = 32768
STORE_CHUNKS = 16
MIN_STORE_CHUNK = 16384

__all__ = ["DEFAULT_CURVE_PIECES", "DEPTH_CHUNK", "MIN_STORE_CHUNK", "ONE_CHUNK_STORE", "STORE_CHUNKS", "auto_budget",
           "count_layers", "default_budget", "default_piece_store", "piece_chunk_of_store", "warn_budget"]


def auto_budget(need: int) -> int:
    """Round a piece count up to a power of two (>= 1024) so budgets recompile rarely."""
    return 1 << max(10, int(math.ceil(math.log2(max(need, 1) * 1.05 + 1))))


def default_budget(num_edges: int, height: int, width: int) -> int:
    """Piece chunk used when the scene is traced (inside the caller's jit): one piece per
    edge slot plus a canvas-sized allowance, rounded up to 4096. Flattening slots that a
    curve does not need are zero-length and need no piece, so one chunk usually holds the
    scene; the tiled pipeline loops over more chunks when it does not, the layered one
    warns at run time (pass ``max_pieces`` for large shapes)."""
    need = num_edges + 8 * (height + width)
    return int(-(-need // 4096) * 4096)


def default_piece_store(num_edges: int, height: int, width: int) -> int:
    """Pieces the tiled pipeline keeps when the scene is traced (inside the caller's jit):
    two per edge slot plus a canvas-sized allowance, rounded up to 4096. Only the chunks
    that hold pieces are worked on, so the store can be generous; past it, chunks are
    re-made (correct, slower)."""
    need = 2 * num_edges + 8 * (height + width)
    return int(-(-need // 4096) * 4096)


def piece_chunk_of_store(store: int) -> int:
    """The tiled pipeline's piece chunk for a store of ``store`` pieces: all of it up to
    ``ONE_CHUNK_STORE``, else a ``STORE_CHUNKS``-th of it rounded up to 1024, at least
    ``MIN_STORE_CHUNK``."""
    if store <= ONE_CHUNK_STORE:
        return int(store)
    return int(max(MIN_STORE_CHUNK, -(-store // (STORE_CHUNKS * 1024)) * 1024))


def warn_budget(need, budget, depth_need, depth):
    """Host callback: warn when the pieces ``need`` int (or int32 (B,) under vmap) exceeds
    ``budget``, or the tile depth ``depth_need`` exceeds ``depth``."""
    need = int(np.max(need))  # batched under vmap
    if need > int(budget):
        warnings.warn(f"diffvg_jax.render: the scene needs {need} boundary pieces but max_pieces={int(budget)}; "
                      "edges past the budget are dropped. Pass a larger max_pieces "
                      "(dv.pieces_needed(scene, width=..., height=...) gives the need).", RuntimeWarning, stacklevel=2)
    depth_need = int(np.max(depth_need))
    if depth_need > int(depth):
        warnings.warn(f"diffvg_jax.render: a {TILE}x{TILE} tile holds {depth_need} layers but max_depth={int(depth)}; "
                      "the topmost layers past it are dropped there. Pass a larger max_depth "
                      "(dv.depth_needed(scene, width=..., height=...) gives the need).", RuntimeWarning, stacklevel=2)
