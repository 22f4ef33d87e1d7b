"""Work budgets: how many boundary pieces and how many layers per tile a render needs.

The kernels have static work budgets: ``max_pieces`` unit boundary pieces (the coverage
kernels' work) and ``max_depth`` layers per 16 x 16 tile (the tiled path's compositing
work). This module holds the policy that picks them: the rounding that keeps
recompilations rare, the heuristic used when the scene is traced, and the run-time warning
when a budget was too small. The needs themselves are counted on a scene's encoding
(:mod:`.renderer`: ``pieces_needed``, ``depth_needed`` and their traceable forms).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from diffvg_jax.kernels.tiles import TILE

from .layers import count_layers

DEFAULT_CURVE_PIECES = 16
# Up to this many layers the tiled path simply keeps every layer in every tile: counting
# the need would cost a compilation of its own for little gain.
SMALL_SCENE_LAYERS = 16

__all__ = ["DEFAULT_CURVE_PIECES", "SMALL_SCENE_LAYERS", "auto_budget", "count_layers", "default_budget",
           "round_depth", "warn_budget"]


def auto_budget(need: int) -> int:
    """Round a piece count up to a power of two (>= 1024) so budgets recompile rarely."""
    return 1 << max(10, int(math.ceil(math.log2(max(need, 1) * 1.05 + 1))))


def default_budget(num_edges: int, height: int, width: int) -> int:
    """Budget used when the scene is traced (inside the caller's jit): one piece per edge
    slot plus a canvas-sized allowance, rounded up to 4096. Flattening slots that a curve
    does not need are zero-length and need no piece, so this usually has room to spare; a
    run-time warning says when it does not (pass ``max_pieces`` for large shapes)."""
    need = num_edges + 8 * (height + width)
    return int(-(-need // 4096) * 4096)


def round_depth(need: int, num_layers: int) -> int:
    """A depth budget: the need rounded up to a multiple of 8 (fewer recompilations), at
    most the number of layers."""
    return int(min(max(num_layers, 1), max(8, -(-int(need) // 8) * 8)))


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
