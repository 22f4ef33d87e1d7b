"""The README's main command as a new user runs it: cold and warm times, PSNR and SSIM.

Runs ``diffvg-fit assets/chelsea.png --out drawing.svg`` (the README's command, defaults
only) twice in fresh processes: first with an empty compilation cache (a fresh
``XDG_CACHE_HOME``), then again with the cache the first run left. Scores the written PNG
against the photo resized to the fitting canvas (PSNR in dB over RGB, and SSIM: Wang et
al. 2004, 11-tap Gaussian window of sigma 1.5, on luma), and writes the photo and the
SVG (drawn at its display size) side by side to ``assets/readme_fit.png`` for the README.

Usage: python bench/bench_readme_command.py [--image assets/chelsea.png] [--extra "--mode fill"]
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

import diffvg_jax as dv
from diffvg_jax.svg import load_svg

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def gaussian_window(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    """float64 (size,) normalised 1-D Gaussian taps."""
    x = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


def _blur(img: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Separable 'valid' convolution of float64 (H, W) with taps along both axes."""
    k = len(taps)
    rows = sum(taps[i] * img[i:img.shape[0] - k + 1 + i] for i in range(k))
    return sum(taps[i] * rows[:, i:rows.shape[1] - k + 1 + i] for i in range(k))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two float (H, W) images in [0, 1] (constants K1 = 0.01, K2 = 0.03)."""
    taps = gaussian_window()
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = _blur(a, taps), _blur(b, taps)
    var_a = _blur(a * a, taps) - mu_a ** 2
    var_b = _blur(b * b, taps) - mu_b ** 2
    cov = _blur(a * b, taps) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(s.mean())


def luma(rgb: np.ndarray) -> np.ndarray:
    """float (H, W) Rec. 601 luma of float (H, W, 3) RGB."""
    return rgb @ np.array([0.299, 0.587, 0.114])


def run(cmd, env, cwd):
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t, proc.stderr.strip().splitlines()[-1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default=os.path.join(ROOT, "assets", "chelsea.png"))
    ap.add_argument("--extra", default="", help="extra diffvg-fit options (default: none, as the README)")
    ap.add_argument("--picture", default=os.path.join(ROOT, "assets", "readme_fit.png"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="readme_cmd_")
    env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    cmd = ["diffvg-fit", os.path.abspath(args.image), "--out", "drawing.svg"] + shlex.split(args.extra)
    cold, last = run(cmd, env, work)
    warm, _ = run(cmd, env, work)
    drawing = np.asarray(Image.open(os.path.join(work, "drawing.png")).convert("RGB"), np.float64) / 255.0
    h, w = drawing.shape[:2]
    photo = Image.open(args.image).convert("RGB")
    target = np.asarray(photo.resize((w, h), Image.Resampling.LANCZOS), np.float64) / 255.0
    psnr = 10 * np.log10(1.0 / np.mean((drawing - target) ** 2))
    score = ssim(luma(drawing), luma(target))
    with open(os.path.join(work, "drawing.svg")) as f:
        head = f.read(400)
    print(f"command: {' '.join(cmd[:1] + [os.path.relpath(args.image, ROOT)] + cmd[2:])}")
    print(f"cold {cold:.1f} s, warm {warm:.1f} s; canvas {w}x{h}; PSNR {psnr:.2f} dB, SSIM {score:.3f}")
    print("last line:", *last)
    print("svg header:", head.split(">")[0][:200])
    # The SVG at its display size (a vector drawing: drawn again, not upscaled) beside the photo.
    shown = dv.render(load_svg(os.path.join(work, "drawing.svg")))
    sh, sw = shown.shape[:2]
    rgb = np.asarray(shown[..., :3]) * np.asarray(shown[..., 3:]) + (1.0 - np.asarray(shown[..., 3:]))
    side = Image.new("RGB", (2 * sw + 8, sh), "white")
    side.paste(photo.resize((sw, sh), Image.Resampling.LANCZOS), (0, 0))
    side.paste(Image.fromarray(np.round(rgb * 255).astype(np.uint8)), (sw + 8, 0))
    side.save(args.picture)
    print("picture:", os.path.relpath(args.picture, ROOT))


if __name__ == "__main__":
    main()
