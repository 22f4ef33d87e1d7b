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
import sys
import warnings
from pathlib import Path
from typing import Optional, Sequence

PROG = "diffvg-fit"

# Defaults sized so that the README's command finishes in about a minute on 2 CPU cores.
DEFAULT_SIZE = 96
DEFAULT_PATHS = 64
DEFAULT_ITERS = 200
MAX_SIZE = 2048  # longest canvas side we agree to optimise at (memory and time)


from diffvg_jax.apps.common.cli import Parser as _Parser, UsageError, run_main
from diffvg_jax.apps.common.cli import nonneg_float as _nonneg_float, positive_int as _positive_int, say as _say


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Fit Bezier paths to an image by gradient descent through the "
                "differentiable renderer, and write the result as SVG (plus a PNG render).")
    p.add_argument("image", help="target image (PNG, JPEG, ...); greyscale expands, alpha is composited "
                   "over --background")
    p.add_argument("--out", required=True, help="output SVG file; a PNG render is written beside it")
    p.add_argument("--mode", choices=("stroke", "fill"), default="stroke",
                   help="stroke: open painterly strokes; fill: closed filled blobs (default: stroke)")
    p.add_argument("--paths", type=_positive_int("--paths"), default=DEFAULT_PATHS,
                   help=f"number of paths (default {DEFAULT_PATHS}; ignored with --init)")
    p.add_argument("--iters", type=_positive_int("--iters"), default=DEFAULT_ITERS,
                   help=f"optimisation steps (default {DEFAULT_ITERS}; 500 for full quality)")
    p.add_argument("--size", type=_positive_int("--size"), default=DEFAULT_SIZE,
                   help=f"resize the image so its longest side has this many pixels, keeping the aspect "
                   f"ratio (default {DEFAULT_SIZE}; at most {MAX_SIZE}; with --init the SVG's canvas size is used)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed and inputs: same SVG)")
    p.add_argument("--init", metavar="SVG", help="start from this SVG and optimise its parameters, keeping "
                   "its structure (groups, ids, gradients)")
    p.add_argument("--snapshots", metavar="DIR", help="write an SVG and a PNG every --every steps into DIR")
    p.add_argument("--every", type=_positive_int("--every"), default=50,
                   help="snapshot / animation-frame interval in steps (default 50)")
    p.add_argument("--video", metavar="FILE", help="write an animation of the optimisation (.gif, or .mp4 "
                   "with imageio-ffmpeg installed); one frame every --every steps")
    p.add_argument("--fps", type=_positive_int("--fps"), default=10, help="animation frame rate (default 10)")
    p.add_argument("--densify", action="store_true", help="every --densify-every steps, re-seed paths that "
                   "have collapsed (transparent, zero area, off canvas) or barely contribute (under 20%% of the "
                   "median ink) where the error is largest")
    p.add_argument("--densify-every", type=_positive_int("--densify-every"), default=50,
                   help="densification interval in steps (default 50)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument("--lr-points", type=_nonneg_float("--lr-points"), default=1.0,
                   help="Adam learning rate of the control points, pixels (default 1.0)")
    p.add_argument("--lr-width", type=_nonneg_float("--lr-width"), default=0.1,
                   help="Adam learning rate of the stroke widths, pixels (default 0.1)")
    p.add_argument("--lr-color", type=_nonneg_float("--lr-color"), default=0.01,
                   help="Adam learning rate of colours and opacities (default 0.01)")
    p.add_argument("--max-width", type=_nonneg_float("--max-width"), default=2.0,
                   help="largest stroke width in pixels; widths are clamped to [min(1, this), this] "
                   "(default 2.0)")
    p.add_argument("--background", default="white",
                   help="colour the drawing is composited over: white, black, estimate (median of the "
                   "image border) or #rrggbb (default white)")
    p.add_argument("--loss", choices=("l2", "l1"), default="l2", help="image loss (default l2)")
    return p


def _check_outputs(args):
    out = Path(args.out)
    if out.suffix.lower() != ".svg":
        raise UsageError(f"--out: the output must be an .svg file, got {args.out!r}")
    if out.exists() and out.is_dir():
        raise UsageError(f"--out: {args.out!r} is a folder")
    if args.video is not None:
        suffix = Path(args.video).suffix.lower()
        if suffix not in (".gif", ".mp4"):
            raise UsageError(f"--video: the animation must be a .gif or .mp4 file, got {args.video!r}")
        if suffix == ".mp4":
            try:
                import imageio_ffmpeg  # noqa: F401
            except ImportError:
                raise UsageError("--video: writing .mp4 needs imageio-ffmpeg (pip install imageio "
                                 "imageio-ffmpeg); or write a .gif") from None
    if args.size > MAX_SIZE:
        raise UsageError(f"--size {args.size} is too large: at most {MAX_SIZE} pixels on the longest side")
    if args.max_width <= 0:
        raise UsageError(f"--max-width must be > 0, got {args.max_width}")
    if args.snapshots is not None and Path(args.snapshots).is_file():
        raise UsageError(f"--snapshots: {args.snapshots!r} is a file, not a folder")


def _load_init(path):
    from diffvg_jax.svg import load_svg
    p = Path(path)
    if not p.exists():
        raise UsageError(f"--init: {path}: no such file")
    if p.is_dir():
        raise UsageError(f"--init: {path}: is a folder, not an SVG file")
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
    import numpy as np
    from PIL import Image
    from diffvg_jax.apps.common.artifacts import load_image
    from .fit import parse_background

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
        _say(args, f"{PROG}: note: the image's aspect ratio ({tw}x{th}) differs from the SVG canvas "
             f"({w}x{h}); the image is stretched to the canvas")
    from diffvg_jax.apps.common.artifacts import to_uint8
    resized = Image.fromarray(to_uint8(target)).resize((w, h), Image.Resampling.LANCZOS)
    return np.asarray(resized, np.float32) / 255.0


def _run(args) -> int:
    import numpy as np
    from diffvg_jax.apps.common.artifacts import SnapshotWriter, save_png, write_animation
    from .fit import fit, parse_background

    _check_outputs(args)
    init_scene = _load_init(args.init) if args.init else None
    target = _load_target(args, init_scene)
    try:
        bg = parse_background(args.background, target)
    except ValueError as err:
        raise UsageError(f"--background: {err}") from None

    writer = None
    if args.snapshots is not None or args.video is not None:
        writer = SnapshotWriter(args.snapshots, every=args.every, background=bg,
                                keep_frames=args.video is not None, width=target.shape[1], height=target.shape[0])
    last_step = [-1]

    def callback(step, scene, image):
        last_step[0] = step
        if writer is not None:
            writer(step, scene, np.asarray(image))

    h, w = target.shape[:2]
    what = f"refining {args.init}" if init_scene is not None else f"{args.paths} {args.mode} paths"
    _say(args, f"{PROG}: {args.image} at {w}x{h}, {what}, {args.iters} iterations")
    try:
        scene, history = fit(
            target, num_paths=args.paths, mode=args.mode, iterations=args.iters, seed=args.seed,
            init=init_scene, loss=args.loss, background=bg, lr_points=args.lr_points,
            lr_width=args.lr_width, lr_color=args.lr_color, min_width=min(1.0, args.max_width),
            max_width=args.max_width, densify=args.densify, densify_every=args.densify_every,
            callback=callback, progress=not args.quiet, interruptible=True)
    except ValueError as err:
        raise UsageError(str(err)) from None

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from diffvg_jax.svg import save_svg
    save_svg(scene, out)
    image = history["image"]  # the final render, already composited over the background
    png = out.with_suffix(".png")
    save_png(image, png)
    if writer is not None:
        n = history["iterations"]
        if not writer.due(n):  # always keep the final state
            writer.write(n, scene, np.asarray(image))
    if args.video is not None:
        write_animation(writer.frames, args.video, fps=args.fps, background=bg)
    status = "interrupted after" if history["interrupted"] else "done,"
    _say(args, f"{PROG}: {status} {history['iterations']} iterations in {history['seconds']:.1f} s "
         f"({history['it_per_s']:.1f} it/s): loss {history['final_loss']:.6f} ({args.loss}), "
         f"PSNR {history['final_psnr']:.2f} dB")
    _say(args, f"{PROG}: wrote {out} and {png}" + (f", {args.video}" if args.video else "")
         + (f", snapshots in {args.snapshots}" if args.snapshots else ""))
    return 130 if history["interrupted"] else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``diffvg-fit``; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    return run_main(PROG, build_parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
