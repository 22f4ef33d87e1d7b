"""Renderer benchmark: diffvg_jax against skia-python and resvg, measured in the same run.

Scenes (issue 2):
  painterly-224  256 closed filled paths of 4 cubics, random RGBA, 224 x 224
  clipdraw-224   256 open stroked paths of 1-3 cubics, widths 1-3 px, 224 x 224
  svg-512        512 closed filled paths of 4 cubics, 512 x 512

For each: compile time of forward and of forward+backward, medians of forward and
forward+backward (jitted, inputs on device), XLA's peak temporary memory of each program,
and the peers' forward render of the same SVG text (parsed once; render only) as ratios.

The renderer's static budgets (boundary pieces, layers per 16 x 16 tile) are measured on the
scene first, as ``render`` does on a concrete scene and fit / clipdraw do in their loops.
By default glibc is told to keep freed memory (``dv.keep_freed_memory``, as the command-line
tools do); ``--system-malloc`` measures without it.

Usage: python bench/bench_render.py [--repeat 7] [--scenes painterly-224,clipdraw-224,svg-512]
Needs: pip install skia-python resvg   (bench only, not project dependencies)
"""
from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

import diffvg_jax as dv


def random_scene(kind: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    if kind == "painterly-224":
        size, n, stroked = 224, 256, False
    elif kind == "clipdraw-224":
        size, n, stroked = 224, 256, True
    elif kind == "svg-512":
        size, n, stroked = 512, 512, False
    else:
        raise ValueError(kind)
    shapes = []
    for _ in range(n):
        if stroked:
            segs = int(rng.integers(1, 4))
            p0 = rng.uniform(0, size, 2)
            pts = [p0]
            for _ in range(3 * segs):
                pts.append(pts[-1] + rng.uniform(-0.1, 0.1, 2) * size)
            shapes.append(dv.Path(points=np.array(pts), degrees=(3,) * segs, closed=False,
                                  stroke=dv.Solid(color=rng.uniform(0, 1, 4)), stroke_width=float(rng.uniform(1, 3))))
        else:
            # diffvg's painterly initialisation: a blob of radius ~0.05 canvas around a point
            centre = rng.uniform(0, size, 2)
            radius = 0.05 * size
            ang = np.sort(rng.uniform(0, 2 * np.pi, 12))
            rad = radius * rng.uniform(0.5, 1.5, 12)
            pts = np.stack([centre[0] + rad * np.cos(ang), centre[1] + rad * np.sin(ang)], 1)
            shapes.append(dv.Path(points=pts, degrees=(3,) * 4, closed=True, fill=dv.Solid(color=rng.uniform(0, 1, 4))))
    return dv.Scene(children=tuple(shapes), background=[1, 1, 1, 1]), size


def scene_svg(scene: dv.Scene, size: int) -> str:
    """Minimal SVG text of the benchmark scenes (paths with solid paint only)."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
           f'<rect width="{size}" height="{size}" fill="white"/>']
    for p in scene.children:
        pts = np.asarray(p.points)
        d = [f"M{pts[0, 0]:.4f},{pts[0, 1]:.4f}"]
        n_seg = len(p.degrees)
        for s in range(n_seg):
            c = [pts[(1 + 3 * s + k) % len(pts)] for k in range(3)]
            d.append("C" + " ".join(f"{q[0]:.4f},{q[1]:.4f}" for q in c))
        if p.closed[0]:
            d.append("Z")
        paint = p.fill if p.fill is not None else p.stroke
        r, g, b, a = np.asarray(paint.color)
        colour = "#%02x%02x%02x" % tuple(int(round(float(v) * 255)) for v in (r, g, b))
        if p.fill is not None:
            out.append(f'<path d="{" ".join(d)}" fill="{colour}" fill-opacity="{a:.4f}"/>')
        else:
            out.append(f'<path d="{" ".join(d)}" fill="none" stroke="{colour}" stroke-opacity="{a:.4f}" '
                       f'stroke-width="{float(p.stroke_width):.4f}"/>')
    out.append("</svg>")
    return "\n".join(out)


def xla_megabytes(compiled):
    """MB a compiled program holds beyond its arguments (XLA's temporaries + outputs), or
    None where the backend does not say."""
    m = compiled.memory_analysis()
    return None if m is None else (m.temp_size_in_bytes + m.output_size_in_bytes) / 2**20


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def skia_time(svg_text: str, size: int, repeat: int):
    """Median seconds of skia-python drawing the SVG text into a size x size surface (parsed
    once; drawing only), or None without skia-python."""
    try:
        import skia
    except ImportError:
        return None
    dom = skia.SVGDOM.MakeFromStream(skia.MemoryStream(svg_text.encode(), True))
    dom.setContainerSize(skia.Size(size, size))
    surface = skia.Surface(size, size)

    def draw():
        with surface as canvas:
            canvas.clear(skia.ColorTRANSPARENT)
            dom.render(canvas)
        return surface.makeImageSnapshot().toarray()

    draw()
    return median_time(draw, repeat)


def peers(svg: str, size: int, repeat: int):
    res = {}
    skia_t = skia_time(svg, size, repeat)
    if skia_t is not None:
        res["skia"] = skia_t
    try:
        import resvg

        tree = resvg.usvg.Tree.from_str(svg, resvg.usvg.Options.default())
        resvg.render(tree, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0))
        # resvg's Python binding returns PNG bytes: its time includes PNG encoding.
        res["resvg"] = median_time(lambda: resvg.render(tree, (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)), repeat)
    except ImportError:
        pass
    return res


def bench_scene(kind: str, repeat: int):
    scene, size = random_scene(kind)
    budget = dv.pieces_needed(scene, width=size, height=size)
    budget = 1 << int(np.ceil(np.log2(budget * 1.1)))
    depth = dv.depth_needed(scene, width=size, height=size, max_pieces=budget)
    depth = min(len(scene.children), -(-depth // 8) * 8)
    # Budgets measured above (as fit and clipdraw do), so no run-time budget check.
    kw = dict(width=size, height=size, max_pieces=budget, max_depth=depth, check_budget=False)
    fwd = jax.jit(lambda s: dv.render(s, **kw))
    target = jnp.asarray(np.random.default_rng(1).uniform(0, 1, (size, size, 4)), jnp.float32)
    grad = jax.jit(jax.grad(lambda s: jnp.mean((dv.render(s, **kw) - target) ** 2)))

    t = time.perf_counter()
    fwd_c = fwd.lower(scene).compile()
    compile_fwd = time.perf_counter() - t
    t = time.perf_counter()
    grad_c = grad.lower(scene).compile()
    compile_grad = time.perf_counter() - t

    jax.block_until_ready(fwd_c(scene))
    jax.block_until_ready(grad_c(scene))
    t_fwd = median_time(lambda: fwd_c(scene), repeat)
    t_grad = median_time(lambda: grad_c(scene), repeat)
    p = peers(scene_svg(scene, size), size, repeat)
    return dict(scene=kind, pieces=budget, depth=depth, compile_fwd=compile_fwd, compile_grad=compile_grad, fwd=t_fwd, grad=t_grad,
                mem_fwd=xla_megabytes(fwd_c), mem_grad=xla_megabytes(grad_c), **p)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--scenes", default="painterly-224,clipdraw-224,svg-512")
    ap.add_argument("--system-malloc", action="store_true",
                    help="leave glibc's allocator settings alone (default: dv.keep_freed_memory(), as the CLIs do)")
    args = ap.parse_args()
    tuned = False if args.system_malloc else dv.keep_freed_memory()
    print(f"device: {jax.devices()[0].platform} ({jax.device_count()} device(s)), jax {jax.__version__}, "
          f"keep_freed_memory: {tuned}")
    print("| scene | budgets (pieces, depth) | fwd ms | fwd+bwd ms | compile fwd / fwd+bwd s | peak MiB fwd / fwd+bwd | skia ms | resvg ms | fwd / skia | fwd+bwd / skia |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in args.scenes.split(","):
        r = bench_scene(kind, args.repeat)
        skia_t = r.get("skia")
        ratio = lambda x: f"{x / skia_t:.1f}x" if skia_t else "n/a"
        mem = lambda x: "n/a" if x is None else f"{x:.0f}"
        print(f"| {r['scene']} | {r['pieces']}, {r['depth']} | {r['fwd'] * 1e3:.1f} | {r['grad'] * 1e3:.1f} | {r['compile_fwd']:.1f} / {r['compile_grad']:.1f} | "
              f"{mem(r['mem_fwd'])} / {mem(r['mem_grad'])} | {skia_t * 1e3 if skia_t else float('nan'):.1f} | "
              f"{r.get('resvg', float('nan')) * 1e3:.1f} | {ratio(r['fwd'])} | {ratio(r['grad'])} |", flush=True)


if __name__ == "__main__":
    main()
