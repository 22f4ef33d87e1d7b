"""Argument checks the optimisers (fit, clipdraw) share: each failure is a ValueError
naming the argument and the bad value."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from diffvg_jax.scene import Scene

__all__ = ["check_run_args"]


def check_run_args(*, iterations, init, num_paths, min_width, max_width, rates: Mapping[str, float]):
    """iterations a non-negative integer; num_paths a positive integer unless ``init`` is
    given; ``init`` a Scene or None; 0 < min_width <= max_width (pixels); every learning
    rate in ``rates`` (name -> value) finite and >= 0."""
    if int(iterations) != iterations or iterations < 0:
        raise ValueError(f"iterations must be a non-negative integer, got {iterations!r}")
    if init is None and (int(num_paths) != num_paths or num_paths < 1):
        raise ValueError(f"num_paths must be a positive integer, got {num_paths!r}")
    if init is not None and not isinstance(init, Scene):
        raise ValueError(f"init must be a diffvg_jax.Scene, got {type(init).__name__}")
    if not (0 < min_width <= max_width):
        raise ValueError(f"need 0 < min_width <= max_width, got {min_width!r}, {max_width!r}")
    for name, lr in rates.items():
        if not (np.isfinite(lr) and lr >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {lr!r}")
