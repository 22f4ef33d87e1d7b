"""The compile-once pipeline: Encoding -> image, one compiled program per capacity class.

The program reads only the encoding's arrays, so its compiled form depends on the canvas
size, the capacity class (edges, layers, paint rasters), the work budgets and the output
convention, never on the scene's structure: drawings of any structure in one class share it.
"""
from __future__ import annotations

import functools
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.kernels import tiled_winding
from diffvg_jax.paint import unpremultiply

from .budgets import warn_budget
from .composite import composite_slots
from .encoding import Encoding, pad_rows


@functools.partial(jax.jit, static_argnums=(1,))
def render_encoding_jit(enc: Encoding, premultiplied: bool):
    """float (H, W, 4) RGBA of an encoding (straight alpha unless ``premultiplied``)."""
    num_layers = enc.evenodd.shape[0]
    depth = min(enc.max_depth, num_layers)
    winding, slot_layer, depth_need, pieces_need = tiled_winding(
        enc.edges, enc.edge_layer, enc.evenodd, num_layers=num_layers, height=enc.height, width=enc.width,
        max_pieces=enc.max_pieces, max_depth=depth)
    images = enc.images if enc.images.shape[0] else None
    out = composite_slots(enc.evenodd, enc.colour, enc.alpha, enc.image_index, images, winding, slot_layer,
                          enc.height, enc.width)
    if enc.check_budget:
        jax.debug.callback(warn_budget, pieces_need, enc.max_pieces, jnp.max(depth_need), depth)
    bg = enc.background
    out = out + jnp.concatenate([bg[:3] * bg[3], bg[3:]]) * (1.0 - out[..., 3:4])
    return out if premultiplied else unpremultiply(out)


def pad_encoding(enc: Encoding, edges: int, layers: int, images: int, max_pieces: int, max_depth: int,
                 check_budget: bool) -> Encoding:
    """``enc`` padded to a larger capacity class and budgets (the same image)."""
    L0, I0 = enc.evenodd.shape[0], enc.images.shape[0]
    index = jnp.where(enc.image_index >= I0, images, enc.image_index)       # "solid" moves to the new I
    return Encoding(
        pad_rows(enc.edges, edges), pad_rows(enc.edge_layer, edges), pad_rows(enc.evenodd, layers),
        pad_rows(enc.colour, layers), pad_rows(enc.alpha, layers),
        jnp.concatenate([index, jnp.full((layers - L0,), images, jnp.int32)]), pad_rows(enc.images, images),
        enc.background, enc.width, enc.height, int(max_pieces), int(max_depth), bool(check_budget))


def stack_encodings(encodings: Sequence[Encoding]) -> Encoding:
    """One batched Encoding (leading axis B) of encodings of any structure and class: each
    is padded to the largest class and budgets among them, then stacked. Render it with
    ``jax.vmap(dv.render)``. The canvas sizes must agree."""
    encodings = list(encodings)
    if not encodings:
        raise ValueError("encode_batch: no scenes")
    sizes = {(e.width, e.height) for e in encodings}
    if len(sizes) > 1:
        raise ValueError(f"encode_batch: the scenes must share one canvas size, got {sorted(sizes)}")
    E = max(e.edges.shape[0] for e in encodings)
    L = max(e.evenodd.shape[0] for e in encodings)
    I = max(e.images.shape[0] for e in encodings)
    P = max(e.max_pieces for e in encodings)
    D = max(e.max_depth for e in encodings)
    check = any(e.check_budget for e in encodings)
    padded = [pad_encoding(e, E, L, I, P, D, check) for e in encodings]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *padded)
