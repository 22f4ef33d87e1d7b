"""Pack a scene's float leaves into one flat vector per parameter group, and back.

A drawing of 1024 paths is a pytree of about 6000 small arrays. Passed as such to a jitted
optimisation step, every leaf is a separate argument, output and Adam update, and XLA's
compile time grows with all of them (measured: 184 s for one fill step with 1024 paths,
and 2.8 it/s). Packed into a few vectors (one per group: 'points', 'width', 'color', ...),
the step has a handful of arguments; it unpacks them into a scene inside the trace, where
the slices are cheap and fold into the renderer's own stacking.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np


class Packing:
    """The static layout of a scene's leaves in per-group vectors.

    Built from a labels tree (the scene with every float leaf replaced by its group name,
    see ``diffvg_jax.apps.common.labels.parameter_labels``) and the scene itself (for
    shapes). Hashable by identity; keep one per scene structure.

    Attributes:
      groups: tuple of group names, sorted.
      sizes: dict group -> int, the length of its packed float32 vector.
    """

    def __init__(self, labels, scene):
        label_leaves, self._treedef = jax.tree.flatten(labels)
        leaves = jax.tree.leaves(scene)
        if len(leaves) != len(label_leaves):
            raise ValueError("labels and scene must have the same structure")
        self._shapes = [tuple(np.shape(x)) for x in leaves]
        self._labels = list(label_leaves)
        self.groups = tuple(sorted(set(self._labels)))
        self._members: Dict[str, list] = {g: [] for g in self.groups}   # group -> [(leaf index, offset, size)]
        offsets = {g: 0 for g in self.groups}
        for i, (g, shape) in enumerate(zip(self._labels, self._shapes)):
            size = int(np.prod(shape, dtype=np.int64))
            self._members[g].append((i, offsets[g], size))
            offsets[g] += size
        self.sizes = offsets

    def pack(self, scene) -> Dict[str, jax.Array]:
        """dict group -> float32 (size,) vector (works traced or concrete)."""
        leaves = jax.tree.leaves(scene)
        out = {}
        for g in self.groups:
            parts = [jnp.ravel(jnp.asarray(leaves[i], jnp.float32)) for i, _, _ in self._members[g]]
            out[g] = jnp.concatenate(parts) if parts else jnp.zeros((0,), jnp.float32)
        return out

    def unpack(self, packed) -> object:
        """The scene from a dict of packed vectors (jnp or numpy; numpy stays numpy, which
        is the fast way to get a scene on the host)."""
        leaves = [None] * len(self._shapes)
        for g in self.groups:
            vec = packed[g]
            for i, off, size in self._members[g]:
                leaves[i] = vec[off:off + size].reshape(self._shapes[i])
        return jax.tree.unflatten(self._treedef, leaves)

    def element_mask(self, leaf_mask: Sequence[bool]) -> Dict[str, np.ndarray]:
        """Per-leaf booleans (in ``jax.tree.leaves`` order) -> dict group -> bool (size,)."""
        out = {g: np.zeros(self.sizes[g], bool) for g in self.groups}
        for g in self.groups:
            for i, off, size in self._members[g]:
                out[g][off:off + size] = bool(leaf_mask[i])
        return out

    def element_info(self, fn) -> Dict[str, np.ndarray]:
        """dict group -> (size,) array of ``fn(leaf_index, shape)`` broadcast to each leaf's
        elements (``fn`` returns a scalar or an array of the leaf's shape)."""
        out = {}
        for g in self.groups:
            parts = [np.broadcast_to(np.asarray(fn(i, self._shapes[i])), self._shapes[i]).ravel()
                     for i, _, _ in self._members[g]]
            out[g] = np.concatenate(parts) if parts else np.zeros((0,))
        return out

    @property
    def leaf_labels(self) -> Tuple[str, ...]:
        return tuple(self._labels)
