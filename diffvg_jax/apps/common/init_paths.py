"""Random initial drawings for optimisation: painterly strokes and filled blobs.

Both functions return a :class:`diffvg_jax.Scene` whose children are :class:`Path` objects
with concrete float32 leaves. The static structure (segment counts) is drawn from ``key``
in NumPy so that the same key always gives the same scene and the same jit cache entry.

Coordinates are pixels (origin top-left, y down); colours are straight RGBA in [0, 1].
The background is left transparent: the caller decides what the drawing is composited over.
"""
from __future__ import annotations

from typing import Optional

import jax
import numpy as np

from diffvg_jax import scene as sc

__all__ = ["random_strokes", "random_blobs", "key_to_rng"]


def key_to_rng(key) -> np.random.Generator:
    """A NumPy generator seeded deterministically from a JAX PRNG key (or an int seed)."""
    if isinstance(key, (int, np.integer)):
        return np.random.default_rng(int(key))
    data = np.asarray(jax.random.key_data(key) if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
                      else key).astype(np.uint32).ravel()
    return np.random.default_rng([int(v) for v in data])


def _check_common(num_paths, width, height):
    if int(num_paths) != num_paths or num_paths < 0:
        raise ValueError(f"num_paths must be a non-negative integer, got {num_paths!r}")
    for name, v in (("width", width), ("height", height)):
        if int(v) != v or v <= 0:
            raise ValueError(f"{name} must be a positive integer number of pixels, got {v!r}")


def random_strokes(key, num_paths: int, width: int, height: int, *, max_segments: int = 3,
                   stroke_width: float = 1.0, radius: float = 0.05,
                   uniform_segments: Optional[int] = None) -> sc.Scene:
    """Open cubic Bezier strokes scattered over the canvas (diffvg's painterly initialisation).

    Args:
      key: JAX PRNG key or int seed; the same key gives the same scene.
      num_paths: number of strokes.
      width, height: canvas size in pixels.
      max_segments: each stroke gets 1..max_segments cubic segments (static, from ``key``).
      stroke_width: initial stroke width in pixels (float32 ()).
      radius: step between consecutive control points, as a fraction of the canvas size
        (each control point is the previous one plus a uniform offset in
        [-radius/2, radius/2] * (width, height)).
      uniform_segments: if given, every stroke has exactly this many segments, so the
        strokes share one static structure (they can then be stacked and vmapped).

    Returns:
      Scene of ``num_paths`` open :class:`Path` children with ``stroke=Solid`` (random RGBA,
      alpha in [0.2, 1]), ``fill=None``; transparent background; ``width``/``height`` set.
    """
    _check_common(num_paths, width, height)
    if uniform_segments is not None and (int(uniform_segments) != uniform_segments or uniform_segments < 1):
        raise ValueError(f"uniform_segments must be a positive integer, got {uniform_segments!r}")
    if int(max_segments) != max_segments or max_segments < 1:
        raise ValueError(f"max_segments must be a positive integer, got {max_segments!r}")
    rng = key_to_rng(key)
    scale = np.array([width, height], np.float32)
    children = []
    for _ in range(int(num_paths)):
        nseg = int(uniform_segments) if uniform_segments is not None else int(rng.integers(1, max_segments + 1))
        pts = [rng.random(2)]
        for _ in range(3 * nseg):
            pts.append(pts[-1] + (rng.random(2) - 0.5) * radius)
        pts = (np.stack(pts) * scale).astype(np.float32)
        color = np.concatenate([rng.random(3), 0.2 + 0.8 * rng.random(1)]).astype(np.float32)
        children.append(sc.Path(points=pts, degrees=(3,) * nseg, closed=False, fill=None,
                                stroke=sc.Solid(color=color), stroke_width=float(stroke_width),
                                line_cap="round", line_join="round"))
    return sc.Scene(children=tuple(children), width=int(width), height=int(height))


def random_blobs(key, num_paths: int, width: int, height: int, *, num_segments: int = 4,
                 radius: float = 0.05) -> sc.Scene:
    """Closed, filled cubic blobs scattered over the canvas.

    Each blob is a closed path of ``num_segments`` cubics whose 3 * num_segments control
    points lie around a random centre at angles in increasing order, at distances in
    [0.5, 1] * radius * (width, height), so the outline starts out simple (not
    self-intersecting).

    Args:
      key: JAX PRNG key or int seed.
      num_paths: number of blobs.
      width, height: canvas size in pixels.
      num_segments: cubic segments per blob (>= 2).
      radius: blob radius as a fraction of the canvas size.

    Returns:
      Scene of closed :class:`Path` children with ``fill=Solid`` (random RGBA, alpha in
      [0.2, 1]) and no stroke; transparent background; ``width``/``height`` set.
    """
    _check_common(num_paths, width, height)
    if int(num_segments) != num_segments or num_segments < 2:
        raise ValueError(f"num_segments must be an integer >= 2, got {num_segments!r}")
    rng = key_to_rng(key)
    scale = np.array([width, height], np.float32)
    n = 3 * int(num_segments)
    children = []
    for _ in range(int(num_paths)):
        center = rng.random(2)
        # jittered angles that stay in increasing order keep the control polygon simple
        angles = 2 * np.pi * (np.arange(n) + 0.8 * rng.random(n)) / n
        dist = radius * (0.5 + 0.5 * rng.random(n))
        pts = center + dist[:, None] * np.stack([np.cos(angles), np.sin(angles)], -1)
        pts = (pts * scale).astype(np.float32)
        color = np.concatenate([rng.random(3), 0.2 + 0.8 * rng.random(1)]).astype(np.float32)
        children.append(sc.Path(points=pts, degrees=(3,) * int(num_segments), closed=True,
                                fill=sc.Solid(color=color), stroke=None))
    return sc.Scene(children=tuple(children), width=int(width), height=int(height))
