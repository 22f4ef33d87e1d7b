"""CLIPDraw: optimise random strokes until CLIP matches the drawing to a caption.

After Frans, Soros and Witkowski, "CLIPDraw: Exploring Text-to-Drawing Synthesis through
Language-Image Encoders" (2021). Each step renders the strokes, composites them over
white, makes ``num_augs`` augmented views (random perspective warp, then a random resized
crop to CLIP's input size; :mod:`diffvg_jax.augment`), encodes them with CLIP's image
tower and follows the gradient of

    loss = -mean_views cos(image, prompt) + negative_weight * sum_negatives mean_views cos(image, negative)

back to the stroke control points, widths and colours (Adam; points' learning rate drops
to 0.4x at half the iterations and to 0.1x at three quarters). One jitted function does
the render, augmentation, CLIP forward/backward, update and clamps::

    clip = dv.clip.load("~/models/clip-vit-base-patch32")
    scene, history = dv.clipdraw("a drawing of a cat", clip=clip, num_paths=256, iterations=1000)
"""
from __future__ import annotations

import functools
import time
from typing import Callable, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np
import optax

from diffvg_jax import scene as sc
from .augment import clipdraw_augment
from .clipnet.loading import CLIP
from .clipnet.model import CLIPConfig, CLIPModel
from .clipnet.preprocess import normalize, preprocess
from .clipnet.tokenizer import tokenize
from diffvg_jax.apps.common.init_paths import random_strokes

__all__ = ["clipdraw", "points_schedule", "text_features", "make_step", "leaf_roles", "DEFAULTS"]

# CLIPDraw's published settings.
DEFAULTS = dict(num_paths=256, iterations=1000, canvas_size=224, num_augs=4, lr_points=1.0, lr_width=0.1,
                lr_color=0.01, min_width=1.0, max_width=50.0, max_segments=3, init_width=1.0,
                negative_weight=0.3, distortion=0.5, crop_scale=(0.7, 0.9))
WHITE = 1.0


def points_schedule(lr: float, iterations: int):
    """optax schedule: ``lr`` for steps [0, N/2), 0.4 lr for [N/2, 3N/4), 0.1 lr after
    (step = number of updates already made, as CLIPDraw's loop index)."""
    half, three_q = int(iterations * 0.5), int(iterations * 0.75)
    if half == three_q:
        return optax.piecewise_constant_schedule(lr, {half: 0.1})
    return optax.piecewise_constant_schedule(lr, {half: 0.4, three_q: 0.25})


def leaf_roles(scene: sc.Scene) -> Tuple[str, ...]:
    """The optimisation group of each of ``jax.tree.leaves(scene)``: 'points' (path
    points), 'width' (stroke widths), 'color' (stroke colours) or 'frozen' (everything
    else: transforms, opacities, fills, the background)."""
    def role(path, _):
        names = [k.name for k in path if isinstance(k, jax.tree_util.GetAttrKey)]
        if not names or "background" in names:
            return "frozen"
        if names[-1] == "points":
            return "points"
        if names[-1] == "stroke_width":
            return "width"
        if names[-1] == "color" and "stroke" in names:
            return "color"
        return "frozen"
    return tuple(jax.tree.leaves(jax.tree_util.tree_map_with_path(role, scene)))


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
      renderer budget (max_pieces, max_depth) from :func:`_budget`.
    """
    model = CLIPModel(config)
    size = config.vision.image_size
    # Adam per group on the scene's leaf list (optax's masks cannot rebuild a Scene).
    optimizer = optax.multi_transform({
        "points": optax.adam(points_schedule(lr_points, iterations)),
        "width": optax.adam(lr_width),
        "color": optax.adam(lr_color),
        "frozen": optax.set_to_zero(),
    }, list(labels))
    # Points stay within a quarter canvas of the edges: harmless for the drawing, and keeps
    # runaway points from inflating the renderer's work (max_pieces).
    margin = 0.25 * max(width, height)
    lo = jnp.array([-margin, -margin], jnp.float32)
    hi = jnp.array([width + margin, height + margin], jnp.float32)

    def clamp_leaf(role, x):
        if role == "points":
            return jnp.clip(x, lo, hi)
        if role == "width":
            return jnp.clip(x, min_width, max_width)
        if role == "color":
            return jnp.clip(x, 0.0, 1.0)
        return x

    def clamp(scene):
        leaves, treedef = jax.tree.flatten(scene)
        return jax.tree.unflatten(treedef, [clamp_leaf(r, x) for r, x in zip(labels, leaves)])

    def init_state(scene):
        return optimizer.init(jax.tree.leaves(scene))

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
        leaves, treedef = jax.tree.flatten(scene)
        updates, opt_state = optimizer.update(jax.tree.leaves(grads), opt_state, leaves)
        new = jax.tree.unflatten(treedef, optax.apply_updates(leaves, updates))
        return clamp(new), opt_state, loss, score, rgb

    @jax.jit
    def evaluate(clip_params, pos, rgb):
        # The render comes from ``step`` (its rgb output), so scoring compiles no renderer.
        feats = encode(clip_params, preprocess(rgb[None], size))
        return jnp.mean(feats @ pos[0])

    return init_state, clamp, step, evaluate


def _budget(scene, width, height, max_pieces: Optional[int] = None) -> Tuple[int, int]:
    """Renderer budgets (max_pieces, max_depth) for the traced step: the concrete needs
    with 2x headroom, pieces rounded up to a power of two (or ``max_pieces`` when fixed),
    depth to a multiple of 8. Static arguments, so they rarely change."""
    from diffvg_jax.raster.renderer import SMALL_SCENE_LAYERS, count_layers, round_depth, depth_needed, pieces_needed
    if max_pieces is None:
        need = int(pieces_needed(scene, width=width, height=height))
        max_pieces = int(2 ** int(np.ceil(np.log2(max(1024, 2 * need)))))
    layers = count_layers(scene)
    if layers <= SMALL_SCENE_LAYERS:  # every layer: no counting pass to compile
        return int(max_pieces), max(layers, 1)
    depth = int(depth_needed(scene, width=width, height=height, max_pieces=int(max_pieces)))
    return int(max_pieces), round_depth(2 * depth, layers)


def _grow(cap, new):
    return tuple(max(a, b) for a, b in zip(cap, new))


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
      progress: tqdm bar showing the CLIP score (mean cosine of the augmented views).
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
      compiling step), 'compile_seconds', 'interrupted', 'width', 'height', 'prompt',
      'negative_prompts', 'max_pieces', 'max_depth' (the renderer budgets), 'image' (float32 (H, W, 3), the final drawing over
      white).
    """
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError(f"prompt must be a non-empty string, got {prompt!r}")
    if not isinstance(clip, CLIP):
        raise ValueError(f"clip must be a diffvg_jax.clip.CLIP (dv.clip.load(...)), got {type(clip).__name__}")
    if int(iterations) != iterations or iterations < 0:
        raise ValueError(f"iterations must be a non-negative integer, got {iterations!r}")
    if init is None and (int(num_paths) != num_paths or num_paths < 1):
        raise ValueError(f"num_paths must be a positive integer, got {num_paths!r}")
    if int(num_augs) != num_augs or num_augs < 1:
        raise ValueError(f"num_augs must be a positive integer, got {num_augs!r}")
    if not (0 < min_width <= max_width):
        raise ValueError(f"need 0 < min_width <= max_width, got {min_width!r}, {max_width!r}")
    if not (0 < crop_scale[0] <= crop_scale[1] <= 1):
        raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {crop_scale!r}")
    if not (0 <= distortion < 1):
        raise ValueError(f"distortion must be in [0, 1), got {distortion!r}")
    for name, lr in (("lr_points", lr_points), ("lr_width", lr_width), ("lr_color", lr_color)):
        if not (np.isfinite(lr) and lr >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {lr!r}")
    negative_prompts = tuple(negative_prompts)
    if render_fn is None:
        from diffvg_jax.raster.renderer import render as render_fn
    width, height = (canvas_size, canvas_size) if np.isscalar(canvas_size) else tuple(canvas_size)
    width, height = int(width), int(height)

    key = jax.random.key(int(seed))
    init_key, aug_key = jax.random.split(key)
    if init is not None:
        if not isinstance(init, sc.Scene):
            raise ValueError(f"init must be a diffvg_jax.Scene, got {type(init).__name__}")
        scene = init.replace(width=width, height=height)
    else:
        scene = random_strokes(init_key, int(num_paths), width, height, max_segments=int(max_segments),
                               stroke_width=float(init_width), radius=float(init_radius))
    scene = scene.replace(background=jnp.ones(4, jnp.float32))

    labels = leaf_roles(scene)
    init_state, clamp, step, evaluate = make_step(
        labels, clip.config, width, height, int(iterations), int(num_augs), float(lr_points), float(lr_width),
        float(lr_color), float(min_width), float(max_width), float(negative_weight), float(distortion),
        (float(crop_scale[0]), float(crop_scale[1])), render_fn)
    pos = text_features(clip, [prompt])
    neg = text_features(clip, negative_prompts)
    params = clamp(scene)
    opt_state = init_state(params)
    fixed_pieces = None if max_pieces is None else int(max_pieces)
    cap = _budget(params, width, height, fixed_pieces)
    initial_score = None

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=int(iterations), unit="it", dynamic_ncols=True)
    scores, losses = [], []
    interrupted, t_first, compile_seconds = False, None, 0.0
    t0 = time.perf_counter()
    try:
        for i in range(int(iterations)):
            if i and i % budget_every == 0:
                cap = _grow(cap, _budget(params, width, height, fixed_pieces))
            new_params, opt_state, loss, score, rgb = step(params, opt_state, jax.random.fold_in(aug_key, i),
                                                           clip.params, pos, neg, budget=cap)
            if i == 0:
                initial_score = evaluate(clip.params, pos, rgb)
            if callback is not None:
                callback(i, params, rgb)
            params = new_params
            scores.append(float(score))
            losses.append(float(loss))
            if i == 0:
                t_first = time.perf_counter()
                compile_seconds = t_first - t0
            if bar is not None:
                bar.set_postfix(score=f"{scores[-1]:.4f}", refresh=False)
                bar.update(1)
    except KeyboardInterrupt:
        if not interruptible:
            raise
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    t_end = time.perf_counter()
    seconds = t_end - t0
    done = len(scores)
    cap = _grow(cap, _budget(params, width, height, fixed_pieces))
    # One more (discarded) step renders the final scene with the compiled code.
    rgb = step(params, opt_state, aug_key, clip.params, pos, neg, budget=cap)[4]
    final_score = evaluate(clip.params, pos, rgb)
    if initial_score is None:
        initial_score = final_score
    if callback is not None:
        callback(done, params, rgb)
    it_per_s = (done - 1) / (t_end - t_first) if done > 1 and t_first is not None else 0.0
    history = dict(score=np.asarray(scores, np.float32), loss=np.asarray(losses, np.float32),
                   initial_score=float(initial_score), final_score=float(final_score), iterations=done,
                   seconds=seconds, it_per_s=it_per_s, compile_seconds=compile_seconds,
                   interrupted=interrupted, width=width, height=height, prompt=prompt,
                   negative_prompts=negative_prompts, max_pieces=cap[0], max_depth=cap[1], image=np.asarray(rgb))
    return params, history
