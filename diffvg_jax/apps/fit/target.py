"""The image side of a fit: the target, the background it is composited over, the loss.

Images are float32 (H, W, 3) RGB in [0, 1] unless said otherwise.
"""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = ["MODES", "LOSSES", "image_loss", "psnr", "composite", "estimate_background", "parse_background",
           "as_target"]

MODES = ("stroke", "fill")
LOSSES = ("l2", "l1")

_NAMED_BACKGROUNDS = {"white": (1.0, 1.0, 1.0), "black": (0.0, 0.0, 0.0)}


def image_loss(rgb, target, kind: str = "l2"):
    """Mean over pixels and channels: squared ('l2') or absolute ('l1') error. float32 ()."""
    diff = rgb - target
    if kind == "l2":
        return jnp.mean(diff * diff)
    if kind == "l1":
        return jnp.mean(jnp.abs(diff))
    raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")


def psnr(rgb, target):
    """Peak signal-to-noise ratio in dB for images in [0, 1]. float32 ()."""
    mse = jnp.mean((rgb - target) ** 2)
    return -10.0 * jnp.log10(jnp.maximum(mse, 1e-12))


def composite(img_premultiplied, background_rgb):
    """Premultiplied float32 (H, W, 4) over an RGB colour float32 (3,) -> float32 (H, W, 3)."""
    return img_premultiplied[..., :3] + (1.0 - img_premultiplied[..., 3:4]) * background_rgb


def estimate_background(target) -> np.ndarray:
    """float32 (3,): the per-channel median of the image's one-pixel border."""
    t = np.asarray(target, np.float32)
    border = np.concatenate([t[0], t[-1], t[:, 0], t[:, -1]], axis=0)
    return np.median(border, axis=0).astype(np.float32)


def parse_background(spec, target=None) -> np.ndarray:
    """'white' | 'black' | 'estimate' (border median of ``target``) | '#rrggbb' | 3 floats
    -> float32 (3,) RGB in [0, 1]. Raises ValueError naming the bad value."""
    if isinstance(spec, str):
        s = spec.strip().lower()
        if s in _NAMED_BACKGROUNDS:
            return np.array(_NAMED_BACKGROUNDS[s], np.float32)
        if s in ("estimate", "estimated", "auto"):
            if target is None:
                raise ValueError("background 'estimate' needs the target image")
            return estimate_background(target)
        if s.startswith("#") and len(s) == 7:
            try:
                return np.array([int(s[i:i + 2], 16) / 255.0 for i in (1, 3, 5)], np.float32)
            except ValueError:
                pass
        raise ValueError(f"background must be white, black, estimate or #rrggbb, got {spec!r}")
    bg = np.asarray(spec, np.float32).reshape(-1)
    if bg.shape not in ((3,), (4,)) or not np.all((bg >= 0) & (bg <= 1)):
        raise ValueError(f"background must be 3 floats in [0, 1], got {spec!r}")
    return bg[:3]


def as_target(target, background) -> np.ndarray:
    """The target as float32 (H, W, 3) in [0, 1]: uint8 is scaled, RGBA (H, W, 4) is
    composited over ``background`` (white for 'estimate'). ValueError on anything else."""
    t = np.asarray(target)
    if t.ndim != 3 or t.shape[-1] not in (3, 4):
        raise ValueError(f"target must be an (H, W, 3) RGB or (H, W, 4) RGBA image, got shape {t.shape}")
    if t.shape[0] < 1 or t.shape[1] < 1:
        raise ValueError(f"target is empty: shape {t.shape}")
    if t.dtype == np.uint8:
        t = t.astype(np.float32) / 255.0
    t = t.astype(np.float32)
    if not np.all(np.isfinite(t)) or t.min() < 0 or t.max() > 1:
        raise ValueError("target values must be finite and in [0, 1] (float) or uint8")
    if t.shape[-1] == 4:
        bg = parse_background(background if not isinstance(background, str) or background != "estimate"
                              else "white")
        t = t[..., :3] * t[..., 3:] + bg * (1 - t[..., 3:])
    return t
