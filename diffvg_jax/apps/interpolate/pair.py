"""Fitting one set of closed filled paths to two targets, so that path k plays the same
part in both drawings: fit the first target from blobs placed on it, then start the second
fit from the first fit's result (a warm start), so each path moves, bends and recolours
from its role in the first drawing to the nearest matching role in the second.

The parameters are the scene itself (control points in pixels, straight RGBA fill colours
in [0, 1]), optimised with per-group Adam (:mod:`diffvg_jax.apps.common.labels`) under
:func:`~.target.image_loss` on premultiplied RGBA, in one jitted step per structure.
"""
from __future__ import annotations

import functools
from typing import Callable, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from diffvg_jax import Scene, Solid, pieces_needed, render, replace
from diffvg_jax.raster import count_layers
from diffvg_jax.apps.common.budgets import compiled_budget, covers, grow, measure_needs, with_headroom
from diffvg_jax.apps.common.init_paths import key_to_rng, random_blobs
from diffvg_jax.apps.common.labels import clamp_limits, group_transforms, make_clamp, on_leaves, parameter_labels
from diffvg_jax.apps.common.progress import run_steps
from .target import image_loss, psnr

__all__ = ["initial_blobs", "fit_drawing", "fit_pair"]


def initial_blobs(target, num_paths: int, *, segments: int = 4, seed: int = 0, large: float = 0.25,
                  small: float = 0.08) -> Scene:
    """Closed cubic blobs placed where ``target`` has ink, coloured like the target there.

    The first quarter of the paths (drawn first, so underneath) has radius ``large``, the
    rest ``small`` (fractions of the canvas side); centres are drawn with probability
    proportional to the target's alpha; each blob takes the target's straight colour at
    its centre, opaque.

    Args:
      target: float32 (S, S, 4) premultiplied RGBA in [0, 1].
      num_paths: number of blobs (>= 1); segments: cubic segments per blob (>= 2).
      seed: int; the same seed gives the same blobs.
    Returns:
      Scene of ``num_paths`` closed :class:`~diffvg_jax.Path` children (fill ``Solid``, no
      stroke), transparent background, width = height = S.
    """
    target = np.asarray(target, np.float32)
    size = target.shape[0]
    if int(num_paths) != num_paths or num_paths < 1:
        raise ValueError(f"the number of paths must be a positive integer, got {num_paths!r}")
    n_large = max(1, int(num_paths) // 4) if num_paths > 1 else 1
    scenes = [random_blobs(seed, n_large, size, size, num_segments=segments, radius=large)]
    if num_paths > n_large:
        scenes.append(random_blobs(seed + 1, int(num_paths) - n_large, size, size, num_segments=segments,
                                   radius=small))
    children = [c for s in scenes for c in s.children]
    rng = key_to_rng(seed)
    weight = target[..., 3].ravel().astype(np.float64) + 1e-6
    picks = rng.choice(weight.size, size=len(children), p=weight / weight.sum())
    placed = []
    for child, pick in zip(children, picks):
        y, x = divmod(int(pick), size)
        pts = np.asarray(child.points, np.float32)
        pts = pts - pts.mean(0) + np.array([x + 0.5, y + 0.5], np.float32)
        alpha = max(float(target[y, x, 3]), 1e-3)
        colour = np.append(np.clip(target[y, x, :3] / alpha, 0.0, 1.0), 1.0).astype(np.float32)
        placed.append(replace(child, points=jnp.asarray(pts), fill=Solid(color=jnp.asarray(colour))))
    return Scene(children=tuple(placed), width=size, height=size)


@functools.lru_cache(maxsize=8)
def _compiled(labels, size: int, steps: int, lr_points: float, lr_color: float):
    """(optimizer, jitted step(scene, opt_state, target, limits, budget) -> (scene,
    opt_state, loss, psnr)); loss and psnr describe the incoming scene. Rates decay by a
    cosine to a tenth over ``steps``."""
    def rate(lr):
        return optax.cosine_decay_schedule(lr, max(int(steps), 1), alpha=0.1)
    flat_labels = jax.tree.leaves(labels)
    optimizer = on_leaves(optax.multi_transform(group_transforms(points=rate(lr_points), color=rate(lr_color)),
                                                flat_labels))
    clamp = make_clamp(labels)

    @functools.partial(jax.jit, static_argnames=("budget",))
    def step(scene, opt_state, target, limits, budget):
        def objective(s):
            img = render(s, width=size, height=size, premultiplied=True, max_pieces=budget[0],
                         max_depth=budget[1], check_budget=False)
            return image_loss(img, target), img
        (value, img), grads = jax.value_and_grad(objective, has_aux=True)(scene)
        grads = jax.tree.map(lambda g: jnp.where(jnp.isfinite(g), g, 0.0), grads)
        updates, opt_state = optimizer.update(grads, opt_state, scene)
        return clamp(optax.apply_updates(scene, updates), limits), opt_state, value, psnr(img, target)

    return optimizer, step


def _budget(step, scene: Scene, size: int, old=None, room: float = 4.0):
    """A (max_pieces, max_depth) covering ``scene`` with ``room`` x its pieces (preferring
    one ``step`` was already compiled for); ``old`` while it still covers with 20 % spare."""
    needs = measure_needs(count_layers(scene), lambda: pieces_needed(scene, width=size, height=size))
    if old is not None and covers(old, needs) and needs[0] <= 0.8 * old[0]:
        return old
    wanted = with_headroom(needs, room=room)
    return compiled_budget(step, wanted if old is None else grow(old, wanted), needs)


def fit_drawing(target, init: Scene, *, steps: int = 200, lr_points: float = 0.5, lr_color: float = 0.02,
                progress: bool = False, desc: str = "fitting", callback: Optional[Callable] = None
                ) -> Tuple[Scene, dict]:
    """Optimise the control points and fill colours of ``init`` towards ``target``.

    Args:
      target: float32 (S, S, 4) premultiplied RGBA in [0, 1].
      init: the starting scene (S x S canvas); its structure is kept.
      steps: Adam steps (>= 0); lr_points (pixels) and lr_color ([0, 1]): Adam learning
        rates, decayed by a cosine to a tenth.
      progress: show a progress bar labelled ``desc``.
      callback: ``callback(step, scene)`` after every step (the updated scene).
    Returns:
      (scene, history): the fitted scene (host arrays) and a dict with 'loss', 'psnr'
      (float32 (steps,), before each update), 'final_loss', 'final_psnr' (dB, over white,
      of the returned scene), 'image' (its render: float32 (S, S, 4) premultiplied),
      'interrupted'.
    """
    target = np.asarray(target, np.float32)
    size = target.shape[0]
    if target.ndim != 3 or target.shape != (size, size, 4):
        raise ValueError(f"target must be a square (S, S, 4) RGBA image, got shape {target.shape}")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    for name, lr in (("lr_points", lr_points), ("lr_color", lr_color)):
        if not (np.isfinite(lr) and lr >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {lr!r}")
    labels = parameter_labels(init, groups=("points", "color"))
    optimizer, step = _compiled(labels, size, int(steps), float(lr_points), float(lr_color))
    limits = clamp_limits(width=size, height=size, point_margin=0.25 * size)
    state = {"scene": jax.tree.map(jnp.asarray, replace(init, width=size, height=size)), "losses": [], "psnrs": []}
    state["opt"] = optimizer.init(state["scene"])
    state["budget"] = _budget(step, state["scene"], size)
    target_j = jnp.asarray(target)

    def one(i):
        scene, state["opt"], value, p = step(state["scene"], state["opt"], target_j, limits, budget=state["budget"])
        state["scene"] = scene
        state["losses"].append(value)
        state["psnrs"].append(p)
        if (i + 1) % 10 == 0:
            state["budget"] = _budget(step, scene, size, state["budget"], room=2.0)
        if callback is not None:
            callback(i + 1, scene)
        return value

    stats = run_steps(one, 0, int(steps), progress=progress, interruptible=True, desc=desc,
                      show=lambda i: {"psnr": f"{float(state['psnrs'][-1]):.2f}"}, show_every=10)
    scene = jax.tree.map(np.asarray, state["scene"])
    image = render(scene, width=size, height=size, premultiplied=True)
    return scene, {"loss": np.asarray([float(v) for v in state["losses"]], np.float32),
                   "psnr": np.asarray([float(v) for v in state["psnrs"]], np.float32),
                   "final_loss": float(image_loss(image, target)), "final_psnr": float(psnr(image, target)),
                   "image": np.asarray(image), "interrupted": stats.interrupted}


def fit_pair(target_a, target_b, *, num_paths: int = 32, segments: int = 4, steps: int = 200, seed: int = 0,
             lr_points: float = 0.5, lr_color: float = 0.02, init: Optional[Scene] = None,
             progress: bool = False, callbacks: Optional[Tuple[Callable, Callable]] = None
             ) -> Tuple[Scene, Scene, dict]:
    """Fit one set of paths to ``target_a``, then the same paths (warm start) to ``target_b``.

    Args:
      target_a, target_b: float32 (S, S, 4) premultiplied RGBA in [0, 1], the same S.
      num_paths, segments: blobs of the initial drawing (see :func:`initial_blobs`).
      steps: Adam steps of each fit; seed: the initial blobs; lr_points, lr_color: as
        :func:`fit_drawing`.
      init: a scene to start the first fit from instead of blobs (its structure is kept).
      progress: show progress; callbacks: ``(callback_a, callback_b)``, each
        ``callback(step, scene)`` as :func:`fit_drawing` calls it (e.g. a
        :class:`~diffvg_jax.apps.common.artifacts.SnapshotWriter`).
    Returns:
      (scene_a, scene_b, info): two scenes of one structure; info holds 'a' and 'b' (the
      histories of :func:`fit_drawing`) and 'init' (the initial scene). A Ctrl-C during
      the first fit skips the second (``info['a']['interrupted']``).
    """
    a, b = np.asarray(target_a, np.float32), np.asarray(target_b, np.float32)
    if a.shape != b.shape:
        raise ValueError(f"the two targets differ in size: {a.shape} and {b.shape}")
    start = initial_blobs(a, num_paths, segments=segments, seed=seed) if init is None else init
    kw = dict(steps=steps, lr_points=lr_points, lr_color=lr_color, progress=progress)
    call_a, call_b = (None, None) if callbacks is None else callbacks
    scene_a, hist_a = fit_drawing(a, start, desc="fitting A", callback=call_a, **kw)
    if hist_a["interrupted"]:  # Ctrl-C stops the whole pair: B is A's result, unfitted
        kw["steps"] = 0
    scene_b, hist_b = fit_drawing(b, scene_a, desc="fitting B", callback=call_b, **kw)
    return scene_a, scene_b, {"a": hist_a, "b": hist_b, "init": start}
