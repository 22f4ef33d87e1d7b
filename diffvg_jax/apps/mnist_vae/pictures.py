"""Pictures: grids of digits as PNG, and decoded digits as SVG files."""
from __future__ import annotations

import math
from pathlib import Path
from typing import List

import jax.numpy as jnp
import numpy as np
from PIL import Image

from diffvg_jax.svg import save_svg
from .config import ModelConfig
from .model import Strokes
from .render import strokes_to_scene

__all__ = ["image_grid", "save_grid", "pair_rows", "save_svgs"]


def image_grid(images: np.ndarray, ncols: int, pad: int = 1) -> np.ndarray:
    """Tile float (N, H, W) images in [0, 1] into uint8 (rows*(H+pad)+pad, ...) grey."""
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    n, h, w = images.shape
    nrows = max(1, math.ceil(n / ncols))
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), 0.35, np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = images[i]
    return np.round(grid * 255).astype(np.uint8)


def save_grid(images: np.ndarray, path, ncols: int = 8, scale: int = 3) -> Path:
    """Save a PNG grid of float (N, H, W) images, each pixel enlarged ``scale`` times."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid = image_grid(images, ncols)
    img = Image.fromarray(grid, mode="L")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    img.save(path)
    return path


def pair_rows(originals: np.ndarray, recons: np.ndarray) -> np.ndarray:
    """Interleave (N, H, W) originals and reconstructions: o0 r0 o1 r1 ..."""
    out = np.empty((2 * len(originals),) + originals.shape[1:], np.float32)
    out[0::2], out[1::2] = originals, recons
    return out


def save_svgs(strokes: Strokes, out_dir, cfg: ModelConfig, prefix: str = "sample") -> List[Path]:
    """Write each decoded digit of ``strokes`` (batched) as ``out_dir/prefix_XX.svg``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    points, widths, alphas = (np.asarray(a) for a in strokes)
    paths = []
    for i in range(points.shape[0]):
        scene = strokes_to_scene(jnp.asarray(points[i]), jnp.asarray(widths[i]), jnp.asarray(alphas[i]), cfg)
        target = out_dir / f"{prefix}_{i:02d}.svg"
        save_svg(scene, str(target))
        paths.append(target)
    return paths
