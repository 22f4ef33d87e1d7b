"""``diffvg-fit``: fit a vector drawing (SVG) to an image.

    diffvg-fit photo.png --out drawing.svg                       # painterly strokes
    diffvg-fit photo.png --out blobs.svg --mode fill --paths 512  # filled closed blobs
    diffvg-fit photo.png --out refined.svg --init drawing.svg     # refine an existing SVG
    diffvg-fit photo.png --out d.svg --snapshots runs/ --every 50 --video progress.gif

Writes the SVG, a PNG render beside it (same name, .png), and optionally snapshots and an
animation. Ctrl-C stops the optimisation and saves the drawing so far. Bad input gives a
one-line message and exit status 2.
"""
from __future__ import annotations

import argparse
import warnings
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from diffvg_jax.svg import load_svg
from diffvg_jax.apps.common.artifacts import existing_file, load_image, to_uint8
from diffvg_jax.apps.common.cli import (Parser, UsageError, add_learning_rates, add_output_options, add_shared_options,
                                        check_outputs, nonneg_float, nonneg_int, optimise_and_write, positive_int, run_main, say,
                                        snapshot_writer)
from .optimize import fit
from .target import parse_background

PROG = "diffvg-fit"

# Defaults sized so that the README's command finishes in about a minute on 2 CPU cores.
# The README command's defaults: closed filled blobs at 128 px give a drawing people
# recognise (eyes, nose, outline of the cat in assets/chelsea.png) within a minute on
# two CPU cores, compile included; open strokes (--mode stroke) need more paths for that.
DEFAULT_SIZE = 128
DEFAULT_PATHS = 128
DEFAULT_ITERS = 200
DEFAULT_MODE = "fill"
DEFAULT_SVG_SIZE = 512
MAX_SIZE = 2048  # longest canvas side we agree to optimise at (memory and time)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Fit Bezier paths to an image by gradient descent through the "
                "differentiable renderer, and write the result as SVG (plus a PNG render).")
    p.add_argument("image", help="target image (PNG, JPEG, ...); greyscale expands, alpha is composited "
                   "over --background")
    add_shared_options(p, out="output SVG file; a PNG render is written beside it", out_metavar="SVG",
                       seed="random seed (same seed and inputs: same SVG)",
                       snapshots="write an SVG and a PNG every --every steps into DIR",
                       every="snapshot / animation-frame interval in steps")
    p.add_argument("--mode", choices=("stroke", "fill"), default=DEFAULT_MODE,
                   help="stroke: open painterly strokes; fill: closed filled blobs")
    p.add_argument("--paths", type=positive_int("--paths"), default=DEFAULT_PATHS,
                   help="number of paths (ignored with --init)")
    p.add_argument("--iters", type=positive_int("--iters"), default=DEFAULT_ITERS,
                   help="optimisation steps (500 for full quality)")
    p.add_argument("--size", type=positive_int("--size"), default=DEFAULT_SIZE,
                   help=f"resize the image so its longest side has this many pixels, keeping the aspect "
                   f"ratio (at most {MAX_SIZE}; with --init the SVG's canvas size is used)")
    p.add_argument("--svg-size", type=nonneg_int("--svg-size"), default=DEFAULT_SVG_SIZE,
                   help="long side, in pixels, at which viewers show the written SVG (its width / height; "
                   "the fitting canvas becomes its viewBox); 0: the fitting canvas itself")
    p.add_argument("--init", metavar="SVG", help="start from this SVG and optimise its parameters, keeping "
                   "its structure (groups, ids, gradients)")
    add_output_options(p, video="write an animation of the optimisation (.gif, or .mp4 with imageio-ffmpeg "
                       "installed); one frame every --every steps")
    p.add_argument("--densify", action="store_true", help="every --densify-every steps, re-seed paths that "
                   "have collapsed (transparent, zero area, off canvas) or barely contribute (under 20%% of the "
                   "median ink) where the error is largest")
    p.add_argument("--densify-every", type=positive_int("--densify-every"), default=50,
                   help="densification interval in steps")
    add_learning_rates(p, points="Adam learning rate of the control points, pixels",
                       width="Adam learning rate of the stroke widths, pixels",
                       color="Adam learning rate of colours and opacities")
    p.add_argument("--max-width", type=nonneg_float("--max-width"), default=2.0,
                   help="largest stroke width in pixels; widths are clamped to [min(1, this), this]")
    p.add_argument("--background", default="white",
                   help="colour the drawing is composited over: white, black, estimate (median of the "
                   "image border) or #rrggbb")
    p.add_argument("--loss", choices=("l2", "l1"), default="l2", help="image loss")
    return p


def _check_args(args):
    check_outputs(args)
    if args.size > MAX_SIZE:
        raise UsageError(f"--size {args.size} is too large: at most {MAX_SIZE} pixels on the longest side")
    if args.max_width <= 0:
        raise UsageError(f"--max-width must be > 0, got {args.max_width}")


def _load_init(path):
    try:
        p = existing_file(path, "an SVG file")
    except ValueError as err:
        raise UsageError(f"--init: {err}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scene = load_svg(p)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise UsageError(f"--init: cannot read {path} as SVG: {err}") from None
    if not scene.children:
        raise UsageError(f"--init: {path} has no shapes to optimise")
    if scene.width is None or scene.height is None:
        raise UsageError(f"--init: {path} has no canvas size (width/height or viewBox)")
    if max(scene.width, scene.height) > MAX_SIZE:
        raise UsageError(f"--init: {path} has a {scene.width}x{scene.height} canvas; at most {MAX_SIZE} "
                         "pixels on the longest side")
    return scene


def _load_target(args, init_scene):
    # Alpha is composited over the chosen background; for 'estimate' there is no colour yet,
    # so such pixels go over white first (the estimate then sees that).
    try:
        bg = parse_background(args.background) if args.background.lower() not in ("estimate", "estimated", "auto") \
            else np.ones(3, np.float32)
    except ValueError as err:
        raise UsageError(f"--background: {err}") from None
    try:
        if init_scene is None:
            return load_image(args.image, size=args.size, background=bg)
        target = load_image(args.image, background=bg)
    except ValueError as err:
        raise UsageError(str(err)) from None
    # Refining: the canvas is the SVG's; fit the image to it.
    w, h = init_scene.width, init_scene.height
    th, tw = target.shape[:2]
    if abs(tw / th - w / h) > 0.02 * (w / h):
        say(args, f"{PROG}: note: the image's aspect ratio ({tw}x{th}) differs from the SVG canvas "
             f"({w}x{h}); the image is stretched to the canvas")
    resized = Image.fromarray(to_uint8(target)).resize((w, h), Image.Resampling.LANCZOS)
    return np.asarray(resized, np.float32) / 255.0


def _run(args) -> int:
    _check_args(args)
    init_scene = _load_init(args.init) if args.init else None
    target = _load_target(args, init_scene)
    try:
        bg = parse_background(args.background, target)
    except ValueError as err:
        raise UsageError(f"--background: {err}") from None
    h, w = target.shape[:2]
    writer = snapshot_writer(args, bg, w, h)
    what = f"refining {args.init}" if init_scene is not None else f"{args.paths} {args.mode} paths"
    say(args, f"{PROG}: {args.image} at {w}x{h}, {what}, {args.iters} iterations")

    def optimise(callback, progress):
        return fit(target, num_paths=args.paths, mode=args.mode, iterations=args.iters, seed=args.seed,
                   init=init_scene, loss=args.loss, background=bg, lr_points=args.lr_points,
                   lr_width=args.lr_width, lr_color=args.lr_color, min_width=min(1.0, args.max_width),
                   max_width=args.max_width, densify=args.densify, densify_every=args.densify_every,
                   callback=callback, progress=progress, interruptible=True)

    # The same figures end the progress display and the summary line: those of the written SVG.
    return optimise_and_write(args, PROG, optimise, writer, bg, final_snapshot=True, figures=lambda h: {
        "loss": f"{h['final_loss']:.6f} ({args.loss})", "psnr": f"{h['final_psnr']:.2f} dB"},
        display_size=display_size(w, h, args.svg_size))


def display_size(width: int, height: int, long_side: int):
    """(width, height) in pixels that show a width x height canvas with its long side at
    ``long_side`` (never smaller than the canvas), or None for ``long_side`` 0."""
    if not long_side:
        return None
    scale = max(long_side / max(width, height), 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``diffvg-fit``; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    return run_main(PROG, build_parser, _run, argv)
