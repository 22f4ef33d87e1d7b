"""The one command-line runner of the applications (``diffvg-fit``, ``diffvg-clipdraw``,
``diffvg-mnist-vae``) and the output steps the drawing commands share; the option
definitions they share are in :mod:`.options` (re-exported here).

Bad input is a :class:`UsageError`: one line on stderr and exit status 2, never a
traceback or a usage dump; Ctrl-C before the optimisation starts exits 130 with a one-line
note.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np

from diffvg_jax.runtime import enable_compilation_cache, keep_freed_memory, prefer_fast_compilation
from diffvg_jax.svg import save_svg
from .artifacts import SnapshotWriter, save_png, write_animation
from .options import (SHARED_OPTIONS, HelpFormatter, Parser, UsageError, add_every, add_learning_rates, add_out,
                      add_output_options, add_quiet, add_seed, add_shared_options, add_snapshots, nonneg_float,
                      nonneg_int, positive_int)
from .progress import Progress
from .timing import LoopStats, rate_text

__all__ = ["UsageError", "Parser", "HelpFormatter", "SHARED_OPTIONS", "positive_int", "nonneg_int", "nonneg_float",
           "add_shared_options", "add_out", "add_seed", "add_quiet", "add_snapshots", "add_every",
           "add_learning_rates", "add_output_options", "say", "run_main", "check_writable", "check_outputs",
           "snapshot_writer", "snapshot_callback", "progress_display", "loop_summary", "history_stats",
           "optimise_and_write",
           "NOT_STARTED"]

NOT_STARTED = "interrupted before the optimisation started; nothing written"


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
    except UsageError as err:  # one line, no usage dump
        print(f"{prog}: error: {err} (see {prog} --help)", file=sys.stderr)
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
    """An optimisation callback ``(step, scene, image)`` feeding ``writer``, or None without
    one: a callback makes the loop fetch the scene to the host after every step, which
    stalls the device queue (it cost the README command a third of its step time)."""
    if writer is None:
        return None

    def callback(step, scene, image):
        writer(step, scene, np.asarray(image))
    return callback


def progress_display(args) -> Optional[Progress]:
    """The command's progress display on stderr (None with --quiet): pass it as the loop's
    ``progress`` and close it with the final figures (:func:`loop_summary`)."""
    return None if getattr(args, "quiet", False) else Progress()


def loop_summary(prog: str, bar: Optional[Progress], stats: LoopStats, figures: Dict[str, str], *,
                 what: str = "iterations", unit: str = "it") -> str:
    """Close ``bar`` (if any) with ``figures`` (name -> text) and return the summary line
    with the same figures and the same rate (``stats.it_per_s``, compile time excluded)."""
    if bar is not None:
        bar.close(figures, interrupted=stats.interrupted)
    status = "interrupted after" if stats.interrupted else "done,"
    shown = ", ".join(f"{k} {v}" for k, v in figures.items())
    return (f"{prog}: {status} {stats.done} {what} in {stats.seconds:.1f} s ({stats.compile_seconds:.1f} s "
            f"compiling; {rate_text(stats.it_per_s, unit)}, compile time excluded)" + (f": {shown}" if shown else ""))


def history_stats(history: dict) -> LoopStats:
    """The loop figures of a ``dv.fit`` / ``dv.clipdraw`` history dict as :class:`LoopStats`."""
    return LoopStats(done=history["iterations"], seconds=history["seconds"],
                     compile_seconds=history["compile_seconds"], it_per_s=history["it_per_s"],
                     interrupted=bool(history["interrupted"]))


def optimise_and_write(args, prog: str, optimise: Callable, writer: Optional[SnapshotWriter], background, *,
                       final_snapshot: bool, figures: Callable[[dict], Dict[str, str]],
                       display_size: Optional[Tuple[int, int]] = None) -> int:
    """Run ``optimise(callback, progress) -> (scene, history)`` (a ValueError is bad input;
    ``progress`` is the display, or False with --quiet), then write --out (SVG), its PNG
    render (``history['image']``, float32 (H, W, 3) already composited), the final
    snapshot (when ``final_snapshot`` and not already written) and --video; end the
    display and say how the run ended with the same final figures (``figures(history)``:
    name -> text, the app's own) and what was written. ``display_size``: (width, height) at
    which viewers show the SVG (its canvas becomes the viewBox; see ``save_svg``). Returns
    the exit status: 130 when interrupted, else 0."""
    bar = progress_display(args)
    try:
        scene, history = optimise(snapshot_callback(writer), bar if bar is not None else False)
    except BaseException as err:
        if bar is not None:
            bar.close(interrupted=isinstance(err, KeyboardInterrupt))
        if isinstance(err, ValueError):
            raise UsageError(str(err)) from None
        raise
    line = loop_summary(prog, bar, history_stats(history), figures(history))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_svg(scene, out, display_size=display_size)
    image = history["image"]
    png = out.with_suffix(".png")
    save_png(image, png)
    if writer is not None and final_snapshot:
        n = history["iterations"]
        if not writer.due(n):  # always keep the final state
            writer.write(n, scene, np.asarray(image))
    if args.video is not None:
        write_animation(writer.frames, args.video, fps=args.fps, background=background)
    say(args, line)
    say(args, f"{prog}: wrote {out} and {png}" + (f", {args.video}" if args.video else "")
        + (f", snapshots in {args.snapshots}" if args.snapshots else ""))
    return 130 if history["interrupted"] else 0
