"""CLIPDraw: optimise random strokes until CLIP matches the drawing to a caption.

After Frans, Soros and Witkowski, "CLIPDraw: Exploring Text-to-Drawing Synthesis through
Language-Image Encoders" (2021). Each step renders the strokes, composites them over
white, makes ``num_augs`` augmented views (random perspective warp, then a random resized
crop to CLIP's input size; :mod:`.augment`), encodes them with CLIP's image tower and
follows the gradient of the CLIP loss (:mod:`.step`) back to the stroke control points,
widths and colours (Adam; points' learning rate drops to 0.4x at half the iterations and
to 0.1x at three quarters)::

    clip = dv.clip.load("~/models/clip-vit-base-patch32")
    scene, history = dv.clipdraw("a drawing of a cat", clip=clip, num_paths=256, iterations=1000)
"""
from __future__ import annotations

import dataclasses
from typing import Callable, List, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax import scene as sc
from diffvg_jax.raster import count_layers, pieces_needed, render
from diffvg_jax.apps.common.checks import check_run_args
from diffvg_jax.apps.common.budgets import Budget, grow, measure_needs, with_headroom
from diffvg_jax.apps.common.init_paths import random_strokes
from diffvg_jax.apps.common.progress import run_steps
from .clipnet import CLIP
from .step import leaf_roles, make_step, text_features

__all__ = ["clipdraw", "render_budget", "DEFAULTS"]

# CLIPDraw's published settings.
DEFAULTS = dict(num_paths=256, iterations=1000, canvas_size=224, num_augs=4, lr_points=1.0, lr_width=0.1,
                lr_color=0.01, min_width=1.0, max_width=50.0, max_segments=3, init_width=1.0,
                negative_weight=0.3, distortion=0.5, crop_scale=(0.7, 0.9))


def render_budget(scene, width: int, height: int, max_pieces: Optional[int] = None) -> Budget:
    """Renderer chunks (max_pieces, max_depth) for the traced step: the concrete piece need
    with 2x headroom (or ``max_pieces`` when fixed), rounded by the engine's policy. Static
    arguments, so they rarely change; a scene past them is still drawn exactly."""
    needs = measure_needs(count_layers(scene), lambda: pieces_needed(scene, width=width, height=height),
                          fixed_pieces=max_pieces)
    return with_headroom(needs, fixed_pieces=max_pieces)


def _check(prompt, clip, num_augs, crop_scale, distortion):
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"prompt must be a non-empty string, got {prompt!r}")
    if not isinstance(clip, CLIP):
        raise ValueError(f"clip must be a diffvg_jax.clip.CLIP (dv.clip.load(...)), got {type(clip).__name__}")
    if int(num_augs) != num_augs or num_augs < 1:
        raise ValueError(f"num_augs must be a positive integer, got {num_augs!r}")
    if not (0 < crop_scale[0] <= crop_scale[1] <= 1):
        raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {crop_scale!r}")
    if not (0 <= distortion < 1):
        raise ValueError(f"distortion must be in [0, 1), got {distortion!r}")


@dataclasses.dataclass
class _Loop:
    """What changes during one run: the strokes, the optimiser state, the budget, the curves."""

    params: sc.Scene
    opt_state: object
    budget: Budget
    scores: List[float] = dataclasses.field(default_factory=list)
    losses: List[float] = dataclasses.field(default_factory=list)
    initial_score: Optional[jax.Array] = None


def _optimise(loop: _Loop, run: Callable, evaluate: Callable, remeasure: Callable, iterations: int, budget_every: int,
              callback, *, progress: bool, interruptible: bool):
    """The loop: re-measure the budget every ``budget_every`` steps, step, callback.
    ``run(params, opt_state, i, budget)`` is one step with step ``i``'s augmentation key."""
    def one(i):
        if i and i % budget_every == 0:
            loop.budget = grow(loop.budget, remeasure(loop.params))
        new_params, loop.opt_state, loss, score, rgb = run(loop.params, loop.opt_state, i, loop.budget)
        if i == 0:
            loop.initial_score = evaluate(rgb)
        if callback is not None:
            callback(i, loop.params, rgb)
        loop.params = new_params
        loop.scores.append(float(score))
        loop.losses.append(float(loss))

    return run_steps(one, 0, int(iterations), progress=progress, interruptible=interruptible,
                     show=lambda i: {"score": f"{loop.scores[-1]:.4f}"})


# Most of clipdraw's length is its docstring, the reference of the public ``dv.clipdraw``.
def clipdraw(prompt: str, *, clip: CLIP, num_paths: int = 256, iterations: int = 1000,
             canvas_size: Union[int, Tuple[int, int]] = 224, num_augs: int = 4,
             negative_prompts: Sequence[str] = (), negative_weight: float = 0.3,
             lr_points: float = 1.0, lr_width: float = 0.1, lr_color: float = 0.01,
             min_width: float = 1.0, max_width: float = 50.0, max_segments: int = 3,
             init_width: float = 1.0, init_radius: float = 0.1, distortion: float = 0.5,
             crop_scale: Tuple[float, float] = (0.7, 0.9), seed: int = 0,
             init: Optional[sc.Scene] = None, callback: Optional[Callable] = None,
             progress: bool = False, interruptible: bool = False, budget_every: int = 50,
             max_pieces: Optional[int] = None, render_fn: Optional[Callable] = None):
    """Draw ``prompt`` with strokes by maximising CLIP's similarity (CLIPDraw).

    Args:
      prompt: the caption, e.g. "a drawing of a cat".
      clip: a :class:`diffvg_jax.clip.CLIP` (``dv.clip.load(path)``; ``CLIP.random`` for tests).
      num_paths: open strokes of 1..``max_segments`` cubic segments (ignored with ``init``).
      iterations: optimisation steps (>= 0).
      canvas_size: drawing size in pixels, an int or (width, height). The augmented views
        are resampled to CLIP's input size whatever the canvas.
      num_augs: augmented views per step.
      negative_prompts: captions to move away from, each weighted ``negative_weight``.
      lr_points, lr_width, lr_color: Adam learning rates (pixels, pixels, [0, 1] units);
        the points' rate follows :func:`points_schedule`.
      min_width, max_width: stroke-width clamp in pixels; colours are clamped to [0, 1].
      init_width: initial stroke width (pixels); init_radius: the initial strokes' step
        between control points as a fraction of the canvas (CLIPDraw's 0.1).
      distortion, crop_scale: the perspective warp's distortion scale and the random
        resized crop's area range.
      seed: seeds the strokes and the augmentations.
      init: a scene of stroked paths to continue from instead of random strokes.
      callback: ``callback(step, scene, image)`` before every update and once at the end;
        ``image`` float32 (H, W, 3) is the render over white of ``scene``, which has had
        ``step`` updates.
      progress: the progress display, showing the CLIP score (mean cosine of the augmented views).
      interruptible: on KeyboardInterrupt return the drawing so far (history['interrupted']).
      budget_every: steps between re-measurements of the renderer's work budget.
      max_pieces: a fixed renderer work budget (see :func:`diffvg_jax.render`) instead of
        measuring the scene (saves compiling the measurement; too small drops edges). The
        depth budget is still measured (for more than 16 paths).
      render_fn: renderer with :func:`diffvg_jax.render`'s signature (default: that one).

    Returns:
      (scene, history): the final :class:`Scene` (white background, width/height set) and a
      dict with 'score' and 'loss' (float32 (n,) per step, of the incoming scene and its
      augmented views), 'initial_score' and 'final_score' (cosine of the un-augmented
      drawing with the prompt), 'iterations', 'seconds', 'it_per_s' (excluding the first,
      compiling step; 0 with fewer than two steps), 'compile_seconds', 'interrupted',
      'width', 'height', 'prompt', 'negative_prompts', 'max_pieces', 'max_depth' (the
      renderer budgets), 'image' (float32 (H, W, 3), the final drawing over white).
    """
    rates = (lr_points, lr_width, lr_color)
    _check(prompt, clip, num_augs, crop_scale, distortion)
    check_run_args(iterations=iterations, init=init, num_paths=num_paths, min_width=min_width, max_width=max_width,
                   rates=dict(lr_points=lr_points, lr_width=lr_width, lr_color=lr_color))
    negative_prompts = tuple(negative_prompts)
    width, height = (canvas_size, canvas_size) if np.isscalar(canvas_size) else tuple(canvas_size)
    width, height = int(width), int(height)
    init_key, aug_key = jax.random.split(jax.random.key(int(seed)))
    if init is not None:
        scene = init.replace(width=width, height=height)
    else:
        scene = random_strokes(init_key, int(num_paths), width, height, max_segments=int(max_segments),
                               stroke_width=float(init_width), radius=float(init_radius))
    scene = scene.replace(background=jnp.ones(4, jnp.float32))
    init_state, clamp, step, evaluate = make_step(
        leaf_roles(scene), clip.config, width, height, int(iterations), int(num_augs), *(float(r) for r in rates),
        float(min_width), float(max_width), float(negative_weight), float(distortion),
        (float(crop_scale[0]), float(crop_scale[1])), render if render_fn is None else render_fn)
    pos, neg = text_features(clip, [prompt]), text_features(clip, negative_prompts)
    fixed = None if max_pieces is None else int(max_pieces)
    params = clamp(scene)
    loop = _Loop(params=params, opt_state=init_state(params), budget=render_budget(params, width, height, fixed))

    def run(p, opt_state, i, budget):
        return step(p, opt_state, jax.random.fold_in(aug_key, i), clip.params, pos, neg, budget=budget)

    stats = _optimise(loop, run, lambda rgb: evaluate(clip.params, pos, rgb),
                      lambda p: render_budget(p, width, height, fixed), iterations, budget_every, callback,
                      progress=progress, interruptible=interruptible)
    loop.budget = grow(loop.budget, render_budget(loop.params, width, height, fixed))
    # One more (discarded) step renders the final scene with the compiled code.
    rgb = step(loop.params, loop.opt_state, aug_key, clip.params, pos, neg, budget=loop.budget)[4]
    final_score = evaluate(clip.params, pos, rgb)
    initial_score = final_score if loop.initial_score is None else loop.initial_score
    if callback is not None:
        callback(len(loop.scores), loop.params, rgb)
    history = dict(score=np.asarray(loop.scores, np.float32), loss=np.asarray(loop.losses, np.float32),
                   initial_score=float(initial_score), final_score=float(final_score), iterations=len(loop.scores),
                   seconds=stats.seconds, it_per_s=float(np.nan_to_num(stats.it_per_s)),
                   compile_seconds=stats.compile_seconds, interrupted=stats.interrupted, width=width, height=height,
                   prompt=prompt, negative_prompts=negative_prompts, max_pieces=loop.budget[0],
                   max_depth=loop.budget[1], image=np.asarray(rgb))
    return loop.params, history
