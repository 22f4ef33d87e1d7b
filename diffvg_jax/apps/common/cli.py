"""Shared command-line plumbing for ``diffvg-fit`` and ``diffvg-clipdraw``.

Bad input is a :class:`UsageError`: one line on stderr and exit status 2, never a
traceback; Ctrl-C before the optimisation starts exits 130 with nothing written.
"""
from __future__ import annotations

import argparse
import math
import sys
from typing import Callable, Optional, Sequence

from diffvg_jax.runtime.compile_cache import enable_compilation_cache
from diffvg_jax.runtime.cpu_memory import keep_freed_memory


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors: same format, no SystemExit traceback
        raise UsageError(message)


def positive_int(name):
    """argparse type: an int >= 1, with a message naming the option."""
    def parse(text):
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got {text!r}") from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"{name} must be at least 1, got {v}")
        return v
    return parse


def nonneg_float(name):
    """argparse type: a finite float >= 0, with a message naming the option."""
    def parse(text):
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not math.isfinite(v) or v < 0:
            raise argparse.ArgumentTypeError(f"{name} must be a finite number >= 0, got {text!r}")
        return v
    return parse


def say(args, message):
    """Print a status line on stderr unless --quiet."""
    if not args.quiet:
        print(message, file=sys.stderr)


def run_main(prog: str, build_parser: Callable[[], argparse.ArgumentParser], run: Callable[[argparse.Namespace], int],
             argv: Optional[Sequence[str]]) -> int:
    """Parse ``argv`` and call ``run(args)``; map errors to exit statuses (2 bad input, 130 Ctrl-C)."""
    keep_freed_memory()  # faster jitted steps on CPU (see cpu_memory)
    enable_compilation_cache()  # a second run reuses the compiled renderer (see compile_cache)
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
    except KeyboardInterrupt:
        print(f"{prog}: interrupted before the optimisation started; nothing written", file=sys.stderr)
        return 130
