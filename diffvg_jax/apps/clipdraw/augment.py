"""CLIPDraw's image augmentations in JAX: random perspective warp and random resized crop.

Both are projective resamplings, so a perspective warp followed by a crop-and-resize is
one homography from output pixels to input pixels; :func:`clipdraw_augment` composes
them and resamples once (bilinear), which is cheaper than two passes and avoids blurring
twice. Everything is differentiable with respect to the image (the random geometry is
not a parameter and carries no gradient).

Conventions: images are float32 (H, W, C), pixel (i, j) covers [j, j+1] x [i, i+1] with its
centre at (j + 0.5, i + 0.5); homographies act on (x, y, 1) column vectors in those
continuous pixel coordinates. Samples that fall outside the input take the ``fill`` value
(white by default, since CLIPDraw composites over white), blending smoothly at the edge
the way torchvision's ``perspective`` does with ``fill``.
"""
from __future__ import annotations

import functools
from typing import Sequence, Tuple

import jax
import jax.numpy as jnp


def homography_from_points(src, dst):
    """float32 (3, 3) H with H @ [src_k, 1] ~ [dst_k, 1] for four point pairs (4, 2) each.

    Solved as the standard 8 x 8 linear system with H[2, 2] = 1.
    """
    src = jnp.asarray(src, jnp.float32)
    dst = jnp.asarray(dst, jnp.float32)
    x, y = src[:, 0], src[:, 1]
    u, v = dst[:, 0], dst[:, 1]
    zeros, ones = jnp.zeros_like(x), jnp.ones_like(x)
    rows_u = jnp.stack([x, y, ones, zeros, zeros, zeros, -u * x, -u * y], axis=1)
    rows_v = jnp.stack([zeros, zeros, zeros, x, y, ones, -v * x, -v * y], axis=1)
    a = jnp.concatenate([rows_u, rows_v], axis=0)
    b = jnp.concatenate([u, v])
    h = jnp.linalg.solve(a, b)
    return jnp.append(h, 1.0).reshape(3, 3)


@functools.partial(jax.jit, static_argnames=("out_height", "out_width", "clamp_edges"))
def warp(image, matrix, out_height: int, out_width: int, fill=1.0, clamp_edges: bool = False):
    """Resample ``image`` through a homography, bilinearly.

    Args:
      image: float32 (H, W, C).
      matrix: float32 (3, 3) mapping OUTPUT pixel coordinates to INPUT pixel coordinates.
      out_height, out_width: output size in pixels (Python ints).
      fill: value (scalar or (C,)) of the plane outside the input image.
      clamp_edges: extend the edge pixels outwards instead of using ``fill``.
    Returns:
      float32 (out_height, out_width, C). Linear in ``image`` (and in ``fill``).
    """
    h, w, c = image.shape
    matrix = jax.lax.stop_gradient(jnp.asarray(matrix, jnp.float32))
    ys, xs = jnp.meshgrid(jnp.arange(out_height, dtype=jnp.float32) + 0.5,
                          jnp.arange(out_width, dtype=jnp.float32) + 0.5, indexing="ij")
    pts = jnp.stack([xs, ys, jnp.ones_like(xs)], axis=-1) @ matrix.T
    # Index space: sample centres sit at integers. A zero denominator (points on the
    # horizon, never reached by the warps used here) is kept finite and lands outside.
    den = jnp.where(jnp.abs(pts[..., 2]) > 1e-12, pts[..., 2], 1e-12)
    sx = pts[..., 0] / den - 0.5
    sy = pts[..., 1] / den - 0.5
    x0 = jnp.floor(sx)
    y0 = jnp.floor(sy)
    fx = sx - x0
    fy = sy - y0
    x0 = x0.astype(jnp.int32)
    y0 = y0.astype(jnp.int32)
    fill = jnp.broadcast_to(jnp.asarray(fill, image.dtype), (c,))
    flat = image.reshape(h * w, c)

    def tap(yi, xi):
        idx = jnp.clip(yi, 0, h - 1) * w + jnp.clip(xi, 0, w - 1)
        if clamp_edges:
            return flat[idx]
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        return jnp.where(inside[..., None], flat[idx], fill)

    top = tap(y0, x0) * (1 - fx)[..., None] + tap(y0, x0 + 1) * fx[..., None]
    bottom = tap(y0 + 1, x0) * (1 - fx)[..., None] + tap(y0 + 1, x0 + 1) * fx[..., None]
    return top * (1 - fy)[..., None] + bottom * fy[..., None]


@functools.partial(jax.jit, static_argnames=("width", "height", "distortion"))
def random_perspective_matrix(key, width: int, height: int, distortion: float = 0.5):
    """float32 (3, 3): output -> input coordinates of a random perspective warp.

    As torchvision's ``RandomPerspective(distortion_scale=distortion)``: each image corner
    moves inward by up to ``distortion`` times half the image size along each axis
    (uniformly, continuous rather than integer), and the image is warped so that its
    corners land there; the uncovered border shows the fill.
    """
    dx = distortion * width / 2.0
    dy = distortion * height / 2.0
    offsets = jax.random.uniform(key, (4, 2)) * jnp.array([dx, dy], jnp.float32)
    corners = jnp.array([[0, 0], [width, 0], [width, height], [0, height]], jnp.float32)
    inward = jnp.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], jnp.float32)
    moved = corners + inward * offsets
    return homography_from_points(moved, corners)


@functools.partial(jax.jit, static_argnames=("width", "height", "scale", "ratio"))
def random_crop_box(key, width: int, height: int, scale: Sequence[float] = (0.7, 0.9),
                    ratio: Sequence[float] = (3 / 4, 4 / 3)):
    """float32 (4,) crop box (x0, y0, w, h) in pixels, as torchvision's RandomResizedCrop:
    area fraction uniform in ``scale``, aspect ratio w/h log-uniform in ``ratio``, position
    uniform. Sides longer than the image are shortened to fit (torchvision retries
    instead; the effect is the same clamp of rare cases)."""
    k_area, k_ratio, k_pos = jax.random.split(key, 3)
    area = jax.random.uniform(k_area, (), minval=scale[0], maxval=scale[1]) * width * height
    log_r = jax.random.uniform(k_ratio, (), minval=jnp.log(ratio[0]), maxval=jnp.log(ratio[1]))
    r = jnp.exp(log_r)
    w = jnp.minimum(jnp.sqrt(area * r), width)
    h = jnp.minimum(jnp.sqrt(area / r), height)
    pos = jax.random.uniform(k_pos, (2,)) * jnp.stack([width - w, height - h])
    return jnp.stack([pos[0], pos[1], w, h])


def crop_matrix(box, out_height: int, out_width: int):
    """float32 (3, 3): output pixel coordinates of an ``out_height x out_width`` image ->
    coordinates in the box (x0, y0, w, h) that it shows, resized."""
    x0, y0, w, h = box[0], box[1], box[2], box[3]
    return jnp.array([[w / out_width, 0.0, x0], [0.0, h / out_height, y0], [0.0, 0.0, 1.0]])


@functools.partial(jax.jit, static_argnames=("distortion",))
def random_perspective(key, image, distortion: float = 0.5, fill=1.0):
    """A random perspective warp of float32 (H, W, C) ``image`` (same size out)."""
    h, w, _ = image.shape
    return warp(image, random_perspective_matrix(key, w, h, distortion), h, w, fill)


@functools.partial(jax.jit, static_argnames=("size", "scale", "ratio"))
def random_resized_crop(key, image, size: int, scale=(0.7, 0.9), ratio=(3 / 4, 4 / 3)):
    """A random crop of float32 (H, W, C) ``image`` resized to (size, size, C)."""
    h, w, _ = image.shape
    box = random_crop_box(key, w, h, scale, ratio)
    return warp(image, crop_matrix(box, size, size), size, size, clamp_edges=True)


@functools.partial(jax.jit, static_argnames=("num_copies", "size", "distortion", "scale", "ratio"))
def clipdraw_augment(key, image, num_copies: int = 4, size: int = 224, distortion: float = 0.5,
                     scale: Tuple[float, float] = (0.7, 0.9), ratio=(3 / 4, 4 / 3), fill=1.0):
    """CLIPDraw's augmentation: ``num_copies`` independent perspective-then-crop views.

    Args:
      key: a ``jax.random`` key.
      image: float32 (H, W, C), e.g. the drawing composited over white.
      size: output side in pixels (CLIP's input size; the crop's resize does the scaling).
    Returns:
      float32 (num_copies, size, size, C), differentiable with respect to ``image``.
    """
    h, w, _ = image.shape

    def one(k):
        k_persp, k_crop = jax.random.split(k)
        persp = random_perspective_matrix(k_persp, w, h, distortion)
        crop = crop_matrix(random_crop_box(k_crop, w, h, scale, ratio), size, size)
        return warp(image, persp @ crop, size, size, fill)

    return jax.vmap(one)(jax.random.split(key, num_copies))
