"""XLA:CPU settings that make first calls faster: the renderer's programs compile 2-5x faster
with XLA's classic loop emitters than with its newer fusion emitters.

Measured on the 2-core CPU (bench/bench_compile.py prints the same comparison): the
gradient of a circle compiles in 2.9 s instead of 6.7 s; painterly-224's forward+backward
in 5.3 s instead of 23 s, and runs 0-16 % slower once compiled. For a user that trade is
usually right (a first result in seconds), for a long fitting run it hardly matters.

XLA reads its flags once, when JAX starts its CPU backend: call :func:`prefer_fast_compilation`
before the first JAX computation of the process (the command-line tools do), or set the
environment variable yourself: ``XLA_FLAGS=--xla_cpu_use_fusion_emitters=false``. It changes
how the whole process compiles, which is why importing diffvg_jax does not do it.
"""
from __future__ import annotations

import os

FAST_COMPILE_FLAGS = ("--xla_cpu_use_fusion_emitters=false",)


def prefer_fast_compilation() -> bool:
    """Add :data:`FAST_COMPILE_FLAGS` to ``XLA_FLAGS`` unless the variable already names them
    (a user's own setting wins). Returns True when the flags are in place after the call;
    they take effect only if JAX has not started its CPU backend yet."""
    flags = os.environ.get("XLA_FLAGS", "")
    names = {f.split("=")[0] for f in flags.split()}
    missing = [f for f in FAST_COMPILE_FLAGS if f.split("=")[0] not in names]
    if missing:
        os.environ["XLA_FLAGS"] = " ".join([flags] + missing).strip()
    return all(f in os.environ["XLA_FLAGS"].split() for f in FAST_COMPILE_FLAGS)


def cpu_fusion_emitters_enabled() -> bool:
    """Whether XLA:CPU compiles with its newer fusion emitters (its default), as far as
    ``XLA_FLAGS`` tells: False once :func:`prefer_fast_compilation` (or the user) turned them
    off. Programs can pick, at trace time, the form of an operation that compiles faster
    under the emitters in use (see ``raster.leaves``)."""
    for flag in reversed(os.environ.get("XLA_FLAGS", "").split()):
        name, _, value = flag.partition("=")
        if name == "--xla_cpu_use_fusion_emitters":
            return value.strip().lower() not in ("false", "0")
    return True
