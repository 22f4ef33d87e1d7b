"""Renderer work budgets for optimisation loops, on the engine's own policy.

The budgets (max_pieces, max_depth) are static arguments of a jitted step: exceeding one
means a recompilation, a larger one only costs work in proportion. A loop therefore
measures the scene's needs now and then and budgets them with headroom; the rounding is the
engine's (:func:`diffvg_jax.raster.auto_budget` for pieces, :func:`~diffvg_jax.raster.round_depth`
for depth), never re-implemented here.

  needs   (pieces, depth, layers): boundary pieces, most layers in one tile, layers in all
  budget  (max_pieces, max_depth) as ``render`` takes them
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Set, Tuple

from diffvg_jax.raster import SMALL_SCENE_LAYERS, auto_budget, round_depth

__all__ = ["Needs", "Budget", "measure_needs", "with_headroom", "covers", "grow", "compiled_budget"]

Needs = Tuple[int, int, int]
Budget = Tuple[int, int]


def measure_needs(num_layers: int, count_pieces: Callable[[], int], count_depth: Callable[[int], int],
                  *, fixed_pieces: Optional[int] = None) -> Needs:
    """(pieces, depth, layers) of a scene with ``num_layers`` layers (``count_layers``).

    ``count_pieces()`` gives the piece need (not called when ``fixed_pieces`` is given:
    that budget is taken as the need); ``count_depth(max_pieces)`` the depth need, counted
    with ``fixed_pieces`` or ``auto_budget(pieces)``. Scenes of at most
    ``SMALL_SCENE_LAYERS`` layers keep every layer in every tile, so their depth is not
    counted (one compilation less)."""
    pieces = int(count_pieces()) if fixed_pieces is None else int(fixed_pieces)
    if num_layers <= SMALL_SCENE_LAYERS:
        return pieces, num_layers, num_layers
    counting = int(fixed_pieces) if fixed_pieces is not None else auto_budget(pieces)
    return pieces, int(count_depth(counting)), num_layers


def with_headroom(needs: Needs, *, room: float = 2.0, depth_room: float = 2.0,
                  fixed_pieces: Optional[int] = None) -> Budget:
    """The budget for ``needs`` with ``room`` x the pieces and ``depth_room`` x the depth,
    rounded by the engine's policy; ``fixed_pieces`` replaces the piece budget."""
    pieces, depth, layers = needs
    max_pieces = int(fixed_pieces) if fixed_pieces is not None else auto_budget(int(math.ceil(room * pieces)))
    return max_pieces, round_depth(int(math.ceil(depth_room * depth)), layers)


def covers(budget: Budget, needs: Needs) -> bool:
    """Whether ``budget`` drops nothing of ``needs`` (a depth of all layers always covers)."""
    return budget[0] >= needs[0] and budget[1] >= min(needs[1], needs[2])


def grow(budget: Budget, new: Budget) -> Budget:
    """The elementwise larger of two budgets: a loop's budget never shrinks."""
    return tuple(max(a, b) for a, b in zip(budget, new))


_COMPILED: Dict[int, Set[Budget]] = {}  # id(jitted step) -> budgets it has been compiled for


def compiled_budget(step, wanted: Budget, needs: Needs) -> Budget:
    """A budget the (cached) jitted ``step`` was already compiled for, if one covers ``needs``
    without being wasteful (at most 4x ``wanted`` pieces, 2x its depth); else ``wanted``.
    Saves a recompilation when, e.g., a drawing is refined right after it was made."""
    known = _COMPILED.setdefault(id(step), set())
    fits = sorted(c for c in known if covers(c, needs) and c[0] <= 4 * wanted[0] and c[1] <= 2 * wanted[1])
    budget = fits[0] if fits else wanted
    known.add(budget)
    return budget
