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

import math
from typing import List

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.runtime import cpu_fusion_emitters_enabled


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

    def __init__(self):
        self.leaves: List = []
        self.shapes: List[tuple] = []
        self.size = 0

    def add(self, leaf) -> np.ndarray:
        """Register a leaf (array-like, any shape); returns int64 indices of its entries in
        ``theta``, with the leaf's shape."""
        shape = tuple(leaf.shape) if hasattr(leaf, "shape") else np.shape(leaf)   # per leaf: no NumPy reductions
        n = math.prod(shape)
        idx = np.arange(self.size, self.size + n, dtype=np.int64).reshape(shape)
        self.leaves.append(leaf)
        self.shapes.append(shape)
        self.size += n
        return idx

def pack_leaves(dtype, size: int, shapes: tuple, leaves) -> jax.Array:
    """theta: float (size,), ``leaves`` (of ``shapes``, at most ``size`` entries in all;
    a :class:`LeafTable`'s, in order) raveled, then zeros up to ``size`` (a capacity
    class: programs that read theta then depend on the class, not on N); differentiable
    in the leaves."""
    if not leaves:
        return jnp.zeros((size,), dtype)
    if not any(isinstance(x, jax.core.Tracer) for x in leaves):
        return _pack_concrete(dtype, size, shapes, leaves)   # nothing to differentiate
    return _pack(dtype, size, shapes, *leaves)


def _concatenate(dtype, size, *xs):
    flat = [jnp.asarray(x, dtype).reshape(-1) for x in xs]
    n = sum(int(x.shape[0]) for x in flat)
    return jnp.concatenate(flat + [jnp.zeros((size - n,), dtype)])


# Concrete leaves are packed on the host the first time a signature (dtype, leaf shapes)
# is seen, which compiles nothing; from its second use on (a loop over one structure) by a
# small jitted concatenation, whose C++ dispatch reads device arrays ~10x faster than
# fetching them one by one.
concatenate_program = jax.jit(_concatenate, static_argnums=(0, 1))
_SEEN_SIGNATURES: set = set()
MAX_SEEN_SIGNATURES = 4096


def _pack_concrete(dtype, size, shapes, xs):
    signature = (np.dtype(dtype).str, size, shapes)
    if signature in _SEEN_SIGNATURES:
        return concatenate_program(dtype, size, *xs)
    if len(_SEEN_SIGNATURES) < MAX_SEEN_SIGNATURES:
        _SEEN_SIGNATURES.add(signature)
    flat = np.concatenate([np.asarray(x, dtype).reshape(-1) for x in xs])
    return jnp.asarray(np.concatenate([flat, np.zeros(size - flat.shape[0], flat.dtype)]))


def _pack(dtype, size, shapes, *leaves):
    @jax.custom_vjp
    def pack(*xs):
        if any(isinstance(x, jax.core.Tracer) for x in xs):
            return _concatenate(dtype, size, *xs)
        return _pack_concrete(dtype, size, shapes, xs)

    def fwd(*xs):
        return pack(*xs), None

    def bwd(_, g):
        # Split at every leaf's end: the last part is the padding, whose cotangent is dropped.
        sizes = np.cumsum([int(np.prod(s, dtype=np.int64)) for s in shapes])
        if not isinstance(g, jax.core.Tracer):
            # Eager autodiff: split on the host (one jnp.split with thousands of outputs
            # took seconds to compile).
            return tuple(jnp.asarray(p.reshape(s)) for p, s in zip(np.split(np.asarray(g), sizes), shapes))
        return split_traced(g, sizes, shapes)

    pack.defvjp(fwd, bwd)
    return pack(*leaves)


def split_traced(g, ends: np.ndarray, shapes) -> tuple:
    """g: float (M,) traced, cut into arrays of ``shapes`` ending at ``ends`` (int, the
    cumulative sizes); the rest of g is dropped.

    Inside a user's ``jit`` every leaf's cotangent is an output of the program, one kernel
    each, and XLA:CPU's compile time per kernel depends on its form (1537 leaves of
    painterly-224): slices with their offsets as attributes compile to distinct kernels
    (~6 ms each with the fusion emitters: 16 s of a 17 s program), while gathers whose
    indices are constant operands share one kernel per shape under those emitters (~2.5 ms
    each) and cost ~10 ms each under the classic emitters, where slices cost ~1.5 ms.
    """
    if not cpu_fusion_emitters_enabled() or jax.default_backend() != "cpu":
        return tuple(p.reshape(s) for p, s in zip(jnp.split(g, ends), shapes))
    starts = np.concatenate([[0], ends[:-1]])
    return tuple(g[np.arange(a, a + math.prod(s), dtype=np.int32).reshape(s)] for a, s in zip(starts, shapes))
