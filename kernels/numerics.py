"""Numerical guards shared by the whole engine (kernels import nothing of the package, so
this is the one home of the guarded division that geometry, paint and the kernels use)."""
from __future__ import annotations

import jax.numpy as jnp


def safe_div(num, den, ok, fallback=0.0):
    """``num / den`` where ``ok``, else ``fallback``, elementwise (broadcasting).

    The double ``where``: the masked branch divides by 1 instead of ``den``, so neither the
    value nor the gradient ever sees a division by zero (a single ``where`` would still
    differentiate the discarded ``num / 0`` and give NaN gradients).

    Args:
      num, den: float arrays of any broadcastable shapes, in the caller's units.
      ok: bool array (broadcastable): where the division is meaningful.
      fallback: the value where ``ok`` is False.
    """
    return jnp.where(ok, num / jnp.where(ok, den, 1.0), fallback)
