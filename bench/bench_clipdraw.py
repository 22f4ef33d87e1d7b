"""Time one CLIPDraw iteration, split into render, augment and CLIP forward/backward.

    python bench/bench_clipdraw.py                       # defaults: 256 strokes, 224 px, ViT-B/32, 4 views
    python bench/bench_clipdraw.py --paths 64 --clip tiny --size 64 --reps 3   # quick look

CLIP weights are random (timing does not depend on their values, and none are needed).
Each part is jitted on its own, compiled once, then run ``--reps`` times; the median is
reported. The parts are:

  render   value and gradient of the drawing (render + composite over white) w.r.t. the scene
  augment  value and gradient of the 4 augmented views w.r.t. the drawing
  clip     value and gradient of the mean cosine w.r.t. the views (ViT forward + backward)
  step     the whole jitted CLIPDraw step (the three above plus Adam and clamps)

Prints a Markdown table row per part (compile seconds, median milliseconds per iteration).
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import jax
import jax.numpy as jnp


def _time(fn, *args, reps: int):
    t = time.perf_counter()
    jax.block_until_ready(fn(*args))
    compile_s = time.perf_counter() - t
    runs = []
    for _ in range(reps):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        runs.append(time.perf_counter() - t)
    return compile_s, statistics.median(runs) * 1000


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--paths", type=int, default=256)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--augs", type=int, default=4)
    p.add_argument("--clip", default="ViT-B/32", help="architecture (random weights): tiny, ViT-B/32, ...")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--parts", default="render,augment,clip,step")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")

    import diffvg_jax as dv
    from diffvg_jax.apps.clipdraw.augment import clipdraw_augment
    from diffvg_jax.apps.clipdraw.clipnet import CLIP, normalize
    from diffvg_jax.apps.clipdraw.draw import render_budget
    from diffvg_jax.apps.clipdraw.step import leaf_roles, make_step, text_features
    from diffvg_jax.apps.common.init_paths import random_strokes

    clip = CLIP.random(args.clip)
    s = clip.image_size
    scene = random_strokes(0, args.paths, args.size, args.size, radius=0.1).replace(background=jnp.ones(4))
    cap = render_budget(scene, args.size, args.size)
    pos = text_features(clip, ["a drawing of a cat"])
    neg = text_features(clip, [])
    key = jax.random.key(0)
    rgb = jnp.full((args.size, args.size, 3), 0.5)
    views = jnp.full((args.augs, s, s, 3), 0.5)
    parts = args.parts.split(",")
    print(f"# {args.paths} strokes, {args.size} px canvas, {args.augs} views, CLIP {args.clip} (random weights); "
          f"max_pieces {cap[0]}, max_depth {cap[1]}; {jax.devices()[0].platform} ({platform.processor() or platform.machine()}), "
          f"jax {jax.__version__}, median of {args.reps}")
    print("| part | compile (s) | per iteration (ms) |")
    print("| --- | ---: | ---: |", flush=True)

    def row(name, fn, *fargs):
        c, ms = _time(fn, *fargs, reps=args.reps)
        print(f"| {name} | {c:.1f} | {ms:.0f} |", flush=True)

    def render_loss(sc):
        img = dv.render(sc, width=args.size, height=args.size, premultiplied=True, max_pieces=cap[0],
                        max_depth=cap[1], check_budget=False)
        return jnp.mean(img[..., :3] + 1.0 - img[..., 3:4])

    def aug_loss(x):
        return jnp.mean(clipdraw_augment(key, x, num_copies=args.augs, size=s))

    def clip_loss(v, params):  # params as an argument: not baked into the executable
        f = clip.image_fn(params, normalize(v))
        f = f / jnp.linalg.norm(f, axis=-1, keepdims=True)
        return -jnp.mean(f @ pos[0])

    if "augment" in parts:
        row("augment (fwd+bwd)", jax.jit(jax.value_and_grad(aug_loss)), rgb)
    if "clip" in parts:
        row(f"CLIP {args.clip} (fwd+bwd)", jax.jit(jax.value_and_grad(clip_loss)), views, clip.params)
    if "render" in parts:
        row("render (fwd+bwd)", jax.jit(jax.value_and_grad(render_loss)), scene)
    if "step" in parts:
        init_state, _, step, _ = make_step(leaf_roles(scene), clip.config, args.size, args.size, 1000,
                                           args.augs, 1.0, 0.1, 0.01, 1.0, 50.0, 0.3, 0.5, (0.7, 0.9), dv.render)
        state = init_state(scene)
        row("whole step", lambda sc: step(sc, state, key, clip.params, pos, neg, budget=cap), scene)


if __name__ == "__main__":
    main()
