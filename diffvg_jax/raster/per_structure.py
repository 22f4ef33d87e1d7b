"""The per-structure renderer: the scene's structure compiled into the program.

Before the encoded pipelines (:mod:`.pipeline`), ``render`` traced the scene tree itself:
shapes grouped by static signature, every group, paint and compositing node unrolled into
XLA, so each new structure compiled a new program. ``render`` no longer uses it. It is
kept as the tests' reference for the encoded pipelines: it shares the coverage kernels
with them but not the encoding (leaf packing, segment plans, stroke groups) nor the
compositing (a recursive tree in :mod:`.composite` here, an op list there).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from diffvg_jax.geometry import float_dtype
from diffvg_jax.kernels import fill_rule_coverage, tiled_winding, winding_integral
from diffvg_jax.kernels import pieces_needed as kernel_pieces_needed
from diffvg_jax.paint import unpremultiply
from diffvg_jax.scene import Scene

from .budgets import warn_budget
from .composite import aliased_coverage, composite, composite_tiled
from .layers import collect_layers, is_flat
from .patterns import paint_with_tiles


def _dense_coverage(layers, height, width, max_pieces):
    """float (L, H, W) coverage in [0, 1] of every layer over the whole canvas."""
    A = winding_integral(layers.edges, layers.edge_layer, num_layers=layers.evenodd.shape[0], height=height,
                         width=width, max_pieces=max_pieces)
    if layers.evenodd.all():
        cov = fill_rule_coverage(A, "evenodd")
    elif not layers.evenodd.any():
        cov = fill_rule_coverage(A, "nonzero")
    else:
        cov = jnp.where(layers.evenodd[:, None, None], fill_rule_coverage(A, "evenodd"),
                        fill_rule_coverage(A, "nonzero"))
    return aliased_coverage(cov, layers.aliased)


def render_traced(scene: Scene, width, height, premultiplied, max_pieces, capacity, check_budget, max_depth):
    """float (height, width, 4) RGBA of a scene, traceable; every argument after ``scene``
    is static (``render`` checks them, then calls this under its jit)."""
    paint_at = functools.partial(paint_with_tiles, render_content=render_traced)
    root, layers = collect_layers(scene, capacity, height, width, paint_at)
    num_layers = layers.evenodd.shape[0]
    if num_layers and is_flat(root, layers):
        depth = min(max_depth, num_layers)
        winding, slot_layer, depth_need, pieces_need = tiled_winding(
            layers.edges, layers.edge_layer, layers.evenodd, num_layers=num_layers, height=height, width=width,
            max_pieces=max_pieces, max_depth=depth)
        out = composite_tiled(layers, winding, slot_layer, height, width)
        if check_budget:
            jax.debug.callback(warn_budget, pieces_need, max_pieces, jnp.max(depth_need), depth)
    elif num_layers:
        coverage = _dense_coverage(layers, height, width, max_pieces)
        if check_budget:
            need = kernel_pieces_needed(jax.lax.stop_gradient(layers.edges), height=height, width=width)
            jax.debug.callback(warn_budget, need, max_pieces, 0, 1)
        out = composite(root, layers, coverage, height, width)
    else:
        out = jnp.zeros((height, width, 4), float_dtype())
    bg = jnp.asarray(scene.background, float_dtype())
    bg_pre = jnp.concatenate([bg[:3] * bg[3], bg[3:]])
    out = out + bg_pre * (1.0 - out[..., 3:4])
    return out if premultiplied else unpremultiply(out)
