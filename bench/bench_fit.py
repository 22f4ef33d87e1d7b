"""Benchmark of diffvg-fit: final PSNR / SSIM, wall time and iterations per second.

Runs ``dv.fit`` for every combination of path count, mode and densification on the
photographs in ``assets/`` and writes a markdown table (means over the images, one row per
configuration) plus one JSON line per run. Run it by hand, not in CI:

    python bench/bench_fit.py                                  # the full grid: 224 px, 500 its
    python bench/bench_fit.py --size 64 --iters 100 --paths 16 64 --images assets/chelsea.png

Times: ``wall`` is the whole fit including compilation; ``it/s`` excludes the first
(compiling) step but includes any recompilation when the piece budget grows; ``compile``
is the first step's time.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _gaussian_window(size=11, sigma=1.5):
    x = np.arange(size) - size // 2
    g = np.exp(-x ** 2 / (2 * sigma ** 2))
    return g / g.sum()


def _filter(img, g):
    """Separable 'valid' convolution of (H, W) with the 1-D window g along both axes."""
    k = len(g)
    rows = sum(g[i] * img[i:img.shape[0] - k + 1 + i] for i in range(k))
    return sum(g[i] * rows[:, i:rows.shape[1] - k + 1 + i] for i in range(k))


def ssim(a, b, *, data_range=1.0):
    """Mean SSIM (Wang et al. 2004: Gaussian window 11, sigma 1.5, K1 0.01, K2 0.03) over
    the valid region and the channels of float (H, W, C) images."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    g = _gaussian_window()
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    vals = []
    for c in range(a.shape[-1]):
        x, y = a[..., c], b[..., c]
        mx, my = _filter(x, g), _filter(y, g)
        sxx = _filter(x * x, g) - mx * mx
        syy = _filter(y * y, g) - my * my
        sxy = _filter(x * y, g) - mx * my
        s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(s.mean())
    return float(np.mean(vals))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", nargs="+", default=sorted(str(x) for x in (ROOT / "assets").glob("*.png")))
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--iters", type=int, default=500)
    p.add_argument("--paths", type=int, nargs="+", default=[64, 256, 1024])
    p.add_argument("--modes", nargs="+", default=["stroke", "fill"], choices=["stroke", "fill"])
    p.add_argument("--densify", default="both", choices=["both", "on", "off"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "bench" / "fit_results.md"))
    p.add_argument("--table-only", action="store_true",
                   help="write the table from the runs already in the --out .jsonl (e.g. after running each "
                        "configuration in its own process) and exit")
    args = p.parse_args(argv)
    jsonl = Path(args.out).with_suffix(".jsonl")
    dens = {"both": [False, True], "on": [True], "off": [False]}[args.densify]
    if args.table_only:
        runs = [json.loads(line) for line in jsonl.read_text().splitlines() if line.strip()]
        runs = [r for r in runs if r["iters"] == args.iters and r["mode"] in args.modes and r["paths"] in args.paths]
        return _write_table(runs, args, dens, sorted({r["image"] for r in runs}), runs[0]["device"] if runs else "?")

    import jax
    from diffvg_jax import keep_freed_memory
    from diffvg_jax.apps.common.artifacts import load_image
    from diffvg_jax.apps.fit import fit

    keep_freed_memory()  # as diffvg-fit does

    targets = {Path(f).stem: load_image(f, size=args.size) for f in args.images}
    device = f"{jax.devices()[0].device_kind} ({jax.default_backend()}), {platform.processor() or platform.machine()}"
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    runs = []
    with open(jsonl, "a") as log:
        for mode in args.modes:
            for n in args.paths:
                for d in dens:
                    for name, target in targets.items():
                        t0 = time.perf_counter()
                        _, h = fit(target, num_paths=n, mode=mode, iterations=args.iters, seed=args.seed, densify=d)
                        wall = time.perf_counter() - t0
                        r = dict(image=name, mode=mode, paths=n, densify=d, size=list(target.shape[:2]),
                                 iters=args.iters, psnr=h["final_psnr"], ssim=ssim(h["image"], target),
                                 wall_s=wall, compile_s=h["compile_seconds"], it_per_s=h["it_per_s"],
                                 reseeded=sum(k for _, k in h["densified"]), device=device,
                                 load=os.getloadavg()[0])
                        runs.append(r)
                        log.write(json.dumps(r) + "\n")
                        log.flush()
                        print(f"{name:10s} {mode:6s} {n:5d} densify={d!s:5s} PSNR {r['psnr']:6.2f} "
                              f"SSIM {r['ssim']:.3f} wall {wall:7.1f}s compile {r['compile_s']:6.1f}s "
                              f"{r['it_per_s']:6.2f} it/s reseeded {r['reseeded']}", flush=True)

    return _write_table(runs, args, dens, list(targets), device)


def _write_table(runs, args, dens, names, device):
    lines = [f"Benchmark: {len(names)} image(s) ({', '.join(names)}), longest side {args.size} px, "
             f"{args.iters} iterations, seed {args.seed}; {device}. Means over the images.", "",
             f"Load average at the end of the runs: {np.mean([r.get('load', np.nan) for r in runs]):.1f} on "
             f"{os.cpu_count()} cores (mean). "
             "Runs that share a compiled step (same structure) show compile ~0.", "",
             "| mode | paths | densify | PSNR (dB) | SSIM | wall (s) | compile (s) | it/s | re-seeded |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for mode in args.modes:
        for n in args.paths:
            for d in dens:
                rs = [r for r in runs if r["mode"] == mode and r["paths"] == n and r["densify"] == d]
                m = {k: np.mean([r[k] for r in rs]) for k in ("psnr", "ssim", "wall_s", "compile_s", "it_per_s",
                                                              "reseeded")}
                lines.append(f"| {mode} | {n} | {'on' if d else 'off'} | {m['psnr']:.2f} | {m['ssim']:.3f} | "
                             f"{m['wall_s']:.1f} | {m['compile_s']:.1f} | {m['it_per_s']:.2f} | {m['reseeded']:.0f} |")
    # the two bars of the issue, checked on these numbers
    lines.append("")
    for mode in args.modes:
        for d in dens:
            ps = [np.mean([r["psnr"] for r in runs if r["mode"] == mode and r["paths"] == n and r["densify"] == d])
                  for n in args.paths]
            lines.append(f"- {mode}, densify {'on' if d else 'off'}: PSNR by paths {[round(float(x), 2) for x in ps]} -> "
                         f"{'grows' if all(b > a for a, b in zip(ps, ps[1:])) else 'does NOT grow'} with paths")
        if len(dens) == 2:
            deltas = [np.mean([r["psnr"] for r in runs if r["mode"] == mode and r["paths"] == n and r["densify"]])
                      - np.mean([r["psnr"] for r in runs if r["mode"] == mode and r["paths"] == n and not r["densify"]])
                      for n in args.paths]
            lines.append(f"- {mode}: densify minus plain, mean over path counts: {np.mean(deltas):+.2f} dB "
                         f"(per count {[round(float(x), 2) for x in deltas]})")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
