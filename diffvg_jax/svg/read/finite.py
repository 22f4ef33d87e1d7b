"""The last check of load_svg: every number of the scene is finite in float32.

The readers check each number where it is read (naming the element and attribute) and
refuse the matrices and sums that overflow; this sweep is the backstop for any derived
value that still is not finite. Its message names the path to the object (type and id)
and the field."""
from __future__ import annotations

import dataclasses

import jax
import numpy as np

from ..errors import SVGError


def check_scene(scene) -> None:
    """SVGError naming the first scene object and field holding inf or nan."""
    if all(np.isfinite(np.asarray(leaf)).all() for leaf in jax.tree_util.tree_leaves(scene)):
        return
    where = _first_bad(scene, type(scene).__name__)
    raise SVGError(f"{where} is not finite in float32 (a number in the file overflows float32 when it is used)")


def _name(obj) -> str:
    ident = getattr(obj, "id", None)
    return f"{type(obj).__name__}(id={ident!r})" if ident else type(obj).__name__


def _first_bad(obj, path: str) -> str:
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if dataclasses.is_dataclass(item) and not isinstance(item, type):
                got = _first_bad(item, f"{path} > {_name(item)}")
                if got:
                    return got
            elif isinstance(item, (jax.Array, np.ndarray, float)) and not np.all(np.isfinite(np.asarray(item))):
                return f"{path}.{f.name}"
    return ""
