"""``diffvg-interpolate``: fit one set of paths to two drawings and render the drawings between.

    diffvg-interpolate a.svg b.svg --out strip.png                  # 8 frames from a to b
    diffvg-interpolate a.svg b.svg --out strip.png --gif anim.gif --paths 64 --steps 300 --size 128
    diffvg-interpolate cat.png dog.png --out strip.png --targets     # images work too

Writes the strip (PNG: the frames side by side over white, with the two targets at its
ends when ``--targets``), the two fitted drawings beside it (``<out>_a.svg``,
``<out>_b.svg``) and optionally an animated GIF going there and back. Bad input gives a
one-line message and exit status 2.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from diffvg_jax.svg import save_svg
from diffvg_jax.apps.common.artifacts import SnapshotWriter, write_animation
from diffvg_jax.apps.common.cli import check_writable, run_main, say
from diffvg_jax.apps.common.options import Parser, UsageError, add_shared_options, nonneg_float, positive_int
from .blend import EASINGS, frame_times, render_frames, strip
from .pair import fit_pair
from .target import load_target, over_white

PROG = "diffvg-interpolate"
MAX_SIZE = 1024  # longest canvas side we agree to optimise at
# Defaults sized for a quick look (about a minute on 2 CPU cores); see the README for full quality.
DEFAULT_SIZE, DEFAULT_PATHS, DEFAULT_STEPS = 64, 32, 200


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Fit one set of closed filled Bezier paths to two drawings (the second "
               "fit starts from the first, so each path keeps its role) and render the drawings in between.")
    p.add_argument("a", help="first drawing: an SVG file or an image (PNG, JPEG, ...)")
    p.add_argument("b", help="second drawing: an SVG file or an image")
    add_shared_options(p, out="output strip (.png); the two fitted drawings are written beside it as "
                       "<out>_a.svg and <out>_b.svg", snapshots="write an SVG and a PNG of each drawing every --every "
                       "steps of its fit into DIR (a_<step>, b_<step>)",
                       every="snapshot interval in steps", seed="random seed of the initial paths")
    p.add_argument("--gif", metavar="FILE", help="also write an animated GIF from a to b and back")
    p.add_argument("--paths", type=positive_int("--paths"), default=DEFAULT_PATHS,
                   help=f"number of closed paths")
    p.add_argument("--segments", type=positive_int("--segments"), default=4,
                   help="cubic segments per path, at least 2")
    p.add_argument("--steps", type=positive_int("--steps"), default=DEFAULT_STEPS,
                   help=f"Adam steps of each of the two fits")
    p.add_argument("--size", type=positive_int("--size"), default=DEFAULT_SIZE,
                   help=f"canvas side in pixels; drawings are scaled to fit it (at most "
                   f"{MAX_SIZE})")
    p.add_argument("--frames", type=positive_int("--frames"), default=8,
                   help="frames in the strip, ends included, at least 2")
    p.add_argument("--gif-frames", type=positive_int("--gif-frames"), default=24,
                   help="frames from a to b in the GIF, at least 2")
    p.add_argument("--fps", type=positive_int("--fps"), default=12, help="GIF frame rate")
    p.add_argument("--ease", choices=EASINGS, default="smooth",
                   help="time to blend weight: linear, or smooth (smoothstep: paths start and stop gently)")
    p.add_argument("--targets", action="store_true", help="put the two targets at the ends of the strip")
    p.add_argument("--lr-points", type=nonneg_float("--lr-points"), default=0.5,
                   help="Adam learning rate of the control points, pixels")
    p.add_argument("--lr-color", type=nonneg_float("--lr-color"), default=0.02,
                   help="Adam learning rate of the fill colours")
    return p


def _check_args(args):
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise UsageError(f"--out: the strip must be a .png file, got {args.out!r}")
    if out.is_dir():
        raise UsageError(f"--out: {args.out!r} is a folder")
    check_writable("--out", out)
    if args.gif is not None:
        if Path(args.gif).suffix.lower() != ".gif":
            raise UsageError(f"--gif: the animation must be a .gif file, got {args.gif!r}")
        check_writable("--gif", Path(args.gif))
    if args.snapshots is not None:
        if Path(args.snapshots).is_file():
            raise UsageError(f"--snapshots: {args.snapshots!r} is a file, not a folder")
        check_writable("--snapshots", Path(args.snapshots), folder=True)
    if args.size > MAX_SIZE:
        raise UsageError(f"--size {args.size} is too large: at most {MAX_SIZE} pixels")
    for option, value in (("--segments", args.segments), ("--frames", args.frames),
                          ("--gif-frames", args.gif_frames)):
        if value < 2:
            raise UsageError(f"{option} must be at least 2, got {value}")


def _load(path, size):
    try:
        return load_target(path, size)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _write(args, scene_a, scene_b, target_a, target_b):
    """The strip, the two SVGs and the GIF; returns the paths written."""
    out = Path(args.out)
    frames = render_frames(scene_a, scene_b, frame_times(args.frames), size=args.size, easing=args.ease)
    if args.targets:
        frames = [np.asarray(over_white(target_a))] + frames + [np.asarray(over_white(target_b))]
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(strip(frames)).save(out, format="PNG")
    written = [out]
    for suffix, scene in (("_a", scene_a), ("_b", scene_b)):
        svg = out.with_name(out.stem + suffix + ".svg")
        save_svg(scene, svg)
        written.append(svg)
    if args.gif is not None:
        there = render_frames(scene_a, scene_b, frame_times(args.gif_frames), size=args.size, easing=args.ease)
        write_animation(there + there[-2:0:-1], args.gif, fps=args.fps)
        written.append(Path(args.gif))
    return written


def _run(args) -> int:
    _check_args(args)
    target_a, target_b = _load(args.a, args.size), _load(args.b, args.size)
    say(args, f"{PROG}: {args.paths} paths of {args.segments} segments at {args.size} px, {args.steps} steps "
        "per drawing")
    snapshots = None
    if args.snapshots is not None:
        snapshots = {end: SnapshotWriter(args.snapshots, every=args.every, background=(1.0, 1.0, 1.0),
                                         width=args.size, height=args.size, prefix=end) for end in ("a", "b")}
    try:
        scene_a, scene_b, info = fit_pair(target_a, target_b, num_paths=args.paths, segments=args.segments,
                                          steps=args.steps, seed=args.seed, lr_points=args.lr_points,
                                          lr_color=args.lr_color, progress=not args.quiet,
                                          callbacks=None if snapshots is None else
                                          (snapshots["a"], snapshots["b"]))
    except ValueError as err:
        raise UsageError(str(err)) from None
    written = _write(args, scene_a, scene_b, target_a, target_b)
    interrupted = info["a"]["interrupted"] or info["b"]["interrupted"]
    say(args, f"{PROG}: {'interrupted; ' if interrupted else ''}fit PSNR {info['a']['final_psnr']:.2f} dB (a), "
        f"{info['b']['final_psnr']:.2f} dB (b), over white")
    say(args, f"{PROG}: wrote " + ", ".join(str(p) for p in written))
    return 130 if interrupted else 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``diffvg-interpolate``; returns the exit status (0 ok, 2 bad input, 130 interrupted)."""
    return run_main(PROG, build_parser, _run, argv)
