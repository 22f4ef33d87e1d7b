"""``diffvg-clipdraw``: draw a caption with strokes, guided by CLIP (CLIPDraw).

    diffvg-clipdraw "a drawing of a cat" --clip-weights ~/models/clip-vit-base-patch32 --out cat.svg
    diffvg-clipdraw "a red bus" --clip-weights W --out bus.svg --negative "a photo" --snapshots runs/bus --video bus.gif
    diffvg-clipdraw "a cat" --random-clip tiny --size 64 --paths 16 --iters 20 --out t.svg   # pipeline check

Writes the SVG, a PNG render beside it (same name, .png), and optionally snapshots and an
animation. ``--clip-weights`` is a local folder or file (see ``diffvg_jax.clip.load``);
nothing is downloaded unless ``--download`` is given. Ctrl-C stops and saves the drawing
so far. Bad input gives a one-line message and exit status 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

PROG = "diffvg-clipdraw"
MAX_SIZE = 1024


from diffvg_jax.apps.common.cli import Parser as _Parser, UsageError, run_main
from diffvg_jax.apps.common.cli import nonneg_float as _nonneg_float, positive_int as _positive_int, say as _say


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Draw a caption with strokes optimised to match it under CLIP (CLIPDraw).")
    p.add_argument("prompt", help="the caption to draw, e.g. \"a drawing of a cat\"")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--clip-weights", metavar="PATH",
                     help="CLIP weights: a Hugging Face folder (config.json + model.safetensors), an open_clip "
                          "folder (open_clip_model.safetensors) or a .safetensors/.npz file; with --download "
                          "also a model name such as ViT-B/32")
    src.add_argument("--random-clip", metavar="ARCH", choices=("tiny", "ViT-B/32", "ViT-B/16", "ViT-L/14"),
                     help="random CLIP weights of this architecture: the drawing means nothing; for testing "
                          "the pipeline and timing")
    p.add_argument("--download", action="store_true",
                   help="allow fetching --clip-weights from Hugging Face (needs huggingface_hub) when it is not a "
                        "local path")
    p.add_argument("--out", required=True, help="output SVG file; a PNG render is written beside it")
    p.add_argument("--negative", action="append", default=[], metavar="TEXT",
                   help="a caption to move away from (repeatable)")
    p.add_argument("--negative-weight", type=_nonneg_float("--negative-weight"), default=0.3,
                   help="weight of each negative caption (default 0.3)")
    p.add_argument("--paths", type=_positive_int("--paths"), default=256, help="number of strokes (default 256)")
    p.add_argument("--max-segments", type=_positive_int("--max-segments"), default=3,
                   help="each stroke has 1 .. this many cubic segments (default 3)")
    p.add_argument("--iters", type=_positive_int("--iters"), default=1000, help="iterations (default 1000)")
    p.add_argument("--size", type=_positive_int("--size"), default=224, help="canvas side in pixels (default 224)")
    p.add_argument("--augs", type=_positive_int("--augs"), default=4,
                   help="augmented views per iteration (default 4)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--stroke-width", type=_nonneg_float("--stroke-width"), default=1.0,
                   help="initial stroke width in pixels (default 1)")
    p.add_argument("--max-width", type=_nonneg_float("--max-width"), default=50.0,
                   help="largest stroke width in pixels (default 50)")
    p.add_argument("--lr-points", type=_nonneg_float("--lr-points"), default=1.0,
                   help="Adam learning rate of the control points (default 1.0; 0.4x at half, 0.1x at 3/4)")
    p.add_argument("--lr-width", type=_nonneg_float("--lr-width"), default=0.1, help="stroke widths (default 0.1)")
    p.add_argument("--lr-color", type=_nonneg_float("--lr-color"), default=0.01, help="colours (default 0.01)")
    p.add_argument("--max-pieces", type=_positive_int("--max-pieces"), default=None,
                   help="fixed renderer work budget (boundary pieces); default: measured from the drawing")
    p.add_argument("--snapshots", metavar="DIR", help="write an SVG and a PNG every --every steps into DIR")
    p.add_argument("--every", type=_positive_int("--every"), default=50, help="snapshot interval (default 50)")
    p.add_argument("--video", metavar="FILE", help="write an animation of the optimisation (.gif, or .mp4 "
                                                   "with imageio-ffmpeg)")
    p.add_argument("--fps", type=_positive_int("--fps"), default=10, help="animation frame rate (default 10)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    return p


def _check_args(args):
    if not args.prompt.strip():
        raise UsageError("the prompt is empty")
    out = Path(args.out)
    if out.suffix.lower() != ".svg":
        raise UsageError(f"--out: the output must be an .svg file, got {args.out!r}")
    if out.exists() and out.is_dir():
        raise UsageError(f"--out: {args.out!r} is a folder")
    if args.video is not None and Path(args.video).suffix.lower() not in (".gif", ".mp4"):
        raise UsageError(f"--video: the animation must be a .gif or .mp4 file, got {args.video!r}")
    if args.size > MAX_SIZE:
        raise UsageError(f"--size {args.size} is too large: at most {MAX_SIZE} pixels")
    if args.max_width < 1:
        raise UsageError(f"--max-width must be >= 1 (the smallest stroke width), got {args.max_width}")
    if args.snapshots is not None and Path(args.snapshots).is_file():
        raise UsageError(f"--snapshots: {args.snapshots!r} is a file, not a folder")


def _load_clip(args):
    from .clipnet import CLIP, CLIPWeightsNotFound, load
    if args.random_clip is not None:
        _say(args, f"{PROG}: note: random {args.random_clip} CLIP weights; the drawing will not match the prompt")
        return CLIP.random(args.random_clip)
    try:
        return load(args.clip_weights, download=args.download)
    except CLIPWeightsNotFound as err:
        raise UsageError(f"--clip-weights: {err}") from None
    except (ValueError, OSError) as err:
        raise UsageError(f"--clip-weights: {err}") from None


def _run(args) -> int:
    import numpy as np
    from diffvg_jax.apps.common.artifacts import SnapshotWriter, save_png, write_animation
    from .clipdraw import clipdraw

    _check_args(args)
    clip = _load_clip(args)
    try:
        from diffvg_jax.svg import save_svg
    except ImportError:
        raise UsageError("this installation has no SVG writer (diffvg_jax.svg.save_svg)") from None
    white = (1.0, 1.0, 1.0)
    writer = None
    if args.snapshots is not None or args.video is not None:
        writer = SnapshotWriter(args.snapshots, every=args.every, background=white,
                                keep_frames=args.video is not None, width=args.size, height=args.size)

    def callback(step, scene, image):
        if writer is not None:
            writer(step, scene, np.asarray(image))

    _say(args, f"{PROG}: \"{args.prompt}\" with {args.paths} strokes at {args.size}x{args.size}, "
               f"{args.iters} iterations, CLIP {clip.source}")
    try:
        scene, history = clipdraw(
            args.prompt, clip=clip, num_paths=args.paths, iterations=args.iters, canvas_size=args.size,
            max_segments=args.max_segments,
            num_augs=args.augs, negative_prompts=args.negative, negative_weight=args.negative_weight,
            lr_points=args.lr_points, lr_width=args.lr_width, lr_color=args.lr_color,
            max_width=args.max_width, init_width=max(args.stroke_width, 1.0), seed=args.seed,
            max_pieces=args.max_pieces, callback=callback, progress=not args.quiet, interruptible=True)
    except ValueError as err:
        raise UsageError(str(err)) from None

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_svg(scene, out)
    png = out.with_suffix(".png")
    save_png(history["image"], png)
    if args.video is not None:
        if args.video.lower().endswith(".mp4"):
            try:
                import imageio_ffmpeg  # noqa: F401
            except ImportError:
                raise UsageError("--video: writing .mp4 needs imageio-ffmpeg; or write a .gif") from None
        write_animation(writer.frames, args.video, fps=args.fps, background=white)
    status = "interrupted after" if history["interrupted"] else "done,"
    _say(args, f"{PROG}: {status} {history['iterations']} iterations in {history['seconds']:.1f} s "
               f"({history['it_per_s']:.2f} it/s): CLIP score {history['initial_score']:.4f} -> "
               f"{history['final_score']:.4f}")
    _say(args, f"{PROG}: wrote {out} and {png}" + (f", {args.video}" if args.video else "")
         + (f", snapshots in {args.snapshots}" if args.snapshots else ""))
    return 130 if history["interrupted"] else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``diffvg-clipdraw``; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    return run_main(PROG, build_parser, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
