"""Keep freed memory in the process: faster JAX programs on CPU (Linux, glibc).

XLA:CPU allocates each run's temporary buffers with malloc. glibc serves large requests
with fresh mmap'd pages and returns them to the system on free, so every run of a jitted
render pays page faults on all of its temporaries again: measured on a 2-core machine, a
224 x 224 forward+backward render went from 49 ms to 39 ms with this setting. The price is
that the process keeps its peak heap after a computation instead of returning it.

That is not enough on its own: with JAX's asynchronous CPU dispatch, programs run on XLA's
worker threads, whose glibc arenas cannot hold a block above 64 MiB, so a program with
larger temporaries (a big scene's gradient: 100-280 MB) still maps and faults all of them
on every call (clipdraw-224's plain-jit gradient: 35,000 faults, 138 MB, per call). Run
synchronously, on the calling thread, the temporaries come from the main heap, kept
between calls: clipdraw-224's gradient 87-90 -> 60 ms, svg-512's 126-145 -> 85 ms, the
Ghostscript tiger's forward 70 -> 53 ms and gradient 229 -> 145 ms (plain jit, 2-core
machine, same session). Calls with much Python or many outputs lose the overlap of that
work with the computation: painterly-224 (1,537 leaves) plain-jit gradient ~5 % slower,
its eager ``jax.grad`` ~17 %.

Both are applied when ``diffvg_jax`` is imported (a plain ``jax.jit(dv.render)`` loop is
what users write, and it should not pay the page faults); set the environment variable
``DIFFVG_JAX_KEEP_FREED_MEMORY=0`` before the import to leave glibc as it is, and
``DIFFVG_JAX_SYNC_CPU=0`` to keep JAX's asynchronous CPU dispatch (or, after the import,
``jax.config.update("jax_cpu_enable_async_dispatch", True)``). The dispatch setting takes
effect only before the process's first JAX computation (JAX reads it when it starts its
CPU backend).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

import jax

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_applied = False
OPT_OUT = "DIFFVG_JAX_KEEP_FREED_MEMORY"
SYNC_OPT_OUT = "DIFFVG_JAX_SYNC_CPU"


def _opted_out(variable: str) -> bool:
    return os.environ.get(variable, "1").strip().lower() in ("0", "false", "no", "off")


def keep_freed_memory() -> bool:
    """Ask glibc to serve large allocations from the heap and not to trim it.

    Returns True when the setting took effect, False where it does not apply (not Linux,
    not glibc). Safe to call more than once.
    """
    global _applied
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, 1 << 30) == 1 and mallopt(_M_TRIM_THRESHOLD, (1 << 31) - 1) == 1
    _applied = ok
    return ok


def keep_freed_memory_unless_opted_out() -> bool:
    """:func:`keep_freed_memory`, unless the environment sets ``DIFFVG_JAX_KEEP_FREED_MEMORY=0``
    (what ``import diffvg_jax`` calls)."""
    if _opted_out(OPT_OUT):
        return False
    return keep_freed_memory()


def run_cpu_programs_synchronously() -> bool:
    """Ask JAX to run CPU programs on the calling thread (``jax_cpu_enable_async_dispatch``
    off), so that their large temporaries come from the main heap that
    :func:`keep_freed_memory` keeps. Takes effect only before JAX starts its CPU backend
    (the first computation of the process). Returns True when the setting is in place."""
    jax.config.update("jax_cpu_enable_async_dispatch", False)
    return jax.config.values.get("jax_cpu_enable_async_dispatch") is False


def run_cpu_programs_synchronously_unless_opted_out() -> bool:
    """:func:`run_cpu_programs_synchronously`, unless the environment sets
    ``DIFFVG_JAX_SYNC_CPU=0``; what ``import diffvg_jax`` calls."""
    if _opted_out(SYNC_OPT_OUT):
        return False
    return run_cpu_programs_synchronously()
