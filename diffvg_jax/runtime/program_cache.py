"""A bound on the compiled programs a process keeps: jit caches emptied when they grow.

Each compiled CPU program keeps a few hundred memory mappings of machine code (measured:
~450 per scene structure on XLA:CPU, ~900 without LLVM optimisation), and Linux allows
65530 per process by default. A process that renders many differently structured scenes
(a folder of SVG files, the conformance suite) ran out and crashed inside XLA, so the
renderer's own program caches are emptied when more than MAX_CACHED_PROGRAMS of their
programs were compiled since they were last emptied, or when the process holds more than
MAX_MEMORY_MAPS mappings after a compilation.

Compilations are counted from JAX's compile events, not from the jit caches' sizes: under
eager ``jax.grad`` every call adds an entry to a jitted function's dispatch cache (the
entries are keyed by the autodiff trace) without compiling anything, so a size-based bound
emptied every cache, and recompiled everything (12 s), every ~95 gradient calls.

Imports nothing of the engine: the renderer registers its jitted functions here.
"""
from __future__ import annotations

import collections

import jax

MAX_CACHED_PROGRAMS = 96   # the encoded route keeps a few small geometry programs besides the pipeline
MAX_MEMORY_MAPS = 30000

# JAX records this event (with the program's name) for every backend compilation, also
# when the executable comes from the persistent compilation cache (it maps code all the same).
BACKEND_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_COMPILES: collections.Counter = collections.Counter()     # program name -> compilations
_TOTAL = [0]                                              # all compilations of the process


def _count_compile(event: str, duration: float, fun_name: str = "", **_):
    if event == BACKEND_COMPILE_EVENT:
        _COMPILES[fun_name] += 1
        _TOTAL[0] += 1


jax.monitoring.register_event_duration_secs_listener(_count_compile)


def memory_maps() -> int:
    """Number of memory mappings of this process (Linux); 0 where /proc is not available."""
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


class ProgramCaches:
    """The compiled-program caches of some ``jax.jit`` functions, counted and emptied together."""

    def __init__(self, *jitted):
        self.jitted = tuple(jitted)
        # Program names mention the function's (``jvp(render_encoding_jit)``, ...).
        self.names = tuple(getattr(f, "__name__", "") for f in self.jitted)
        self._total_seen = _TOTAL[0]
        self._compiled_at_clear = self.compiled()

    def size(self) -> int:
        """The entries of the functions' dispatch caches (jax's per-function count): one per
        compiled program and call signature, and under eager ``jax.grad`` one per call."""
        return sum(f._cache_size() for f in self.jitted)

    def compiled(self) -> int:
        """Compilations so far of programs made from these functions (their autodiff
        variants included)."""
        return sum(n for name, n in list(_COMPILES.items()) if any(own in name for own in self.names))

    def clear(self):
        """Drop every compiled program (a later call recompiles, or reloads from a persistent
        compilation cache)."""
        for f in self.jitted:
            f.clear_cache()
        self._compiled_at_clear = self.compiled()

    def bound(self):
        """Empty the caches when more than MAX_CACHED_PROGRAMS of their programs were compiled
        since they were last emptied, or the process holds more than MAX_MEMORY_MAPS
        mappings. Checked only after a compilation somewhere in the process, so a steady
        loop pays one integer comparison per call."""
        if _TOTAL[0] == self._total_seen:
            return
        self._total_seen = _TOTAL[0]
        if self.compiled() - self._compiled_at_clear > MAX_CACHED_PROGRAMS or memory_maps() > MAX_MEMORY_MAPS:
            self.clear()
