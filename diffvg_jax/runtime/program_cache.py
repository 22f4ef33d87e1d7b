"""A bound on the compiled programs a process keeps: jit caches emptied when they grow.

Each compiled CPU program keeps a few hundred memory mappings of machine code (measured:
~450 per scene structure on XLA:CPU, ~900 without LLVM optimisation), and Linux allows
65530 per process by default. A process that renders many differently structured scenes
(a folder of SVG files, the conformance suite) ran out and crashed inside XLA, so the
renderer's own program caches are emptied when they hold more than MAX_CACHED_PROGRAMS
programs, or when the process holds more than MAX_MEMORY_MAPS mappings after a compilation.

Imports nothing of the engine: the renderer registers its jitted functions here.
"""
from __future__ import annotations

MAX_CACHED_PROGRAMS = 96   # the encoded route keeps a few small geometry programs besides the pipeline
MAX_MEMORY_MAPS = 30000


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
        self._at_last_check = 0

    def size(self) -> int:
        """The number of compiled programs the functions hold."""
        return sum(f._cache_size() for f in self.jitted)   # jax's per-function cache count

    def clear(self):
        """Drop every compiled program (a later call recompiles, or reloads from a persistent
        compilation cache)."""
        for f in self.jitted:
            f.clear_cache()
        self._at_last_check = 0

    def bound(self):
        """Empty the caches when they have grown past MAX_CACHED_PROGRAMS, or the process
        holds more than MAX_MEMORY_MAPS mappings. Checked only after a compilation, so a
        steady loop pays one cache-size lookup per function and call."""
        programs = self.size()
        if programs == self._at_last_check:
            return
        self._at_last_check = programs
        if programs > MAX_CACHED_PROGRAMS or memory_maps() > MAX_MEMORY_MAPS:
            self.clear()
