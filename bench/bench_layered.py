"""Scenes with sub-layers (opacity groups, clip paths, masks, blend modes) of different
structure: first forward + ``jax.grad`` per scene, through the encoded route (``dv.render``)
and through the per-structure program (``render_traced``, the route before), same process.

Each scene is ``random_layered_scene`` of tests/raster/test_encoding.py at 32 px. Scenes of
one capacity class share the encoded route's programs; random scenes mostly fall in
different classes, so this measures the compile cost of a new class as much as of a new
structure. Run by hand: ``python bench/bench_layered.py [--scenes 8] [--same-shapes]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests"), os.path.join(HERE, "..", "tests", "raster")]

from diffvg_jax.runtime import prefer_fast_compilation  # noqa: E402

prefer_fast_compilation()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import diffvg_jax as dv  # noqa: E402
from diffvg_jax.raster import auto_budget, count_layers, render_traced  # noqa: E402
from test_encoding import SIZE, random_layered_scene  # noqa: E402


def encoded(scene):
    dv.render(scene, width=SIZE, height=SIZE).block_until_ready()
    jax.block_until_ready(jax.grad(lambda s: jnp.mean(dv.render(s, width=SIZE, height=SIZE)))(scene))


def per_structure(scene):
    pieces = auto_budget(dv.pieces_needed(scene, width=SIZE, height=SIZE))
    f = jax.jit(lambda s: render_traced(s, SIZE, SIZE, False, pieces, 16, False, max(count_layers(s), 1)))
    f(scene).block_until_ready()
    jax.block_until_ready(jax.grad(lambda s: jnp.mean(f(s)))(scene))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=8)
    ap.add_argument("--same-shapes", action="store_true", help="one set of shapes, wrapped differently")
    args = ap.parse_args()
    scenes = [random_layered_scene(500 + i, shapes_seed=500 if args.same_shapes else None) for i in range(args.scenes)]
    for name, fn in (("encoded", encoded), ("per-structure", per_structure)):
        times = []
        for scene in scenes:
            t = time.perf_counter()
            fn(scene)
            times.append(time.perf_counter() - t)
        later = sorted(times[1:])
        print(f"{name}: first {times[0]:.2f} s; later scenes median {later[len(later) // 2]:.2f} s, "
              f"max {later[-1]:.2f} s; all {[round(x, 2) for x in times]}")


if __name__ == "__main__":
    main()
