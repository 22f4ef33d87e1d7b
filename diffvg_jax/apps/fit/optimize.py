"""Fit a vector drawing to a raster image by gradient descent through the renderer.

The parameters *are* the scene: a :class:`diffvg_jax.Scene` pytree whose float leaves
(control points, stroke widths, colours, ...) are optimised with Adam, one learning rate
per parameter group (:mod:`diffvg_jax.apps.common.labels`), packed into one vector per
group (:mod:`.packing`). One jitted step renders, compares with the target,
differentiates, updates and clamps. Everything else (progress, snapshots, densification,
renderer budgets) happens in plain Python around it::

    scene, history = dv.fit(target_rgb, num_paths=256, mode="stroke", iterations=500, seed=0)

Parameter groups: ``points`` (learning rate ``lr_points``, pixels per step roughly),
``width`` (``lr_width``; clamped to [min_width, max_width]), ``color`` (``lr_color``;
clamped to [0, 1]), ``opacity`` (``lr_color``, only when refining an SVG: generated paths
carry their opacity in the colour's alpha), ``frozen`` (transforms, gradient offsets, the
background).

Densification (``densify=True``, :mod:`.densify`): every ``densify_every`` steps, paths
that have collapsed or left the canvas are re-seeded where the error is largest; their Adam
moments are reset. The static structure never changes, so nothing recompiles.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, List, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np
import optax

from diffvg_jax import scene as sc
from diffvg_jax.raster import DEFAULT_CURVE_PIECES, count_layers, render, traced_pieces_needed
from diffvg_jax.apps.common.checks import check_run_args
from diffvg_jax.apps.common.budgets import Budget, Needs, compiled_budget, covers, measure_needs, with_headroom
from diffvg_jax.apps.common.init_paths import key_to_rng, random_blobs, random_strokes
from diffvg_jax.apps.common.labels import clamp_limits, parameter_labels
from diffvg_jax.apps.common.progress import run_steps
from .densify import find_collapsed, reseed_paths
from .packing import Packing
from .params import child_mask, make_packed_clamp, make_packed_optimizer, reset_packed_moments
from .target import LOSSES, MODES, as_target, composite, image_loss, parse_background, psnr

__all__ = ["fit"]


# The jitted step is cached on everything static (the labelled scene structure, canvas size,
# loss, learning rates, renderer): a second fit with the same configuration, e.g. the same
# seed again, another image of the same size, or refining the drawing just made, reuses the
# compiled code.
@functools.lru_cache(maxsize=8)
def _cached_optimizer(groups, lr_points, lr_width, lr_color):
    return make_packed_optimizer(groups, lr_points=lr_points, lr_width=lr_width, lr_color=lr_color)


@functools.lru_cache(maxsize=8)
def _cached_packing(labels, shapes):
    """One Packing per scene structure (labels and leaf shapes), so the step cache hits."""
    return Packing(labels, jax.tree.unflatten(jax.tree.structure(labels), [np.zeros(s) for s in shapes]))


@functools.lru_cache(maxsize=8)
def _compiled(labels, packing, optimizer, width, height, loss, render_fn):
    """The jitted update step(packed, opt_state, target, bg, limits, opacity_grad_scale,
    budget) -> (packed, opt_state, loss, psnr, rgb), where loss / psnr / rgb (float32
    (H, W, 3), composited over bg) describe the *incoming* parameters. ``packed`` is the
    scene's dict of per-group vectors (``packing.pack``); target float32 (H, W, 3); bg
    float32 (3,); limits from ``clamp_limits``; opacity_grad_scale float32 () (0
    freezes the opacity group: Adam's update is exactly 0 for a zero gradient); budget, a
    static (max_pieces, max_depth) for the renderer or None.

    Everything that differs between generating and refining is a traced argument, so a
    refinement of a drawing with the same structure reuses the compiled step.
    """
    clamp = make_packed_clamp(labels, packing)

    def render_rgb(packed, bg, budget):
        # fit checks the needs itself every few steps: no run-time budget check (it costs time)
        kw = {} if budget is None else {"max_pieces": budget[0], "max_depth": budget[1], "check_budget": False}
        img = render_fn(packing.unpack(packed), width=width, height=height, premultiplied=True, **kw)
        return composite(img, bg)

    @functools.partial(jax.jit, static_argnames=("budget",))
    def step(packed, opt_state, target, bg, limits, opacity_grad_scale, budget=None):
        def objective(p):
            rgb = render_rgb(p, bg, budget)
            return image_loss(rgb, target, loss), rgb
        (value, rgb), grads = jax.value_and_grad(objective, has_aux=True)(packed)
        # A degenerate path can give non-finite gradients; never let them poison the scene.
        grads = {g: jnp.where(jnp.isfinite(v), v, 0.0) * (opacity_grad_scale if g == "opacity" else 1.0)
                 for g, v in grads.items()}
        updates, opt_state = optimizer.update(grads, opt_state, packed)
        new_packed = clamp(optax.apply_updates(packed, updates), limits)
        return new_packed, opt_state, value, psnr(rgb, target), rgb

    return step


@functools.lru_cache(maxsize=8)
def _packed_counter(packing: Packing, width: int, height: int):
    """Jitted pieces(packed) of the scene a packing unpacks to: counting on the packed
    vectors avoids moving thousands of leaves each time."""
    return jax.jit(lambda p: traced_pieces_needed(packing.unpack(p), width, height, DEFAULT_CURVE_PIECES))


# Strokes lengthen and spread quickly early in a fit: a generous piece chunk at first (4x
# the need), 2x when it has to grow (a scene past its chunk is drawn exactly, but makes its
# pieces again per extra chunk: slower than one recompilation over a fit).
_FIRST, _GROW = dict(room=4.0), dict(room=2.0)


@dataclasses.dataclass
class _Problem:
    """What stays fixed during one fit: the compiled step and its traced arguments."""

    packing: Packing
    step: Callable
    clamp: Callable
    limits: dict
    opacity_scale: jax.Array
    target: np.ndarray      # float32 (H, W, 3)
    bg: np.ndarray          # float32 (3,)
    num_layers: int

    def __post_init__(self):
        self.target_j, self.bg_j = jnp.asarray(self.target), jnp.asarray(self.bg)  # on the device once

    @property
    def width(self) -> int:
        return self.target.shape[1]

    @property
    def height(self) -> int:
        return self.target.shape[0]

    def run(self, packed, opt_state, budget: Budget):
        """One step: (packed, opt_state, loss, psnr, rgb) as ``_compiled`` documents."""
        return self.step(packed, opt_state, self.target_j, self.bg_j, self.limits, self.opacity_scale,
                         budget=budget)

    def host_scene(self, packed) -> sc.Scene:
        return self.packing.unpack({g: np.asarray(v) for g, v in packed.items()})

    def needs(self, packed) -> Needs:
        pieces_fn = _packed_counter(self.packing, self.width, self.height)
        return measure_needs(self.num_layers, lambda: pieces_fn(packed))

    def budget(self, packed, headroom: dict) -> Budget:
        needs = self.needs(packed)
        return compiled_budget(self.step, with_headroom(needs, **headroom), needs)


@dataclasses.dataclass
class _Loop:
    """What changes during one fit: the parameters, the optimiser state, the budget, the curves."""

    packed: dict
    opt_state: object
    budget: Budget
    losses: List = dataclasses.field(default_factory=list)
    psnrs: List = dataclasses.field(default_factory=list)
    densified: List[Tuple[int, int]] = dataclasses.field(default_factory=list)


def _check(mode, loss, densify, densify_every):
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    if densify and (int(densify_every) != densify_every or densify_every < 1):
        raise ValueError(f"densify_every must be a positive integer, got {densify_every!r}")


def _initial_scene(key, init, mode, num_paths, width, height, bg, *, max_segments, num_segments, init_radius,
                   init_width) -> sc.Scene:
    """``init`` on this canvas, or random strokes / blobs over the opaque background."""
    if init is not None:
        return init.replace(width=width, height=height)
    if mode == "stroke":
        scene = random_strokes(key, int(num_paths), width, height, max_segments=max_segments,
                               stroke_width=init_width, radius=init_radius)
    else:
        scene = random_blobs(key, int(num_paths), width, height, num_segments=num_segments, radius=init_radius)
    return scene.replace(background=jnp.asarray(np.append(bg, 1.0), jnp.float32))


def _setup(scene, refine, target, bg, loss, rates, min_width, max_width, render_fn) -> Tuple[_Problem, _Loop]:
    """Label, pack and compile for ``scene``; the clamped starting parameters and budget."""
    width, height = target.shape[1], target.shape[0]
    labels = parameter_labels(scene)
    packing = _cached_packing(labels, tuple(tuple(np.shape(x)) for x in jax.tree.leaves(scene)))
    optimizer = _cached_optimizer(packing.groups, *(float(r) for r in rates))
    if refine:  # an SVG's widths are only kept >= 0 and its points are not confined to the canvas
        limits = clamp_limits(width=width, height=height)
    else:
        limits = clamp_limits(width=width, height=height, min_width=min_width, max_width=max_width,
                              point_margin=0.25 * max(width, height))
    problem = _Problem(packing=packing, step=_compiled(labels, packing, optimizer, width, height, loss, render_fn),
                       clamp=make_packed_clamp(labels, packing), limits=limits,
                       opacity_scale=jnp.float32(1.0 if refine else 0.0), target=target, bg=bg,
                       num_layers=count_layers(scene))
    packed = problem.clamp(packing.pack(scene), limits)
    return problem, _Loop(packed=packed, opt_state=optimizer.init(packed), budget=problem.budget(packed, _FIRST))


def _densify(problem: _Problem, loop: _Loop, done: int, rgb, rng, *, relative: float, radius: float,
             stroke_width: float):
    """Re-seed the collapsed paths (see :mod:`.densify`), with fresh Adam moments."""
    params = problem.host_scene(loop.packed)
    which = find_collapsed(params, width=problem.width, height=problem.height, min_relative=relative)
    if not which.any():
        return
    params = reseed_paths(params, which, rgb=np.asarray(rgb), target=problem.target, rng=rng, radius=radius,
                          stroke_width=stroke_width)
    loop.packed = problem.clamp(problem.packing.pack(params), problem.limits)
    loop.opt_state = reset_packed_moments(loop.opt_state, problem.packing.element_mask(child_mask(params, which)))
    loop.densified.append((done, int(which.sum())))


def _optimise(problem: _Problem, loop: _Loop, iterations: int, callback, densify_at: Callable[[int], bool],
              densify_kw: dict, *, progress: bool, interruptible: bool):
    """The loop: step, callback, densify when due, re-measure the budget every 10 steps."""
    def one(i):
        packed, opt_state, value, p, rgb = problem.run(loop.packed, loop.opt_state, loop.budget)
        if callback is not None:
            callback(i, problem.host_scene(loop.packed), rgb)
        loop.packed, loop.opt_state = packed, opt_state
        loop.losses.append(value)
        loop.psnrs.append(p)
        done = i + 1
        if densify_at(done):
            _densify(problem, loop, done, rgb, **densify_kw)
        if done % 10 == 0:
            needs = problem.needs(loop.packed)
            if not covers(loop.budget, needs):
                loop.budget = compiled_budget(problem.step, with_headroom(needs, **_GROW), needs)
        return value

    def show(i):
        return {"loss": f"{float(loop.losses[-1]):.5f}", "psnr": f"{float(loop.psnrs[-1]):.2f}"}

    return run_steps(one, 0, int(iterations), progress=progress, interruptible=interruptible, desc="fitting",
                     first_desc="compiling", show=show, show_every=5)


def _finish(problem: _Problem, loop: _Loop, stats, loss: str, callback):
    """The fitted scene and its history (final metrics from one more, discarded, step)."""
    # The final metrics come from the step function too (its outputs describe the incoming
    # parameters; the update is discarded): no second compilation just for evaluation.
    _, _, final_loss, final_psnr, final_rgb = problem.run(loop.packed, loop.opt_state, loop.budget)
    params = jax.tree.map(jnp.asarray, problem.host_scene(loop.packed))
    n = len(loop.losses)
    if callback is not None and not stats.interrupted:
        callback(n, params, final_rgb)
    history = {
        "loss": np.asarray([float(v) for v in loop.losses], np.float32),
        "psnr": np.asarray([float(v) for v in loop.psnrs], np.float32),
        "final_loss": float(final_loss), "final_psnr": float(final_psnr), "iterations": n,
        "seconds": stats.seconds, "compile_seconds": stats.compile_seconds, "it_per_s": stats.it_per_s,
        "densified": loop.densified, "interrupted": stats.interrupted, "background": problem.bg,
        "width": problem.width, "height": problem.height, "loss_kind": loss, "image": np.asarray(final_rgb),
    }
    return params, history


# Most of fit's length is its docstring, the reference of the public ``dv.fit``.
def fit(target, *, num_paths: int = 256, mode: str = "stroke", iterations: int = 500, seed: int = 0,
        init: Optional[sc.Scene] = None, loss: str = "l2",
        background: Union[str, Sequence[float]] = "white",
        lr_points: float = 1.0, lr_width: float = 0.1, lr_color: float = 0.01,
        min_width: float = 1.0, max_width: float = 2.0, max_segments: int = 3, num_segments: int = 4,
        init_radius: float = 0.05, init_width: float = 1.0,
        densify: bool = False, densify_every: int = 50, densify_until: float = 0.6,
        densify_relative: float = 0.2,
        callback: Optional[Callable] = None, progress: bool = False, interruptible: bool = False,
        render_fn: Optional[Callable] = None):
    """Fit Bezier paths to ``target`` with Adam through the differentiable renderer.

    Args:
      target: (H, W, 3) RGB image, float in [0, 1] or uint8 ((H, W, 4) RGBA is composited
        over ``background``). Its size is the canvas size in pixels.
      num_paths: number of paths to create (ignored when ``init`` is given).
      mode: 'stroke' (open paths of 1..max_segments cubics: points, width and colour are
        optimised) or 'fill' (closed blobs of num_segments cubics: points and RGBA fill).
      iterations: optimisation steps (>= 0).
      seed: seeds the initial paths and densification (same seed -> same result on the
        same machine).
      init: a scene to refine instead of random paths (e.g. from ``dv.load_svg``); its
        structure (groups, ids, gradients) is kept; opacities are optimised too, widths are
        only kept >= 0, points are not confined to the canvas.
      loss: 'l2' (mean squared error) or 'l1' (mean absolute error).
      background: colour the drawing is composited over: 'white', 'black', 'estimate'
        (median of the target's border), '#rrggbb' or 3 floats in [0, 1].
      lr_points, lr_width, lr_color: Adam learning rates per group (pixels, pixels, [0,1]).
      min_width, max_width: stroke-width clamp in pixels (generated paths).
      max_segments, num_segments: segments per stroke (1..max) / per blob.
      init_radius: size of the random initial paths as a fraction of the canvas.
      init_width: initial stroke width in pixels.
      densify: re-seed collapsed paths every ``densify_every`` steps until
        ``densify_until`` * iterations (see module docstring); ``densify_relative``: also
        re-seed paths with less than this fraction of the median ink (see
        ``find_collapsed``; 0 re-seeds only collapsed ones).
      callback: ``callback(step, scene, image)`` after every step and once at the end
        (not after an interruption);
        ``step`` counts the updates the scene has had, ``image`` is its render,
        float32 (H, W, 3) composited over the background. Keep it cheap.
      progress: show the progress display (loss, PSNR, iterations per second; a compile phase
        shown as such), or pass a ``diffvg_jax.apps.common.progress.Progress`` to end it yourself.
      interruptible: on KeyboardInterrupt, stop and return the drawing so far (with
        ``history['interrupted'] = True``) instead of raising.
      render_fn: renderer with :func:`diffvg_jax.render`'s signature (default: that one).

    Returns:
      (scene, history). ``scene``: the fitted :class:`Scene` (width/height set; generated
      drawings get the opaque background colour). ``history``: dict with 'loss' and 'psnr'
      (float32 (n,) arrays, the value before each update), 'final_loss' and 'final_psnr'
      (of the returned scene, so a re-render reproduces them), 'iterations' (done),
      'seconds' (loop wall time), 'it_per_s' (excluding the first, compiling step),
      'compile_seconds', 'densified' (list of (step, paths re-seeded)), 'interrupted',
      'background' (float32 (3,)), 'width', 'height', 'loss_kind', 'image' (the returned
      scene's render composited over the background, float32 (H, W, 3)).
    """
    rates = (lr_points, lr_width, lr_color)
    _check(mode, loss, densify, densify_every)
    check_run_args(iterations=iterations, init=init, num_paths=num_paths, min_width=min_width, max_width=max_width,
                   rates=dict(lr_points=lr_points, lr_width=lr_width, lr_color=lr_color))
    target_np = as_target(target, background)
    height, width = target_np.shape[:2]
    bg = parse_background(background, target_np)
    init_key, densify_key = jax.random.split(jax.random.key(int(seed)))
    scene = _initial_scene(init_key, init, mode, num_paths, width, height, bg, max_segments=max_segments,
                           num_segments=num_segments, init_radius=init_radius, init_width=init_width)
    problem, loop = _setup(scene, init is not None, target_np, bg, loss, rates, min_width, max_width,
                           render if render_fn is None else render_fn)
    densify_stop = int(densify_until * iterations)
    densify_kw = dict(rng=key_to_rng(densify_key), relative=densify_relative, radius=init_radius,
                      stroke_width=min(max(init_width, min_width), max_width))
    stats = _optimise(problem, loop, iterations, callback,
                      lambda done: densify and done % densify_every == 0 and done <= densify_stop, densify_kw,
                      progress=progress, interruptible=interruptible)
    return _finish(problem, loop, stats, loss, callback)
