"""The compile-once pipeline: Encoding -> image, one compiled program per capacity class.

The program reads only the encoding's arrays, so its compiled form depends on the canvas
size, the capacity class (edges, layers, paint rasters), the work budgets and the output
convention, never on the scene's structure: drawings of any structure in one class share it.
"""
from __future__ import annotations

import functools
from typing import Optional, Sequence, Tuple

import jax
import jax.numpy as jnp

from diffvg_jax.kernels import pieces_needed as kernel_pieces_needed
from diffvg_jax.kernels import tiled_composite
from diffvg_jax.kernels.tiles import untile
from diffvg_jax.paint import unpremultiply
from diffvg_jax.scene import BLEND_MODES

from .budgets import piece_chunk_of_store, warn_budget
from .composite import shade_slots, slot_paint
from .compositing import OP_DRAW
from .encoding import Compositing, Encoding, pad_rows
from .layered import render_layered


@functools.partial(jax.jit, static_argnums=(1, 2))
def render_encoding_jit(enc: Encoding, premultiplied: bool, rematerialise: bool = False):
    """float (H, W, 4) RGBA of an encoding (straight alpha unless ``premultiplied``): the
    tiled pipeline for a flat encoding, the layered one (:mod:`.layered`) otherwise.
    ``rematerialise`` (static): recompute the elementwise stages in the backward pass
    instead of keeping their residuals. For concrete values (eager calls, eager autodiff),
    where each residual becomes a constant of ``jax.grad``'s linearised program (~45 us of
    JAX's Python); inside a user's jit keeping them is cheaper."""
    if enc.compositing is None:
        out = _render_tiled(enc, rematerialise)
    else:
        out = render_layered(enc)
        if enc.check_budget:
            need = kernel_pieces_needed(jax.lax.stop_gradient(enc.edges), height=enc.height, width=enc.width)
            jax.debug.callback(warn_budget, need, enc.max_pieces, 0, 1)
    over = jax.checkpoint(_over_background, static_argnums=(2,)) if rematerialise else _over_background
    return over(out, enc.background, premultiplied)


def _over_background(out, bg, premultiplied: bool):
    """float (H, W, 4): premultiplied ``out`` over the straight-alpha background colour bg
    float (4,), un-premultiplied unless ``premultiplied``."""
    # As a product of (H, W) and (4,): the gradient is then two matrix-vector products
    # instead of a reduction over the size-4 channel axis (slow on XLA:CPU).
    out = out + jnp.einsum("hw,c->hwc", 1.0 - out[..., 3], jnp.concatenate([bg[:3] * bg[3], bg[3:]]))
    return out if premultiplied else unpremultiply(out)


def _render_tiled(enc: Encoding, rematerialise: bool):
    """float (H, W, 4) premultiplied RGBA of a flat encoding over transparent black: each
    16 x 16 tile composites only the layers present in it, ``max_depth`` slots at a time,
    for as many chunks as its deepest tile needs (exact whatever the budgets)."""
    num_layers = enc.evenodd.shape[0]
    images = enc.images if enc.images.shape[0] else None
    aux, params = slot_paint(enc.evenodd, enc.colour, enc.alpha, enc.image_index, images)
    tiles = tiled_composite(enc.edges, enc.edge_layer, enc.evenodd, aux, params, shade_slots, num_layers=num_layers,
                            height=enc.height, width=enc.width, piece_chunk=piece_chunk_of_store(enc.max_pieces),
                            piece_store=enc.max_pieces, depth_chunk=enc.max_depth, rematerialise=rematerialise)
    return untile(tiles, enc.height, enc.width)


def pad_encoding(enc: Encoding, edges: int, layers: int, images: int, max_pieces: int, max_depth: int,
                 check_budget: bool, compositing: Optional[Tuple[int, int, int, bool]] = None) -> Encoding:
    """``enc`` padded to a larger capacity class and budgets (the same image).
    ``compositing``: (ops, runs, stack depth, blend modes) of a layered class to pad to (a flat
    encoding becomes layered: all its layers in one run), or None to stay flat."""
    L0, I0 = enc.evenodd.shape[0], enc.images.shape[0]
    index = jnp.where(enc.image_index >= I0, images, enc.image_index)       # "solid" moves to the new I
    comp = None if compositing is None else _pad_compositing(enc, layers, *compositing)
    return Encoding(
        pad_rows(enc.edges, edges), pad_rows(enc.edge_layer, edges), pad_rows(enc.evenodd, layers),
        pad_rows(enc.colour, layers), pad_rows(enc.alpha, layers),
        jnp.concatenate([index, jnp.full((layers - L0,), images, jnp.int32)]), pad_rows(enc.images, images),
        enc.background, comp, enc.width, enc.height, int(max_pieces), int(max_depth), bool(check_budget))


def _pad_compositing(enc: Encoding, layers: int, ops: int, runs: int, stack_depth: int,
                     blend_modes: tuple) -> Compositing:
    """The Compositing of ``enc`` padded to ``layers`` layers and the given class (its POPs
    re-indexed into ``blend_modes``, a superset of its own). A flat encoding is one run
    drawn onto the canvas (its padding layers have alpha 0)."""
    c = enc.compositing
    L0 = enc.evenodd.shape[0]
    if c is None:
        run_end = jnp.arange(L0) == L0 - 1
        c = Compositing(jnp.zeros(L0, bool), jnp.zeros(L0, jnp.int32), run_end,
                        jnp.zeros((1, 3), jnp.int32).at[0, 0].set(OP_DRAW), jnp.ones(1, enc.colour.dtype), 1, 1, ("normal",))
    layer_run = jnp.where(c.layer_run >= c.num_runs, runs, c.layer_run)    # padding layers: the new dropped run
    K0 = c.ops.shape[0]
    modes = jnp.asarray([blend_modes.index(m) for m in c.blend_modes], jnp.int32)
    own = c.ops.at[:, 2].set(modes[c.ops[:, 2]])
    return Compositing(
        pad_rows(c.aliased, layers), jnp.concatenate([layer_run, jnp.full((layers - L0,), runs, jnp.int32)]),
        jnp.concatenate([c.run_end, jnp.ones((layers - L0,), bool)]), pad_rows(own, ops),
        jnp.concatenate([c.op_opacity, jnp.ones((ops - K0,), c.op_opacity.dtype)]), int(runs), int(stack_depth),
        tuple(blend_modes))


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
    layered = [e.compositing for e in encodings if e.compositing is not None]
    compositing = None
    if layered:     # one layered class for all (flat encodings become one run each)
        compositing = (max(c.ops.shape[0] for c in layered), max(c.num_runs for c in layered),
                       max(c.stack_depth for c in layered),
                       tuple(m for m in BLEND_MODES if any(m in c.blend_modes for c in layered)))
    padded = [pad_encoding(e, E, L, I, P, D, check, compositing) for e in encodings]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *padded)
