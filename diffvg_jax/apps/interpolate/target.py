"""The two ends of an interpolation as images: loading an SVG or an image file onto a
square canvas, the image loss the fits minimise, and the PSNR they report.

Targets are float32 (S, S, 4) *premultiplied* RGBA in [0, 1] (transparent where the
drawing leaves the canvas empty), as ``diffvg_jax.render(..., premultiplied=True)`` gives.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from diffvg_jax.svg import load_svg, render_svg
from diffvg_jax.apps.common.artifacts import existing_file, load_image

__all__ = ["load_target", "square_canvas", "image_loss", "psnr", "over_white", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def square_canvas(straight_rgba, size: int) -> np.ndarray:
    """A straight-alpha float32 (h, w, 4) image (h, w <= size) centred on a transparent
    ``size`` x ``size`` canvas and premultiplied -> float32 (size, size, 4) in [0, 1]."""
    img = np.clip(np.asarray(straight_rgba, np.float32), 0.0, 1.0)
    h, w = img.shape[:2]
    if h > size or w > size:
        raise ValueError(f"image of {w}x{h} pixels does not fit a {size} px canvas")
    out = np.zeros((size, size, 4), np.float32)
    top, left = (size - h) // 2, (size - w) // 2
    out[top:top + h, left:left + w, :3] = img[..., :3] * img[..., 3:4]
    out[top:top + h, left:left + w, 3] = img[..., 3]
    return out


def load_target(path, size: int) -> np.ndarray:
    """An SVG file (rendered with :func:`diffvg_jax.svg.render_svg`, its aspect kept) or an
    image file (resized so its longest side is ``size``; opaque) on a square canvas.

    Args:
      path: ``.svg`` file, or an image Pillow reads (see ``IMAGE_SUFFIXES``).
      size: canvas side in pixels (>= 1).
    Returns:
      float32 (size, size, 4), premultiplied RGBA in [0, 1].
    Raises:
      ValueError: a missing or unreadable file, an SVG that draws nothing, a bad size.
    """
    if int(size) != size or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    path = existing_file(path, "an SVG or image file")
    if path.suffix.lower() != ".svg":
        rgb = load_image(path, size=int(size))
        return square_canvas(np.concatenate([rgb, np.ones_like(rgb[..., :1])], -1), int(size))
    try:
        text = Path(path).read_text(encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ignored SVG features: the render is the target
            if not load_svg(text).children:
                raise ValueError("it has no shapes")
            img = render_svg(text, int(size), int(size))
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: cannot read as SVG: {err}") from None
    target = square_canvas(img, int(size))
    if not target[..., 3].any():
        raise ValueError(f"{path}: the SVG draws nothing at {size} px")
    return target


def over_white(premultiplied):
    """Premultiplied RGBA float32 (..., H, W, 4) composited over white -> (..., H, W, 3)."""
    return premultiplied[..., :3] + (1.0 - premultiplied[..., 3:4])


def _pool2(img):
    h, w = (img.shape[0] // 2) * 2, (img.shape[1] // 2) * 2
    img = img[:h, :w]
    return 0.25 * (img[0::2, 0::2] + img[1::2, 0::2] + img[0::2, 1::2] + img[1::2, 1::2])


def image_loss(rendered, target, *, scales: int = 3, scale_weight: float = 0.5):
    """MSE of premultiplied RGBA float32 (H, W, 4), plus ``scale_weight`` x the MSE of each
    of ``scales - 1`` coarser copies (2x2 average pooling, repeated). The coarse terms give
    paths that miss a feature a gradient towards it. float32 ()."""
    diff = rendered - target
    value = jnp.mean(diff * diff)
    for _ in range(int(scales) - 1):
        if min(diff.shape[:2]) < 2:
            break
        diff = _pool2(diff)
        value = value + scale_weight * jnp.mean(diff * diff)
    return value


def psnr(rendered, target):
    """PSNR in dB of two premultiplied RGBA images composited over white (what one sees),
    float32 (H, W, 4) each, values in [0, 1]. float32 ()."""
    err = jnp.mean((over_white(rendered) - over_white(target)) ** 2)
    return -10.0 * jnp.log10(jnp.maximum(err, 1e-12))
