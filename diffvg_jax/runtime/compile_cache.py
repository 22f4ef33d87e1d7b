"""A persistent XLA compilation cache for the command-line tools.

Compiling the renderer is most of a short run's time (a stroked scene's forward and
backward programs take tens of seconds on a 2-core CPU), and every new process compiles
again. JAX can keep compiled programs on disk; the command-line tools switch that on, so
that a second ``diffvg-fit`` on an image of the same size, with the same options, starts
in seconds.

Not applied on import (it changes process-wide JAX configuration); scripts and notebooks
can call :func:`enable_compilation_cache` themselves.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import jax

#: Environment variable that turns the cache off for the command-line tools ("0", "off").
DISABLE_ENV = "DIFFVG_JAX_COMPILATION_CACHE"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/diffvg_jax/xla``, else ``~/.cache/diffvg_jax/xla``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "diffvg_jax" / "xla"


def enable_compilation_cache(path: Optional[str] = None, *, min_compile_seconds: float = 1.0) -> Optional[str]:
    """Keep compiled XLA programs on disk and reuse them in later processes.

    Args:
      path: cache folder. None: JAX's own setting if one is configured (the
        ``JAX_COMPILATION_CACHE_DIR`` environment variable or ``jax.config``), else
        :func:`default_cache_dir`.
      min_compile_seconds: float seconds; only programs that took at least this long to
        compile are stored (small helper programs are not worth a disk entry).

    Returns:
      The folder in use, or None when the cache is off: ``DIFFVG_JAX_COMPILATION_CACHE`` is
      "0" / "off" / "false", or the folder cannot be created (read-only home, for example;
      the tools then simply compile as usual).
    """
    if os.environ.get(DISABLE_ENV, "").strip().lower() in ("0", "off", "false", "no"):
        return None
    configured = jax.config.jax_compilation_cache_dir
    if path is None and configured:
        return configured  # the user's own cache wins, with the user's own thresholds
    folder = Path(path) if path is not None else default_cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_seconds))
    return str(folder)
