"""A scene's float leaves packed into one vector, so that encoding costs O(1) operations.

Encoding a scene touches every leaf (points, widths, colours, transforms). Done leaf by
leaf, that is thousands of small operations, and under ``jax.grad`` (eager autodiff) each
one is recorded and transposed: 256 shapes took a second. Here the leaves are registered
in a :class:`LeafTable`, which hands out integer index arrays (NumPy, host-side), and
packed once into ``theta``, float (N,), by a function with its own VJP (the cotangent is
split back into the leaves). Everything the encoding needs is then a gather ``theta[idx]``
with an index array built on the host from the scene's static structure.
"""
from __future__ import annotations

from typing import List

import jax
import jax.numpy as jnp
import numpy as np


def concrete_value(tree):
    """``tree`` with every tracer replaced by its concrete value, or None when a leaf has
    none (inside ``jit`` or ``vmap``).

    Eager autodiff (``jax.grad``, ``jax.vjp`` and ``jax.jvp`` outside ``jit``) wraps the
    concrete arrays in tracers that keep them as ``primal``: budgets can then still be
    counted on the real values instead of falling back to a generous guess.
    """
    def peel(x):
        while isinstance(x, jax.core.Tracer):
            x = getattr(x, "primal", None)
            if x is None:
                raise LookupError
        return x
    try:
        return jax.tree_util.tree_map(peel, tree)
    except LookupError:
        return None


class LeafTable:
    """Registers leaves and hands out their positions in the packed vector."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.leaves: List = []
        self.size = 0

    def add(self, leaf) -> np.ndarray:
        """Register a leaf (array-like, any shape); returns int64 indices of its entries in
        ``theta``, with the leaf's shape."""
        shape = np.shape(leaf)
        n = int(np.prod(shape, dtype=np.int64))
        idx = np.arange(self.size, self.size + n, dtype=np.int64).reshape(shape)
        self.leaves.append(leaf)
        self.size += n
        return idx

    def pack(self) -> jax.Array:
        """theta: float (N,), the registered leaves raveled in order, differentiable."""
        if not self.leaves:
            return jnp.zeros((0,), self.dtype)
        return _pack(self.dtype, tuple(np.shape(x) for x in self.leaves), *self.leaves)


def _pack(dtype, shapes, *leaves):
    @jax.custom_vjp
    def pack(*xs):
        if not any(isinstance(x, jax.core.Tracer) for x in xs):
            # Concrete (the forward pass of eager autodiff, or plain calls): one host copy.
            return jnp.asarray(np.concatenate([np.asarray(x, dtype).reshape(-1) for x in xs]))
        return jnp.concatenate([jnp.asarray(x, dtype).reshape(-1) for x in xs])

    def fwd(*xs):
        return pack(*xs), None

    def bwd(_, g):
        sizes = np.cumsum([int(np.prod(s, dtype=np.int64)) for s in shapes])[:-1]
        parts = jnp.split(g, sizes)
        return tuple(p.reshape(s) for p, s in zip(parts, shapes))

    pack.defvjp(fwd, bwd)
    return pack(*leaves)
