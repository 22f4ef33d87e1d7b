"""CLIP's image preprocessing, differentiable: resize, centre crop, normalise.

CLIP resizes the shorter side to the model's input size S with bicubic filtering, crops
the centre S x S square and normalises each channel with ImageNet-like statistics of its
training set. Here all three are JAX functions of float images in [0, 1], so gradients
flow from CLIP back to rendered pixels. (OpenAI's pipeline works on 8-bit PIL images, so
on photographs our pixels differ by quantisation and PIL-vs-JAX bicubic details: about
1/255.)

Images are float32 (..., H, W, 3) NHWC in [0, 1]; (..., H, W, 4) RGBA is composited over
``background`` first.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


def normalize(images):
    """float32 (..., 3) in [0, 1] -> CLIP's normalised input (x - MEAN) / STD per channel."""
    return (images - jnp.asarray(MEAN, images.dtype)) / jnp.asarray(STD, images.dtype)


def composite(images, background=1.0):
    """Straight-alpha RGBA (..., 4) over a solid ``background`` (scalar or (3,)) -> RGB (..., 3).

    RGB (..., 3) input passes through unchanged.
    """
    if images.shape[-1] == 3:
        return images
    if images.shape[-1] != 4:
        raise ValueError(f"images must have 3 (RGB) or 4 (RGBA) channels, got shape {tuple(images.shape)}")
    alpha = images[..., 3:4]
    return images[..., :3] * alpha + jnp.asarray(background, images.dtype) * (1.0 - alpha)


def resize_shorter_side(images, size: int, method: str = "bicubic"):
    """Resize so that the shorter side is ``size`` pixels (longer side: floor, as torchvision).

    Anti-aliased when shrinking (``jax.image.resize``); a no-op when already that size.
    """
    *lead, h, w, c = images.shape
    short, long = (h, w) if h <= w else (w, h)
    new_long = int(size * long / short)
    nh, nw = (size, new_long) if h <= w else (new_long, size)
    if (nh, nw) == (h, w):
        return images
    return jax.image.resize(images, (*lead, nh, nw, c), method=method, antialias=True)


def center_crop(images, size: int):
    """The centre ``size`` x ``size`` window (offsets rounded as torchvision's CenterCrop)."""
    *_, h, w, _ = images.shape
    if h < size or w < size:
        raise ValueError(f"center_crop: image {h}x{w} is smaller than the crop {size}x{size}")
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return images[..., top:top + size, left:left + size, :]


def preprocess(images, size: int = 224, background=1.0):
    """CLIP's preprocessing: float32 (..., H, W, 3|4) in [0, 1] (uint8 is divided by 255)
    -> float32 (..., size, size, 3) normalised model input."""
    images = jnp.asarray(images)
    if images.dtype == jnp.uint8 or (isinstance(images, np.ndarray) and images.dtype == np.uint8):
        images = images.astype(jnp.float32) / 255.0
    images = composite(images.astype(jnp.float32), background)
    return normalize(center_crop(resize_shorter_side(images, size), size))
