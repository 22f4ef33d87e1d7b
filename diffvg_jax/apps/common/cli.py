"""The one command-line runner of the applications (``diffvg-fit``, ``diffvg-clipdraw``,
``diffvg-mnist-vae``), their option types, and the output steps the drawing commands share.

Bad input is a :class:`UsageError`: one line on stderr and exit status 2, never a
traceback; Ctrl-C before the optimisation starts exits 130 with a one-line note.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from diffvg_jax.runtime import enable_compilation_cache, keep_freed_memory, prefer_fast_compilation
from diffvg_jax.svg import save_svg
from .artifacts import SnapshotWriter, save_png, write_animation

NOT_STARTED = "interrupted before the optimisation started; nothing written"


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: same format, no SystemExit traceback
        raise UsageError(message)


def _number(name: str, convert: Callable, what: str, ok: Callable, bound: str, shown: Callable):
    """argparse type: ``convert(text)``, refused (naming the option) unless ``ok(value)``."""
    def parse(text):
        try:
            v = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {what}, got {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"{name} must be {bound}, got {shown(text, v)}")
        return v
    return parse


def positive_int(name):
    """argparse type: an int >= 1, with a message naming the option."""
    return _number(name, int, "a whole number", lambda v: v >= 1, "at least 1", lambda text, v: v)


def nonneg_float(name):
    """argparse type: a finite float >= 0, with a message naming the option."""
    return _number(name, float, "a number", lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0",
                   lambda text, v: repr(text))


def add_learning_rates(p: argparse.ArgumentParser, *, points: str, width: str, color: str):
    """--lr-points, --lr-width, --lr-color (Adam learning rates; defaults 1.0, 0.1, 0.01),
    each with its app's help text."""
    for name, default, text in (("--lr-points", 1.0, points), ("--lr-width", 0.1, width),
                                ("--lr-color", 0.01, color)):
        p.add_argument(name, type=nonneg_float(name), default=default, help=text)


def add_output_options(p: argparse.ArgumentParser, *, every: str, video: str):
    """--snapshots DIR, --every N, --video FILE and --fps N (the outputs besides --out), with
    the app's help texts for --every and --video."""
    p.add_argument("--snapshots", metavar="DIR", help="write an SVG and a PNG every --every steps into DIR")
    p.add_argument("--every", type=positive_int("--every"), default=50, help=every)
    p.add_argument("--video", metavar="FILE", help=video)
    p.add_argument("--fps", type=positive_int("--fps"), default=10, help="animation frame rate (default 10)")


def say(args, message):
    """Print a status line on stderr unless --quiet."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def run_main(prog: str, build_parser: Callable[[], argparse.ArgumentParser], run: Callable[[argparse.Namespace], int],
             argv: Optional[Sequence[str]], *, interrupted: str = NOT_STARTED) -> int:
    """Parse ``argv`` and call ``run(args)``; map errors to exit statuses (2 bad input, 130 Ctrl-C).

    ``interrupted`` is the note printed when Ctrl-C reaches here (an optimisation that
    handles Ctrl-C itself returns 130 from ``run``)."""
    prefer_fast_compilation()  # first results in seconds: XLA:CPU's faster-compiling emitters
    keep_freed_memory()  # faster jitted steps on CPU (see diffvg_jax.runtime)
    enable_compilation_cache()  # a second run reuses the compiled renderer (see diffvg_jax.runtime)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as err:
        parser.print_usage(sys.stderr)
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    try:
        return run(args)
    except UsageError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a write that failed after all (disk full, removed folder, ...)
        where = f" {err.filename}" if err.filename else ""
        print(f"{prog}: error: cannot write{where}: {err.strerror or err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130


# ---------------------------------------------------------------------------------------
# Outputs of the drawing commands: --out (SVG + PNG), --snapshots / --every, --video / --fps
# ---------------------------------------------------------------------------------------


def check_writable(option: str, path: Path, *, folder: bool = False):
    """Refuse (UsageError) an output path that cannot be written, before any work: the
    nearest existing folder on its way must be a folder we can create a file in (a probe
    file is created and removed), and an existing file must be writable."""
    target = path if folder else path.parent
    probe = target
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{option}: cannot write {str(path)!r}: {str(probe)!r} is not a folder")
    if not folder and path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{option}: cannot write {str(path)!r}: the file is read-only")
    try:
        fd, name = tempfile.mkstemp(dir=probe, prefix=".diffvg-write-check-")
        os.close(fd)
        os.unlink(name)
    except OSError as err:
        raise UsageError(f"{option}: cannot write into {str(probe)!r}: {err.strerror or err}") from None


def check_outputs(args):
    """Refuse bad --out / --video / --snapshots before anything is computed (UsageError)."""
    out = Path(args.out)
    if out.suffix.lower() != ".svg":
        raise UsageError(f"--out: the output must be an .svg file, got {args.out!r}")
    if out.exists() and out.is_dir():
        raise UsageError(f"--out: {args.out!r} is a folder")
    check_writable("--out", out)
    if args.video is not None:
        suffix = Path(args.video).suffix.lower()
        if suffix not in (".gif", ".mp4"):
            raise UsageError(f"--video: the animation must be a .gif or .mp4 file, got {args.video!r}")
        if suffix == ".mp4":
            try:  # an optional extra (the 'video' dependencies): only looked for when asked
                import imageio_ffmpeg  # noqa: F401
            except ImportError:
                raise UsageError("--video: writing .mp4 needs imageio-ffmpeg (pip install imageio "
                                 "imageio-ffmpeg); or write a .gif") from None
    if args.snapshots is not None and Path(args.snapshots).is_file():
        raise UsageError(f"--snapshots: {args.snapshots!r} is a file, not a folder")
    if args.snapshots is not None:
        check_writable("--snapshots", Path(args.snapshots), folder=True)
    if args.video is not None:
        check_writable("--video", Path(args.video))


def snapshot_writer(args, background, width: int, height: int) -> Optional[SnapshotWriter]:
    """The writer for --snapshots / --video (None when neither is asked for)."""
    if args.snapshots is None and args.video is None:
        return None
    return SnapshotWriter(args.snapshots, every=args.every, background=background,
                          keep_frames=args.video is not None, width=width, height=height)


def snapshot_callback(writer: Optional[SnapshotWriter]):
    """An optimisation callback ``(step, scene, image)`` feeding ``writer`` (if any)."""
    def callback(step, scene, image):
        if writer is not None:
            writer(step, scene, np.asarray(image))
    return callback


def optimise_and_write(args, prog: str, optimise: Callable, writer: Optional[SnapshotWriter], background, *,
                       final_snapshot: bool, summary: Callable[[dict], str]) -> int:
    """Run ``optimise(callback) -> (scene, history)`` (a ValueError is bad input), then write
    --out (SVG), its PNG render (``history['image']``, float32 (H, W, 3) already
    composited), the final snapshot (when ``final_snapshot`` and not already written) and
    --video; say how the run ended (``summary(history)``: the app's own figures) and what
    was written. Returns the exit status: 130 when interrupted, else 0."""
    try:
        scene, history = optimise(snapshot_callback(writer))
    except ValueError as err:
        raise UsageError(str(err)) from None
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_svg(scene, out)
    image = history["image"]
    png = out.with_suffix(".png")
    save_png(image, png)
    if writer is not None and final_snapshot:
        n = history["iterations"]
        if not writer.due(n):  # always keep the final state
            writer.write(n, scene, np.asarray(image))
    if args.video is not None:
        write_animation(writer.frames, args.video, fps=args.fps, background=background)
    status = "interrupted after" if history["interrupted"] else "done,"
    say(args, f"{prog}: {status} {history['iterations']} iterations in {history['seconds']:.1f} s "
        f"{summary(history)}")
    say(args, f"{prog}: wrote {out} and {png}" + (f", {args.video}" if args.video else "")
        + (f", snapshots in {args.snapshots}" if args.snapshots else ""))
    return 130 if history["interrupted"] else 0
