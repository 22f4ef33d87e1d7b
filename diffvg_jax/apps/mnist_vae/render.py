"""Strokes -> images: each decoded digit as a ``diffvg_jax`` scene (white strokes on opaque
black), rendered with :func:`diffvg_jax.render` and vmapped over the batch."""
from __future__ import annotations

import functools
from typing import Callable

import jax
import jax.numpy as jnp

from diffvg_jax.raster import render
from diffvg_jax.scene import Path, Scene, Solid
from .config import ModelConfig
from .model import Strokes

__all__ = ["Renderer", "strokes_to_scene", "make_renderer"]


Renderer = Callable[[Strokes], jax.Array]
"""Maps :class:`Strokes` with one batch axis to float32 (B, canvas, canvas) grey images."""


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


@functools.lru_cache(maxsize=32)
def make_renderer(cfg: ModelConfig) -> Renderer:
    """The diffvg_jax renderer, vmapped over the batch; returns the red channel (the grey
    level: strokes are white over opaque black)."""
    def render_one(points, width, alpha):
        scene = strokes_to_scene(points, width, alpha, cfg)
        image = render(scene, width=cfg.canvas, height=cfg.canvas, max_pieces=cfg.max_pieces,
                          curve_pieces=cfg.curve_pieces)
        return image[..., 0]

    def render_batch(strokes: Strokes) -> jax.Array:
        return jax.vmap(render_one)(strokes.points, strokes.widths, strokes.alphas)

    return render_batch
