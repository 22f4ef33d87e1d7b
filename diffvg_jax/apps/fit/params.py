"""The optimiser side of a fit: per-group Adam and clamps on packed parameters, and the
Adam-moment reset after densification. Groups and clamp kinds are the applications' one
labelling (:mod:`diffvg_jax.apps.common.labels`).
"""
from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from diffvg_jax import scene as sc
from diffvg_jax.apps.common.labels import CLAMP_KINDS, clamp_kind, group_transforms, on_leaves
from .packing import Packing

__all__ = ["make_optimizer", "make_packed_optimizer", "make_packed_clamp", "reset_moments", "reset_packed_moments",
           "child_mask"]


def _fit_transforms(lr_points: float, lr_width: float, lr_color: float) -> dict:
    return group_transforms(points=lr_points, width=lr_width, color=lr_color, opacity=lr_color)


def make_optimizer(labels, *, lr_points: float, lr_width: float, lr_color: float):
    """Adam per parameter group (one ``optax.multi_transform``); frozen leaves get zero updates.

    ``labels`` is the tree from ``parameter_labels``. The returned transformation takes
    and returns scene pytrees; internally it works on the list of leaves (see
    ``on_leaves``). (``fit`` runs the same transforms on packed vectors instead, see
    :mod:`diffvg_jax.apps.fit.packing`.)
    """
    inner = optax.multi_transform(_fit_transforms(lr_points, lr_width, lr_color), list(jax.tree.leaves(labels)))
    return on_leaves(inner)


def make_packed_optimizer(groups: Sequence[str], *, lr_points: float, lr_width: float, lr_color: float):
    """The same per-group Adam for packed parameters: a dict group -> flat vector."""
    transforms = _fit_transforms(lr_points, lr_width, lr_color)
    return optax.multi_transform({g: transforms[g] for g in groups}, {g: g for g in groups})


def make_packed_clamp(labels, packing: Packing):
    """``make_clamp`` for packed parameters: ``clamp(packed, limits) -> packed``. Each
    element's rule (and, for points, its coordinate) is a static array, so a group is
    clamped with a few elementwise ops instead of one op per leaf."""
    paths = [p for p, _ in jax.tree_util.tree_flatten_with_path(labels)[0]]
    kinds = [CLAMP_KINDS.index(clamp_kind(p, r)) for p, r in zip(paths, packing.leaf_labels)]
    unit, width, nonneg, xy = (CLAMP_KINDS.index(k) for k in ("unit", "width", "nonneg", "xy"))
    kind = packing.element_info(lambda i, shape: kinds[i])
    # x / y of each point: the last axis of a 'points' leaf (0 elsewhere, unused).
    axis = packing.element_info(lambda i, shape: np.arange(shape[-1]) % 2 if kinds[i] == xy and shape else 0)

    def clamp(packed, limits):
        out = {}
        for g, x in packed.items():
            k = kind[g]
            lo = jnp.where(axis[g] == 0, limits["lo"][0], limits["lo"][1])
            hi = jnp.where(axis[g] == 0, limits["hi"][0], limits["hi"][1])
            x = jnp.where(k == unit, jnp.clip(x, 0.0, 1.0), x)
            x = jnp.where(k == width, jnp.clip(x, limits["width"][0], limits["width"][1]), x)
            x = jnp.where(k == nonneg, jnp.maximum(x, 0.0), x)
            out[g] = jnp.where(k == xy, jnp.clip(x, lo, hi), x)
        return out

    return clamp


def reset_moments(opt_state, mask):
    """Zero every per-parameter entry of a list-shaped optimiser state (see ``on_leaves``)
    where ``mask`` (list of bools, one per parameter leaf) is True; counts stay."""
    n = len(mask)

    def is_params(node):
        return isinstance(node, list) and len(node) == n

    def fix(node):
        if not is_params(node):
            return node
        return [jnp.zeros_like(v) if m and hasattr(v, "shape") else v for v, m in zip(node, mask)]

    return jax.tree.map(fix, opt_state, is_leaf=is_params)


def reset_packed_moments(opt_state, masks):
    """:func:`reset_moments` for packed parameters: ``masks`` is dict group -> bool (size,)
    (``Packing.element_mask``); every per-parameter dict in the state is zeroed there."""
    keys = set(masks)

    def is_params(node):
        # multi_transform's own per-group state dict has the same keys: require arrays
        # (or optax's MaskedNode placeholders) as values.
        return (isinstance(node, dict) and set(node) == keys
                and all(hasattr(v, "shape") or isinstance(v, optax.MaskedNode) for v in node.values()))

    def fix(node):
        if not is_params(node):
            return node
        return {g: jnp.where(masks[g], 0.0, v) if hasattr(v, "shape") and v.shape == masks[g].shape else v
                for g, v in node.items()}

    return jax.tree.map(fix, opt_state, is_leaf=is_params)


def child_mask(scene: sc.Scene, which):
    """list of bools, one per leaf of ``scene``: True on the leaves of the children marked in
    ``which`` (bool (num_children,)); matches the list-shaped optimiser state of ``on_leaves``."""
    out = []
    for child, marked in zip(scene.children, which):
        out += [bool(marked)] * len(jax.tree.leaves(child))
    out += [False] * len(jax.tree.leaves(scene.background))
    return out
