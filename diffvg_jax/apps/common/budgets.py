"""Renderer work chunks for optimisation loops, on the engine's own policy.

``render``'s ``max_pieces`` and ``max_depth`` are chunk sizes of loops whose trip counts
the program computes: any value draws the exact image, but both are static arguments of a
jitted step (a new value recompiles it), and a scene that needs more boundary pieces than
one chunk holds makes its pieces again for each further chunk (slower, still exact). A loop
therefore measures the piece need now and then and keeps a chunk with headroom; the
rounding is the engine's (:func:`diffvg_jax.raster.auto_budget`), never re-implemented
here. The depth chunk is the engine's default (``DEPTH_CHUNK``): it needs no measuring.

  needs   (pieces, layers): boundary pieces and layers of the scene
  budget  (max_pieces, max_depth) as ``render`` takes them
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Set, Tuple

from diffvg_jax.raster import DEPTH_CHUNK, auto_budget

__all__ = ["Needs", "Budget", "measure_needs", "with_headroom", "covers", "grow", "compiled_budget"]

Needs = Tuple[int, int]
Budget = Tuple[int, int]


def measure_needs(num_layers: int, count_pieces: Callable[[], int], *, fixed_pieces: Optional[int] = None) -> Needs:
    """(pieces, layers) of a scene with ``num_layers`` layers (``count_layers``).

    ``count_pieces()`` gives the piece need (not called when ``fixed_pieces`` is given:
    that budget is taken as the need)."""
    pieces = int(count_pieces()) if fixed_pieces is None else int(fixed_pieces)
    return pieces, int(num_layers)


def with_headroom(needs: Needs, *, room: float = 2.0, fixed_pieces: Optional[int] = None) -> Budget:
    """The budget for ``needs`` with ``room`` x the pieces, rounded by the engine's policy;
    ``fixed_pieces`` replaces the piece chunk. The depth chunk is ``DEPTH_CHUNK``."""
    pieces, _ = needs
    max_pieces = int(fixed_pieces) if fixed_pieces is not None else auto_budget(int(math.ceil(room * pieces)))
    return max_pieces, DEPTH_CHUNK


def covers(budget: Budget, needs: Needs) -> bool:
    """Whether the scene's pieces fit in one chunk of ``budget`` (its fastest render)."""
    return budget[0] >= needs[0]


def grow(budget: Budget, new: Budget) -> Budget:
    """The elementwise larger of two budgets: a loop's budget never shrinks."""
    return tuple(max(a, b) for a, b in zip(budget, new))


_COMPILED: Dict[int, Set[Budget]] = {}  # id(jitted step) -> budgets it has been compiled for


def compiled_budget(step, wanted: Budget, needs: Needs) -> Budget:
    """A budget the (cached) jitted ``step`` was already compiled for, if one covers ``needs``
    without being wasteful (at most 4x ``wanted`` pieces); else ``wanted``. Saves a
    recompilation when, e.g., a drawing is refined right after it was made."""
    known = _COMPILED.setdefault(id(step), set())
    fits = sorted(c for c in known if covers(c, needs) and c[0] <= 4 * wanted[0] and c[1] == wanted[1])
    budget = fits[0] if fits else wanted
    known.add(budget)
    return budget
