"""What a user measures: first calls (compile included) and the plain idioms, against skia-python.

Sections (run by hand; ratios against skia-python's forward render of the same SVG text,
measured in the same process):

  first     a fresh Python process per row: the first forward+backward of painterly-224
            (eager ``jax.grad`` of a loss, and ``jax.jit(jax.grad(loss))``, compile
            included), with and without ``dv.prefer_fast_compilation()``; and the first
            ``render_svg`` of an emoji.
  idioms    warm medians of the idioms people write, no budget arguments:
              plain     jax.jit(lambda s: dv.render(s, width=W, height=H)) and its jax.grad
              eager     dv.render(scene) and jax.grad(loss)(scene) without jit
            with the plain programs' memory: XLA's temporaries + outputs (MB), the peak
            a compiled program holds beyond its arguments.
  emoji     every file of ../shared/realworld/fxemoji at 512 px in ONE process: first
            render_svg (compile included, shared programs after the first file), warm
            forward and forward+backward (eager jax.grad), skia-python forward.
  files     each SVG of --svg (e.g. the Ghostscript tiger, which shared/ does not hold) at
            512 px in a FRESH process: first render_svg, first jax.grad, then warm forward
            and jax.grad, eager and in the plain jit idiom, and skia-python forward; the
            plain programs' XLA memory and the process's peak resident memory (MB).

Usage: python bench/bench_pipeline.py [--sections first,idioms,emoji] [--repeat 5] [--emoji-limit N]
       python bench/bench_pipeline.py --sections files --svg Ghostscript_Tiger.svg
Needs: pip install skia-python (bench only)
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_render import median_time, random_scene, scene_svg, skia_time, xla_megabytes  # noqa: E402
EMOJI = os.path.join(HERE, "..", "..", "shared", "realworld", "fxemoji")

FIRST_GRAD = """
import time, sys
t0 = time.perf_counter()
sys.path.insert(0, {here!r})
import diffvg_jax as dv
if {fast}:
    dv.prefer_fast_compilation()
import jax, jax.numpy as jnp
from bench_render import random_scene
scene, size = random_scene("painterly-224")
loss = lambda s: jnp.mean(dv.render(s, width=size, height=size))
grad = jax.jit(jax.grad(loss)) if {plain} else jax.grad(loss)
t = time.perf_counter()
jax.block_until_ready(grad(scene))
print(time.perf_counter() - t, time.perf_counter() - t0)
"""

FIRST_SVG = """
import time
t0 = time.perf_counter()
import diffvg_jax as dv
if {fast}:
    dv.prefer_fast_compilation()
import jax
t = time.perf_counter()
jax.block_until_ready(dv.svg.render_svg(open({path!r}).read(), 512, 512))
print(time.perf_counter() - t, time.perf_counter() - t0)
"""


ONE_FILE = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {here!r})
import numpy as np
import diffvg_jax as dv
import jax, jax.numpy as jnp
from bench_render import median_time, skia_time
path, size, repeat = {path!r}, {size}, {repeat}
text = open(path).read()
t = time.perf_counter()
jax.block_until_ready(dv.svg.render_svg(text, size, size))
first = time.perf_counter() - t
scene = dv.load_svg(path)
sx, sy = size / scene.width, size / scene.height
scaled = dv.Scene(children=(dv.Group(children=scene.children, transform=np.diag([sx, sy, 1.0]).astype(np.float32)),),
                  background=scene.background)
loss = lambda s: jnp.mean(dv.render(s, width=size, height=size))
t = time.perf_counter()
jax.block_until_ready(jax.grad(loss)(scaled))
first_grad = time.perf_counter() - t
plain = jax.jit(lambda s: dv.render(s, width=size, height=size)).lower(scaled).compile()
plain_grad = jax.jit(jax.grad(loss)).lower(scaled).compile()
jax.block_until_ready(plain(scaled)); jax.block_until_ready(plain_grad(scaled))
import resource
from bench_pipeline import megabytes
row = dict(first=first, first_grad=first_grad, mem_fwd=megabytes(plain), mem_grad=megabytes(plain_grad),
           rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           fwd=median_time(lambda: dv.render(scaled, width=size, height=size), repeat),
           grad=median_time(lambda: jax.grad(loss)(scaled), repeat),
           plain_fwd=median_time(lambda: plain(scaled), repeat), plain_grad=median_time(lambda: plain_grad(scaled), repeat),
           skia=skia_time(text, size, repeat))
print(json.dumps(row))
"""


def megabytes(compiled) -> float:
    """``bench_render.xla_megabytes``, NaN where the backend does not say (for the tables)."""
    mb = xla_megabytes(compiled)
    return float("nan") if mb is None else mb


def section_files(args):
    print("\n## Single files at 512 px, fresh process each (first calls s; warm ms; memory MB)\n")
    print("| file | first render_svg s | first jax.grad s | skia fwd ms | eager fwd ms | eager jax.grad ms | "
          "plain jit fwd ms | plain jit fwd+bwd ms | fwd / skia | plain fwd / skia | XLA MB fwd / grad | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for path in args.svg:
        out = subprocess.run([sys.executable, "-c", ONE_FILE.format(here=HERE, path=os.path.abspath(path), size=512,
                                                                    repeat=args.repeat)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        sk = r["skia"]
        ratio = (lambda x: f"{x / sk:.1f}x") if sk else (lambda x: "n/a")
        print(f"| {os.path.basename(path)} | {r['first']:.1f} | {r['first_grad']:.1f} | "
              f"{sk * 1e3 if sk else float('nan'):.1f} | {r['fwd'] * 1e3:.0f} | {r['grad'] * 1e3:.0f} | "
              f"{r['plain_fwd'] * 1e3:.0f} | {r['plain_grad'] * 1e3:.0f} | {ratio(r['fwd'])} | {ratio(r['plain_fwd'])} | "
              f"{r['mem_fwd']:.0f} / {r['mem_grad']:.0f} | {r['rss']:.0f} |", flush=True)


def fresh(code: str):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    call, total = (float(x) for x in out.stdout.split()[-2:])
    return call, total


def section_first(args):
    print("\n## First calls (fresh process each; seconds)\n")
    print("| what | fast compile | first call s | process total s |")
    print("|---|---|---|---|")
    for plain in (False, True):
        for fast in (False, True):
            call, total = fresh(FIRST_GRAD.format(here=HERE, fast=fast, plain=plain))
            what = "jax.jit(jax.grad(loss))" if plain else "jax.grad(loss)"
            print(f"| painterly-224 first {what} | {fast} | {call:.1f} | {total:.1f} |", flush=True)
    files = sorted(glob.glob(os.path.join(EMOJI, "*.svg")))[:3]
    for path in files:
        for fast in (False, True):
            call, total = fresh(FIRST_SVG.format(path=path, fast=fast))
            print(f"| first render_svg {os.path.basename(path)} 512 px | {fast} | {call:.1f} | {total:.1f} |", flush=True)


def section_idioms(args):
    import jax
    import jax.numpy as jnp
    import diffvg_jax as dv
    print("\n## Idioms without budget arguments (warm medians, ms)\n")
    print("| scene | skia fwd | plain jit fwd | plain jit fwd+bwd | eager fwd | eager jax.grad | "
          "plain fwd / skia | plain fwd+bwd / skia | eager grad / skia | plain XLA MB fwd / fwd+bwd |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in args.scenes.split(","):
        scene, size = random_scene(kind)
        target = jnp.asarray(np.random.default_rng(1).uniform(0, 1, (size, size, 4)), jnp.float32)
        loss = lambda s: jnp.mean((dv.render(s, width=size, height=size) - target) ** 2)
        fwd = jax.jit(lambda s: dv.render(s, width=size, height=size)).lower(scene).compile()
        grad = jax.jit(jax.grad(loss)).lower(scene).compile()
        eager_grad = jax.grad(loss)
        for f in (fwd, grad, eager_grad):
            jax.block_until_ready(f(scene))
        jax.block_until_ready(dv.render(scene, width=size, height=size))
        t_fwd = median_time(lambda: fwd(scene), args.repeat)
        t_grad = median_time(lambda: grad(scene), args.repeat)
        t_efwd = median_time(lambda: dv.render(scene, width=size, height=size), args.repeat)
        t_egrad = median_time(lambda: eager_grad(scene), args.repeat)
        sk = skia_time(scene_svg(scene, size), size, args.repeat)
        r = (lambda x: f"{x / sk:.1f}x") if sk else (lambda x: "n/a")
        print(f"| {kind} | {sk * 1e3 if sk else float('nan'):.1f} | {t_fwd * 1e3:.1f} | {t_grad * 1e3:.1f} | "
              f"{t_efwd * 1e3:.1f} | {t_egrad * 1e3:.1f} | {r(t_fwd)} | {r(t_grad)} | {r(t_egrad)} | "
              f"{megabytes(fwd):.0f} / {megabytes(grad):.0f} |", flush=True)


def section_emoji(args):
    import jax
    import jax.numpy as jnp
    import diffvg_jax as dv
    files = sorted(glob.glob(os.path.join(EMOJI, "*.svg")))[:args.emoji_limit]
    rows = []
    for path in files:
        t = time.perf_counter()
        scene = dv.load_svg(path)
        with open(path) as f:
            text = f.read()
        image = jax.block_until_ready(dv.svg.render_svg(text, 512, 512))
        first = time.perf_counter() - t
        sx, sy = 512 / scene.width, 512 / scene.height
        scaled = dv.Scene(children=(dv.Group(children=scene.children,
                                             transform=np.diag([sx, sy, 1.0]).astype(np.float32)),),
                          background=scene.background)
        loss = lambda s: jnp.mean(dv.render(s, width=512, height=512))
        jax.block_until_ready(jax.grad(loss)(scaled))
        fwd = median_time(lambda: dv.render(scaled, width=512, height=512), args.repeat)
        grad = median_time(lambda: jax.grad(loss)(scaled), args.repeat)
        sk = skia_time(text, 512, args.repeat)
        rows.append(dict(file=os.path.basename(path), first=first, fwd=fwd, grad=grad, skia=sk,
                         finite=bool(np.all(np.isfinite(np.asarray(image))))))
        print(json.dumps(rows[-1]), flush=True)
    firsts = np.array([r["first"] for r in rows])
    fr = np.array([r["fwd"] / r["skia"] for r in rows if r["skia"]])
    gr = np.array([r["grad"] / r["skia"] for r in rows if r["skia"]])
    worst_f = max(rows, key=lambda r: r["fwd"] / r["skia"] if r["skia"] else 0)
    worst_g = max(rows, key=lambda r: r["grad"] / r["skia"] if r["skia"] else 0)
    print("\n## fxemoji at 512 px, one process\n")
    print("| files | first render_svg median / worst s | fwd / skia median | fwd+bwd / skia median | worst fwd | worst fwd+bwd |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(rows)} | {np.median(firsts):.2f} / {firsts.max():.1f} (first file {firsts[0]:.1f}) | "
          f"{np.median(fr):.1f}x | {np.median(gr):.1f}x | {worst_f['file']} {worst_f['fwd'] / worst_f['skia']:.1f}x | "
          f"{worst_g['file']} {worst_g['grad'] / worst_g['skia']:.1f}x |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", default="first,idioms,emoji")
    ap.add_argument("--scenes", default="painterly-224,clipdraw-224,svg-512")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--emoji-limit", type=int, default=150)
    ap.add_argument("--svg", nargs="*", default=[], help="SVG files for the 'files' section")
    ap.add_argument("--fast-compile", action="store_true", help="dv.prefer_fast_compilation() in this process")
    args = ap.parse_args()
    if args.fast_compile:
        import diffvg_jax as dv
        dv.prefer_fast_compilation()
    for name in args.sections.split(","):
        {"first": section_first, "idioms": section_idioms, "emoji": section_emoji,
         "files": section_files}[name](args)


if __name__ == "__main__":
    main()
