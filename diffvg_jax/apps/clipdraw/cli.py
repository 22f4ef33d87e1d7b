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
from typing import Optional, Sequence

from diffvg_jax.apps.common.cli import (Parser, UsageError, add_learning_rates, add_output_options, add_shared_options,
                                        check_outputs, nonneg_float, optimise_and_write, positive_int, run_main, say,
                                        snapshot_writer)
from .clipnet import CLIP, CLIPWeightsNotFound, load
from .draw import clipdraw

PROG = "diffvg-clipdraw"
MAX_SIZE = 1024
WHITE = (1.0, 1.0, 1.0)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Draw a caption with strokes optimised to match it under CLIP (CLIPDraw).")
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
    p.add_argument("--negative", action="append", default=[], metavar="TEXT",
                   help="a caption to move away from (repeatable)")
    p.add_argument("--negative-weight", type=nonneg_float("--negative-weight"), default=0.3,
                   help="weight of each negative caption")
    add_shared_options(p, out="output SVG file; a PNG render is written beside it", out_metavar="SVG",
                       seed="random seed of the strokes and the augmentations",
                       snapshots="write an SVG and a PNG every --every steps into DIR",
                       every="snapshot / animation-frame interval in steps")
    p.add_argument("--paths", type=positive_int("--paths"), default=256, help="number of strokes")
    p.add_argument("--max-segments", type=positive_int("--max-segments"), default=3,
                   help="each stroke has 1 .. this many cubic segments")
    p.add_argument("--iters", type=positive_int("--iters"), default=1000, help="iterations")
    p.add_argument("--size", type=positive_int("--size"), default=224, help=f"canvas side in pixels (at most {MAX_SIZE})")
    p.add_argument("--augs", type=positive_int("--augs"), default=4, help="augmented views per iteration")
    p.add_argument("--stroke-width", type=nonneg_float("--stroke-width"), default=1.0,
                   help="initial stroke width in pixels")
    p.add_argument("--max-width", type=nonneg_float("--max-width"), default=50.0,
                   help="largest stroke width in pixels")
    add_learning_rates(p, points="Adam learning rate of the control points (0.4x at half, 0.1x at 3/4)",
                       width="Adam learning rate of the stroke widths", color="Adam learning rate of the colours")
    p.add_argument("--max-pieces", type=positive_int("--max-pieces"), default=None,
                   help="fixed renderer work budget (boundary pieces); none: measured from the drawing")
    add_output_options(p, video="write an animation of the optimisation (.gif, or .mp4 with imageio-ffmpeg); "
                       "one frame every --every steps")
    return p


def _check_args(args):
    if not args.prompt.strip():
        raise UsageError("the prompt is empty")
    check_outputs(args)
    if args.size > MAX_SIZE:
        raise UsageError(f"--size {args.size} is too large: at most {MAX_SIZE} pixels")
    if args.max_width < 1:
        raise UsageError(f"--max-width must be >= 1 (the smallest stroke width), got {args.max_width}")


def _load_clip(args):
    if args.random_clip is not None:
        say(args, f"{PROG}: note: random {args.random_clip} CLIP weights; the drawing will not match the prompt")
        return CLIP.random(args.random_clip)
    try:
        return load(args.clip_weights, download=args.download)
    except (CLIPWeightsNotFound, ValueError, OSError) as err:
        raise UsageError(f"--clip-weights: {err}") from None


def _run(args) -> int:
    _check_args(args)
    clip = _load_clip(args)
    writer = snapshot_writer(args, WHITE, args.size, args.size)
    say(args, f"{PROG}: \"{args.prompt}\" with {args.paths} strokes at {args.size}x{args.size}, "
              f"{args.iters} iterations, CLIP {clip.source}")

    def optimise(callback, progress):
        return clipdraw(args.prompt, clip=clip, num_paths=args.paths, iterations=args.iters, canvas_size=args.size,
                        max_segments=args.max_segments, num_augs=args.augs, negative_prompts=args.negative,
                        negative_weight=args.negative_weight, lr_points=args.lr_points, lr_width=args.lr_width,
                        lr_color=args.lr_color, max_width=args.max_width, init_width=max(args.stroke_width, 1.0),
                        seed=args.seed, max_pieces=args.max_pieces, callback=callback, progress=progress,
                        interruptible=True)

    # The same figures end the progress display and the summary line: the written drawing's.
    return optimise_and_write(args, PROG, optimise, writer, WHITE, final_snapshot=False, figures=lambda h: {
        "CLIP score": f"{h['initial_score']:.4f} -> {h['final_score']:.4f}"})


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``diffvg-clipdraw``; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    return run_main(PROG, build_parser, _run, argv)
