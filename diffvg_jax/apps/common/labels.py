"""Parameter groups of a scene: which group each float leaf belongs to, the range it is
clamped to, and the per-group Adam that optimises it. One labelling for fit and clipdraw.

Groups (roles):
  ``points``  path / polygon points, circle and ellipse centres and radii, rect corners,
              gradient geometry (pixels)
  ``width``   stroke widths (pixels)
  ``color``   paint colours and gradient stop colours ([0, 1])
  ``opacity`` fill / stroke / shape / group opacities ([0, 1])
  ``frozen``  transforms, gradient offsets, the background; and any group an app does not
              optimise (see ``groups`` of :func:`parameter_labels`)

Clamp kinds (see :func:`clamp_kind`): 'unit' ([0, 1]), 'width' (the limits' width range),
'nonneg' (radii >= 0), 'xy' (points, per coordinate, into the limits' box) or 'free'.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from diffvg_jax import scene as sc

__all__ = ["ROLES", "CLAMP_KINDS", "leaf_role", "parameter_labels", "clamp_kind", "clamp_limits", "clamp_value",
           "clamp_scene", "make_clamp", "group_transforms", "on_leaves"]

ROLES = ("points", "width", "color", "opacity", "frozen")
CLAMP_KINDS = ("free", "unit", "width", "nonneg", "xy")  # index = the code packed clamps use

_POINT_FIELDS = ("points", "center", "radius", "p_min", "p_max", "corner_radius",
                 "start", "end", "focal", "focal_radius")
_OPACITY_FIELDS = ("fill_opacity", "stroke_opacity", "opacity")
_NONNEGATIVE_FIELDS = ("radius", "corner_radius", "focal_radius")


def _field_names(path):
    return [k.name for k in path if isinstance(k, jax.tree_util.GetAttrKey)]


def leaf_role(path) -> str:
    """The group of the leaf at ``path`` (a ``jax.tree_util`` key path into a Scene)."""
    names = _field_names(path)
    last = names[-1] if names else ""
    if "background" in names or last in ("transform", "offsets"):
        return "frozen"
    if any(n in ("fill", "stroke") for n in names[:-1]):  # inside a paint
        return "color" if last in ("color", "colors") else "points"
    if last in _POINT_FIELDS:
        return "points"
    if last == "stroke_width":
        return "width"
    if last in _OPACITY_FIELDS:
        return "opacity"
    return "frozen"


def parameter_labels(scene: sc.Scene, groups: Sequence[str] = ROLES):
    """The scene with every float leaf replaced by its group name (a str), usable as
    ``optax.multi_transform``'s labels. Groups not in ``groups`` become 'frozen'."""
    def label(path, _):
        role = leaf_role(path)
        return role if role in groups else "frozen"
    return jax.tree_util.tree_map_with_path(label, scene)


def clamp_kind(path, role: str) -> str:
    """How a leaf of group ``role`` at ``path`` is bounded: one of :data:`CLAMP_KINDS`."""
    last = _field_names(path)[-1]
    if role in ("color", "opacity"):
        return "unit"
    if role == "width":
        return "width"
    if role == "points":
        if last in _NONNEGATIVE_FIELDS:
            return "nonneg"
        if last == "points":
            return "xy"
    return "free"


def clamp_limits(*, width: int, height: int, min_width: float = 0.0, max_width: float = np.inf,
                 point_margin: Optional[float] = None) -> dict:
    """The bounds the clamps project onto, as float32 arrays (traced arguments of a jitted
    step, so changing them does not recompile): 'width' (2,) [min_width, max_width] pixels;
    'lo', 'hi' (2,) the box points stay in: the canvas grown by ``point_margin`` pixels
    (None: unbounded; a margin keeps runaway points from inflating the renderer's work)."""
    m = np.inf if point_margin is None else float(point_margin)
    return {"width": jnp.array([min_width, max_width], jnp.float32),
            "lo": jnp.array([-m, -m], jnp.float32),
            "hi": jnp.array([width + m, height + m], jnp.float32)}


def clamp_value(kind: str, x, limits: dict):
    """``x`` projected into the range of clamp ``kind`` (``limits`` from :func:`clamp_limits`)."""
    if kind == "unit":
        return jnp.clip(x, 0.0, 1.0)
    if kind == "width":
        return jnp.clip(x, limits["width"][0], limits["width"][1])
    if kind == "nonneg":
        return jnp.maximum(x, 0.0)
    if kind == "xy":
        return jnp.clip(x, limits["lo"], limits["hi"])
    return x


def clamp_scene(scene: sc.Scene, roles: Sequence[str], limits: dict) -> sc.Scene:
    """Every leaf of ``scene`` projected into its range; ``roles`` holds the group of each of
    ``jax.tree.leaves(scene)``. Frozen leaves are left alone."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(scene)
    return jax.tree.unflatten(treedef, [clamp_value(clamp_kind(p, r), x, limits) for (p, x), r in zip(flat, roles)])


def make_clamp(labels):
    """A jit-able ``clamp(scene, limits) -> scene`` for scenes labelled ``labels`` (from
    :func:`parameter_labels`): colours and opacities to [0, 1]; radii to >= 0; widths and
    points to ``limits`` from :func:`clamp_limits`. Frozen leaves are left alone."""
    roles = tuple(jax.tree.leaves(labels))

    def clamp(scene, limits):
        return clamp_scene(scene, roles, limits)

    return clamp


def group_transforms(**learning_rates) -> Dict[str, optax.GradientTransformation]:
    """Adam per group: ``group_transforms(points=1.0, width=0.1)`` -> {'points': adam(1.0),
    'width': adam(0.1), 'frozen': set_to_zero()}; a rate may be an optax schedule."""
    out = {group: optax.adam(rate) for group, rate in learning_rates.items()}
    out["frozen"] = optax.set_to_zero()
    return out


def on_leaves(inner: optax.GradientTransformation) -> optax.GradientTransformation:
    """Wrap a transformation so it sees ``jax.tree.leaves(params)`` (a list) instead of the
    tree (rebuilding a Scene from optax's boolean masks would turn them into float arrays);
    its state is therefore also list-shaped."""
    def init(params):
        return inner.init(jax.tree.leaves(params))

    def update(updates, state, params=None):
        leaves, treedef = jax.tree.flatten(updates)
        new, state = inner.update(leaves, state, None if params is None else jax.tree.leaves(params))
        return jax.tree.unflatten(treedef, new), state

    return optax.GradientTransformation(init, update)
