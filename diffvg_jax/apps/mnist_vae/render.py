"""Strokes -> images: each decoded digit as white strokes on opaque black.

Two renderers draw the same picture:

* :func:`make_renderer` (training, sampling): a path specialised to this model's drawings,
  built from the engine's public geometry and kernel faces. Each stroke is flattened
  (``geometry.flatten_subpath``, adaptive, at most ``curve_pieces`` line pieces per cubic),
  outlined (``geometry.stroke_outline``, round caps and joins of ``round_points`` points),
  and the outlines of the whole batch go through one dense exact box-filtered winding
  integral (``kernels.winding_integral``, analytic VJP), each stroke its own layer. White strokes of opacity a_k and coverage
  c_k composited "over" opaque black give the grey level ``1 - prod_k (1 - a_k c_k)``,
  which is what ``dv.render`` computes for such a scene. The program is a few fixed-size
  array operations with a piece budget sized for a 28-pixel canvas; ``dv.render`` keeps generic budgets, tiles and depth bookkeeping that a
  4-layer 28 x 28 canvas does not need (see ``notes/mnist.md``).
* :func:`make_scene_renderer`: :func:`strokes_to_scene` drawn by :func:`diffvg_jax.render`
  (the reference; the tests compare the two).
"""
from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.geometry import Subpath, flatten_subpath, stroke_outline
from diffvg_jax.kernels import pieces_needed, winding_integral
from diffvg_jax.raster import render
from diffvg_jax.scene import Path, Scene, Solid
from .config import ModelConfig
from .model import Strokes

__all__ = ["Renderer", "strokes_to_scene", "make_renderer", "make_scene_renderer", "stroke_edges",
           "pieces_per_digit"]


Renderer = Callable[[Strokes], jax.Array]
"""Maps :class:`Strokes` with one batch axis to float32 (B, canvas, canvas) grey images."""

MITER_LIMIT = 4.0  # SVG default; unused by round joins, required by stroke_outline


def strokes_to_scene(points, width, alpha, cfg: ModelConfig):
    """One digit's strokes as a ``dv.Scene``: white strokes on an opaque black canvas.

    Args:
      points: float32 (K, 1 + 3S, 2) pixels. width: float32 (K,). alpha: float32 (K,).
    """
    children = []
    for k in range(cfg.num_paths):
        color = jnp.concatenate([jnp.ones((3,), jnp.float32), alpha[k][None]])
        children.append(Path(points=points[k], degrees=(3,) * cfg.num_segments, closed=False,
                             stroke=Solid(color=color), stroke_width=width[k], fill=None,
                             line_cap=cfg.line_cap, line_join="round"))
    return Scene(children=tuple(children), background=(0.0, 0.0, 0.0, 1.0),
                 width=cfg.canvas, height=cfg.canvas)


def stroke_edges(points, width, cfg: ModelConfig):
    """Closed outline edges of one digit's K strokes.

    Args:
      points: float32 (K, 1 + 3S, 2) control points in pixels. width: float32 (K,) pixels.
    Returns:
      (edges float32 (K * E, 2, 2) pixels, layer int32 (K * E,) the stroke of each edge).
    """
    identity = jnp.eye(3, dtype=jnp.float32)
    s = cfg.num_segments
    idx = 3 * np.arange(s)[:, None] + np.arange(4)[None, :]          # (S, 4) control-point rows

    def one(pts, w):
        verts, _, mask = flatten_subpath(Subpath(pts[idx], False, None), identity, cfg.curve_pieces)
        half = jnp.full((verts.shape[0],), 0.5, verts.dtype) * w
        return stroke_outline(verts, half, closed=False, joint_mask=mask, join="round", cap=cfg.line_cap,
                              miter_limit=MITER_LIMIT, round_points=cfg.round_points)

    edges = jax.vmap(one)(points, width)                               # (K, E, 2, 2)
    k, e = edges.shape[:2]
    layer = jnp.repeat(jnp.arange(k, dtype=jnp.int32), e)
    return edges.reshape(k * e, 2, 2), layer


def _render_batch(strokes: Strokes, cfg: ModelConfig):
    """float32 (B, canvas, canvas) grey levels in [0, 1] of a batch of digits.

    The batch is one winding integral over B * K layers with a shared budget of
    B * max_pieces pieces (flat scatters and one prefix sum: cheaper than vmapping the
    kernel over the digits, whose batched scatters XLA:CPU runs slowly).
    """
    edges, layer = jax.vmap(functools.partial(stroke_edges, cfg=cfg))(strokes.points, strokes.widths)
    b, k = strokes.widths.shape
    layer = (layer + k * jnp.arange(b, dtype=jnp.int32)[:, None]).reshape(-1)
    winding = winding_integral(edges.reshape(-1, 2, 2), layer, num_layers=b * k, height=cfg.canvas,
                               width=cfg.canvas, max_pieces=b * cfg.max_pieces)      # (B * K, H, W)
    coverage = jnp.minimum(jnp.abs(winding), 1.0).reshape(b, k, cfg.canvas, cfg.canvas)  # nonzero rule
    return 1.0 - jnp.prod(1.0 - strokes.alphas[:, :, None, None] * coverage, axis=1)


def pieces_per_digit(strokes: Strokes, cfg: ModelConfig) -> jax.Array:
    """int32 (B,): unit boundary pieces each digit needs (compare with ``cfg.max_pieces``;
    pieces past the budget are dropped, which loses boundary)."""
    def one(points, width):
        edges, _ = stroke_edges(points, width, cfg)
        return pieces_needed(jax.lax.stop_gradient(edges), height=cfg.canvas, width=cfg.canvas)

    return jax.vmap(one)(strokes.points, strokes.widths)


@functools.lru_cache(maxsize=32)
def make_renderer(cfg: ModelConfig) -> Renderer:
    """The specialised renderer (module docstring), vmapped over the batch."""
    return functools.partial(_render_batch, cfg=cfg)


@functools.lru_cache(maxsize=32)
def make_scene_renderer(cfg: ModelConfig) -> Renderer:
    """:func:`diffvg_jax.render` of :func:`strokes_to_scene`, vmapped over the batch; returns
    the red channel (the grey level: strokes are white over opaque black)."""
    def render_one(points, width, alpha):
        scene = strokes_to_scene(points, width, alpha, cfg)
        image = render(scene, width=cfg.canvas, height=cfg.canvas, max_pieces=4096,
                       curve_pieces=cfg.curve_pieces, check_budget=False)
        return image[..., 0]

    def render_batch(strokes: Strokes) -> jax.Array:
        return jax.vmap(render_one)(strokes.points, strokes.widths, strokes.alphas)

    return render_batch
