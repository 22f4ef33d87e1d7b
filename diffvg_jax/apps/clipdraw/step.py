"""CLIPDraw's jitted step: render, augment, encode with CLIP, follow the gradient of

    loss = -mean_views cos(image, prompt) + negative_weight * sum_negatives mean_views cos(image, negative)

back to the strokes (Adam per parameter group, :mod:`diffvg_jax.apps.common.labels`), clamp.
"""
from __future__ import annotations

import functools
from typing import Callable, Sequence, Tuple

import jax
import jax.numpy as jnp
import optax

from diffvg_jax import scene as sc
from diffvg_jax.apps.common.labels import clamp_limits, clamp_scene, group_transforms, on_leaves, parameter_labels
from .augment import clipdraw_augment
from .clipnet import CLIP, CLIPConfig, CLIPModel, normalize, preprocess, tokenize

__all__ = ["GROUPS", "WHITE", "points_schedule", "leaf_roles", "text_features", "make_step"]

GROUPS = ("points", "width", "color")  # what CLIPDraw optimises; opacities stay as they are
WHITE = 1.0


def points_schedule(lr: float, iterations: int):
    """optax schedule: ``lr`` for steps [0, N/2), 0.4 lr for [N/2, 3N/4), 0.1 lr after
    (step = number of updates already made, as CLIPDraw's loop index)."""
    half, three_q = int(iterations * 0.5), int(iterations * 0.75)
    if half == three_q:
        return optax.piecewise_constant_schedule(lr, {half: 0.1})
    return optax.piecewise_constant_schedule(lr, {half: 0.4, three_q: 0.25})


def leaf_roles(scene: sc.Scene) -> Tuple[str, ...]:
    """The optimisation group of each of ``jax.tree.leaves(scene)``: the applications' one
    labelling (``parameter_labels``) restricted to :data:`GROUPS` ('points', 'width',
    'color'); everything else (transforms, opacities, the background) is 'frozen'."""
    return tuple(jax.tree.leaves(parameter_labels(scene, groups=GROUPS)))


def _unit(x):
    return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def text_features(clip: CLIP, texts: Sequence[str]):
    """float32 (len(texts), E) unit-length text embeddings (E is 0-wide for no texts)."""
    if not texts:
        return jnp.zeros((0, clip.config.embed_dim), jnp.float32)
    return _unit(clip.encode_text(tokenize(list(texts), context_length=clip.config.text.context_length)))


@functools.lru_cache(maxsize=8)
def make_step(labels, config: CLIPConfig, width: int, height: int, iterations: int, num_augs: int,
              lr_points: float, lr_width: float, lr_color: float, min_width: float, max_width: float,
              negative_weight: float, distortion: float, crop_scale: Tuple[float, float],
              render_fn: Callable):
    """(init_state, clamp, step, evaluate) for one CLIPDraw configuration (cached: a second
    run with the same settings reuses the compiled code). ``labels`` is :func:`leaf_roles`
    of the scene; init_state(scene) gives the optimiser state, clamp(scene) projects the
    parameters into range.

    step(scene, opt_state, key, clip_params, pos (1, E), neg (K, E), budget) ->
      (scene, opt_state, loss, score, rgb): ``score`` is the mean cosine of the augmented
      views with the prompt and ``rgb`` float32 (H, W, 3) the render over white, both of the
      incoming scene. evaluate(clip_params, pos, rgb) -> the cosine of the un-augmented
      drawing ``rgb`` (CLIP's resize / centre crop) with the prompt. ``budget`` is the static
      renderer budget (max_pieces, max_depth), see :func:`~diffvg_jax.apps.clipdraw.draw.render_budget`.
    """
    model = CLIPModel(config)
    size = config.vision.image_size
    transforms = group_transforms(points=points_schedule(lr_points, iterations), width=lr_width, color=lr_color)
    optimizer = on_leaves(optax.multi_transform(transforms, list(labels)))
    # Points stay within a quarter canvas of the edges: harmless for the drawing, and keeps
    # runaway points from inflating the renderer's work (max_pieces).
    limits = clamp_limits(width=width, height=height, min_width=min_width, max_width=max_width,
                          point_margin=0.25 * max(width, height))

    def clamp(scene):
        return clamp_scene(scene, labels, limits)

    def render_rgb(scene, budget):
        # the loop re-measures the needs every few steps: no run-time check (it costs time)
        img = render_fn(scene, width=width, height=height, premultiplied=True, max_pieces=budget[0],
                        max_depth=budget[1], check_budget=False)
        return img[..., :3] + (1.0 - img[..., 3:4]) * WHITE

    def encode(clip_params, pixels):
        return _unit(model.apply({"params": clip_params}, pixels, method="encode_image"))

    @functools.partial(jax.jit, static_argnames=("budget",))
    def step(scene, opt_state, key, clip_params, pos, neg, budget):
        def objective(s):
            rgb = render_rgb(s, budget)
            views = clipdraw_augment(key, rgb, num_copies=num_augs, size=size, distortion=distortion,
                                     scale=crop_scale, fill=WHITE)
            feats = encode(clip_params, normalize(views))
            score = jnp.mean(feats @ pos[0])
            loss = -score + negative_weight * jnp.sum(jnp.mean(feats @ neg.T, axis=0))
            return loss, (score, rgb)

        (loss, (score, rgb)), grads = jax.value_and_grad(objective, has_aux=True)(scene)
        # A degenerate stroke can give non-finite gradients; never let them poison the scene.
        grads = jax.tree.map(lambda g: jnp.where(jnp.isfinite(g), g, 0.0), grads)
        updates, opt_state = optimizer.update(grads, opt_state, scene)
        return clamp(optax.apply_updates(scene, updates)), opt_state, loss, score, rgb

    @jax.jit
    def evaluate(clip_params, pos, rgb):
        # The render comes from ``step`` (its rgb output), so scoring compiles no renderer.
        feats = encode(clip_params, preprocess(rgb[None], size))
        return jnp.mean(feats @ pos[0])

    return optimizer.init, clamp, step, evaluate
