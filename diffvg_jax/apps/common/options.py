"""The command lines' shared option definitions, in one place: the parser class (its errors
are one line, its help shows every option's default), the option types, and the options
every command has (:data:`SHARED_OPTIONS`: ``--out``, ``--seed``, ``--snapshots``,
``--every``, ``--quiet``), each with the app's own help text.

A new command::

    p = Parser(prog="diffvg-mine", description="...")
    add_shared_options(p, out="output SVG", snapshots="write ... into DIR", every="snapshot interval")
"""
from __future__ import annotations

import argparse
import math
from typing import Callable, Optional

__all__ = ["UsageError", "Parser", "HelpFormatter", "SHARED_OPTIONS", "positive_int", "nonneg_float",
           "nonneg_int", "add_shared_options", "add_out", "add_seed", "add_quiet", "add_snapshots", "add_every",
           "add_learning_rates", "add_output_options"]

# The options every command line of the package has, with the same names and meaning.
SHARED_OPTIONS = ("--out", "--seed", "--snapshots", "--every", "--quiet")


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default: ``(default: 50)``, ``(default: off)`` for a
    flag, ``(required)``; a help text that already names its default is left as it is."""

    def _get_help_string(self, action):
        text = action.help or ""
        if not action.option_strings or action.default is argparse.SUPPRESS or "default" in text.lower():
            return text
        if action.required:
            return f"{text} (required)".strip()
        value = action.default
        if action.nargs == 0 and isinstance(value, bool):  # a flag
            value = "on" if action.default else "off"
        elif value is None:
            value = "none"
        elif isinstance(value, (list, tuple)):
            value = " ".join(str(v) for v in value) or "none"
        return f"{text} (default: {str(value).replace('%', '%%')})".strip()


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are :class:`UsageError` (one line, exit status 2, by
    :func:`~.cli.run_main`) and whose help shows every default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

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


def nonneg_int(name):
    """argparse type: an int >= 0, with a message naming the option."""
    return _number(name, int, "a whole number", lambda v: v >= 0, "at least 0", lambda text, v: v)


def nonneg_float(name):
    """argparse type: a finite float >= 0, with a message naming the option."""
    return _number(name, float, "a number", lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0",
                   lambda text, v: repr(text))


def add_out(p, help: str, *, required: bool = True, metavar: Optional[str] = None):
    """``--out``: where the command writes its result."""
    p.add_argument("--out", required=required, metavar=metavar, help=help)


def add_seed(p, help: str = "random seed (same seed and inputs: same result)", *, default: int = 0):
    """``--seed N``."""
    p.add_argument("--seed", type=int, default=default, help=help)


def add_quiet(p, help: str = "no progress display and no status lines; errors are still reported"):
    """``--quiet`` (dest ``quiet``)."""
    p.add_argument("--quiet", action="store_true", help=help)


def add_snapshots(p, help: str):
    """``--snapshots DIR`` (default none: no snapshots)."""
    p.add_argument("--snapshots", metavar="DIR", help=help)


def add_every(p, help: str, *, default: int = 50, zero_ok: bool = False):
    """``--every N``: the snapshot interval in steps (``zero_ok``: 0 means only at the end)."""
    kind = nonneg_int if zero_ok else positive_int
    p.add_argument("--every", metavar="N", type=kind("--every"), default=default, help=help)


def add_shared_options(p, *, out: str, snapshots: str, every: str, every_default: int = 50,
                       every_zero_ok: bool = False, out_metavar: Optional[str] = None,
                       seed: Optional[str] = None, seed_default: int = 0,
                       quiet: Optional[str] = None, title: str = "shared options (every diffvg-* command)"):
    """All of :data:`SHARED_OPTIONS`, in an argument group of their own, with the app's help
    texts; returns the group (an app may add its own options to it)."""
    g = p.add_argument_group(title)
    add_out(g, out, metavar=out_metavar)
    add_seed(g, seed or "random seed (same seed and inputs: same result)", default=seed_default)
    add_snapshots(g, snapshots)
    add_every(g, every, default=every_default, zero_ok=every_zero_ok)
    add_quiet(g, quiet or "no progress display and no status lines; errors are still reported")
    return g


def add_learning_rates(p, *, points: str, width: str, color: str):
    """--lr-points, --lr-width, --lr-color (Adam learning rates; defaults 1.0, 0.1, 0.01),
    each with its app's help text."""
    for name, default, text in (("--lr-points", 1.0, points), ("--lr-width", 0.1, width),
                                ("--lr-color", 0.01, color)):
        p.add_argument(name, type=nonneg_float(name), default=default, help=text)


def add_output_options(p, *, video: str):
    """--video FILE and --fps N (the drawing commands' animation besides --out)."""
    p.add_argument("--video", metavar="FILE", help=video)
    p.add_argument("--fps", type=positive_int("--fps"), default=10, help="animation frame rate")
