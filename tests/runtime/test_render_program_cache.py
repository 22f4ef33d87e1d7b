"""The renderer bounds its own program caches: rendering many differently structured scenes
in one process must not accumulate compiled programs (each holds hundreds of memory
mappings, and a process may have 65530) until XLA fails."""
import gc
import sys

import numpy as np

import diffvg_jax as dv

from diffvg_jax.raster import clear_program_caches, program_cache_size
from diffvg_jax.runtime import program_cache


def _maps() -> int:
    with open("/proc/self/maps") as f:
        return sum(1 for _ in f)


def test_program_cache_stays_bounded_and_results_survive_eviction(monkeypatch):
    monkeypatch.setattr(program_cache, "MAX_CACHED_PROGRAMS", 3)
    clear_program_caches()
    emptied = []
    clear = program_cache.ProgramCaches.clear

    def counting_clear(self):
        emptied.append(self.size())
        clear(self)
    monkeypatch.setattr(program_cache.ProgramCaches, "clear", counting_clear)
    first = None
    sizes = []
    for n in range(1, 6):   # five programs: 1..5 rectangles on canvases 12..16 px wide (the
        # canvas size is part of every program; structures alone now share one pipeline)
        kids = tuple(dv.Rect(p_min=[1.0 + 2 * i, 1.0], p_max=[2.5 + 2 * i, 9.0], fill=dv.rgba(1, 0, 0, 1))
                     for i in range(n))
        img = np.asarray(dv.render(dv.Scene(children=kids), width=11 + n, height=10))
        if first is None:
            first = img
        sizes.append(program_cache_size())
        # exact coverage: each rectangle covers pixel column 1 + 2i fully, 2 + 2i half
        np.testing.assert_allclose(img[3, 1:2 * n + 1:2, 3], 1.0, atol=1e-4)
        np.testing.assert_allclose(img[3, 2:2 * n + 2:2, 3], 0.5, atol=1e-4)
    assert max(sizes) <= 3 + 5, sizes     # one render adds at most five programs before the check
    assert emptied and min(emptied) > 3, emptied  # emptied when (and only when) past the bound
    # the first structure again (recompiled after eviction) gives the same image
    again = np.asarray(dv.render(dv.Scene(children=(dv.Rect(p_min=[1.0, 1.0], p_max=[2.5, 9.0],
                                                            fill=dv.rgba(1, 0, 0, 1)),)), width=12, height=10))
    np.testing.assert_array_equal(again, first)


def test_emptying_the_caches_releases_memory_mappings():
    """The mechanism the bound relies on: clearing a jit cache frees its programs' mappings."""
    clear_program_caches()
    before = _maps()
    for n in range(1, 4):
        kids = tuple(dv.Circle(center=[5.0 + i, 5.0], radius=3.0, fill=dv.rgba(0, 0, 1, 1)) for i in range(n))
        dv.render(dv.Scene(children=kids), width=10 + n, height=10).block_until_ready()
    grown = _maps()
    clear_program_caches()
    gc.collect()
    after = _maps()
    assert grown - before > 300, (before, grown)          # programs do hold many mappings
    assert after - before < 0.25 * (grown - before), (before, grown, after)


def test_too_many_memory_mappings_empty_the_caches_too(monkeypatch):
    monkeypatch.setattr(program_cache, "MAX_MEMORY_MAPS", _maps() // 2)   # already past it
    sizes = []
    for n in (1, 2):   # two canvas sizes: the second call needs programs of its own
        kids = tuple(dv.Circle(center=[4.0 + 3 * i, 5.0], radius=2.0, fill=dv.rgba(0, 1, 0, 1)) for i in range(n))
        dv.render(dv.Scene(children=kids), width=12 + n, height=10).block_until_ready()
        sizes.append(program_cache_size())
    # the second call found the first call's programs and the mappings over the limit: it
    # emptied the caches before compiling its own (a pipeline for its canvas at least), so
    # it holds no more than the first call left; without the emptying it would hold more
    assert sizes[1] <= sizes[0], sizes


def test_eager_gradient_loops_compile_once_and_keep_their_programs(monkeypatch):
    """Under eager ``jax.grad`` each call adds a dispatch-cache entry (keyed by the autodiff
    trace) without compiling: the bound counts compilations, so a loop neither recompiles
    nor empties the caches (it did every ~95 calls, 12 s each, when it counted entries)."""
    import jax
    import jax.numpy as jnp

    scene = dv.Scene(children=(dv.Circle(center=[8.0, 8.0], radius=4.0, fill=dv.rgba(1, 0, 0, 1)),))
    grad = jax.grad(lambda s: jnp.mean(dv.render(s, width=16, height=16)[..., 3]))
    first = grad(scene).children[0].radius
    for _ in range(3):      # the leaf packing compiles on a signature's second use
        grad(scene)
    monkeypatch.setattr(program_cache, "MAX_CACHED_PROGRAMS", 2)
    emptied = []
    monkeypatch.setattr(program_cache.ProgramCaches, "clear", lambda self: emptied.append(self.size()))
    sizes = []
    for _ in range(8):
        np.testing.assert_array_equal(np.asarray(grad(scene).children[0].radius), np.asarray(first))
        sizes.append(program_cache_size())
    assert sizes[-1] > sizes[0] + 2, sizes     # the entries grow (what the old bound counted) ...
    assert not emptied, emptied                # ... but nothing was compiled, so nothing is emptied
    assert abs(float(first) - 2 * np.pi * 4.0 / 256) < 0.005   # d(mean alpha)/dr: the perimeter / pixels
