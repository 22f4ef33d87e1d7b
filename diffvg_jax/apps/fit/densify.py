"""Densification: find the paths that have collapsed or barely contribute, and re-seed them
where the current error is largest, with the target's colour there. The static structure
never changes, so nothing recompiles.

Coordinates are pixels; images float32 (H, W, 3) in [0, 1].
"""
from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from diffvg_jax import scene as sc

__all__ = ["find_collapsed", "reseed_paths", "box_blur"]


def _paint_alpha(paint, opacity) -> float:
    if paint is None:
        return 0.0
    if isinstance(paint, sc.Solid):
        a = float(np.asarray(paint.color)[3])
    elif isinstance(paint, (sc.LinearGradient, sc.RadialGradient)):
        a = float(np.max(np.asarray(paint.colors)[:, 3]))
    else:  # a pattern or an image: no single alpha; never call it faint
        a = 1.0
    return a * float(np.asarray(opacity))


def find_collapsed(scene: sc.Scene, *, width: int, height: int, min_alpha: float = 0.05,
                   min_area: float = 1.0, min_length: float = 1.0, min_relative: float = 0.0) -> np.ndarray:
    """bool (num_children,): which top-level children are untransformed :class:`Path` s that
    no longer contribute: alpha below ``min_alpha``; a fill whose control polygon encloses
    less than ``min_area`` px^2 (shoelace area); a stroke-only path whose control polygon is
    shorter than ``min_length`` px; or a control-point bounding box that misses the canvas.
    With ``min_relative`` > 0, also paths whose ink (alpha x area for fills, alpha x
    length x width for strokes, px^2) is below ``min_relative`` times the median ink of
    the eligible paths not otherwise marked: faint or tiny paths that barely contribute.
    Other children are never marked."""
    out = np.zeros(len(scene.children), bool)
    ink = np.full(len(scene.children), np.nan)
    for i, child in enumerate(scene.children):
        if not isinstance(child, sc.Path) or not np.allclose(np.asarray(child.transform), np.eye(3)):
            continue
        pts = np.asarray(child.points, np.float64)
        opacity = 1.0 if child.opacity is None else float(np.asarray(child.opacity))
        fill_a = _paint_alpha(child.fill, child.fill_opacity) * opacity
        stroke_a = _paint_alpha(child.stroke, child.stroke_opacity) * opacity
        if child.stroke is not None:
            stroke_a *= float(np.max(np.asarray(child.stroke_width))) > 0
        lo, hi = pts.min(0), pts.max(0)
        off_canvas = hi[0] < 0 or hi[1] < 0 or lo[0] > width or lo[1] > height
        dead = max(fill_a, stroke_a) < min_alpha or off_canvas
        if child.fill is not None and fill_a >= min_alpha:
            x, y = pts[:, 0], pts[:, 1]
            area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
            fill_dead = area < min_area
        else:
            area, fill_dead = 0.0, True
        if child.stroke is not None and stroke_a >= min_alpha:
            length = np.sum(np.linalg.norm(np.diff(pts, axis=0), axis=1))
            stroke_dead = length < min_length
        else:
            length, stroke_dead = 0.0, True
        out[i] = dead or (fill_dead and stroke_dead)
        stroke_w = float(np.mean(np.asarray(child.stroke_width))) if child.stroke is not None else 0.0
        ink[i] = fill_a * area + stroke_a * length * stroke_w
    alive = np.isfinite(ink) & ~out
    if min_relative > 0 and alive.any():
        out |= alive & (ink < min_relative * np.median(ink[alive]))
    return out


def box_blur(img, r: int):
    """Mean over the (2r+1) x (2r+1) window around each pixel (edges repeated): float
    (H, W, ...) -> same shape. r <= 0 returns ``img``."""
    if r <= 0:
        return img
    k = 2 * r + 1
    pad = np.pad(img, [(r, r), (r, r)] + [(0, 0)] * (img.ndim - 2), mode="edge")
    c = np.cumsum(np.cumsum(pad, 0), 1)
    c = np.pad(c, [(1, 0), (1, 0)] + [(0, 0)] * (img.ndim - 2))
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)


def reseed_paths(scene: sc.Scene, which, *, rgb, target, rng: np.random.Generator,
                 radius: float = 0.05, stroke_width: float = 1.0, alpha: float = 0.8) -> sc.Scene:
    """Move the children marked in ``which`` to where ``|rgb - target|`` is largest.

    Centres are drawn without replacement with probability proportional to the squared,
    box-blurred per-pixel error; each re-seeded path keeps its static structure (segment
    degrees, closed flags), gets a fresh random shape of size ``radius`` (fraction of the
    canvas) around its centre, the error-weighted mean target colour of the window around
    the centre with alpha ``alpha``, and
    (if stroked) ``stroke_width``.

    Args:
      scene: the current scene (concrete leaves).
      which: bool (num_children,) from :func:`find_collapsed`.
      rgb, target: float (H, W, 3) current render (composited) and target.
      rng: NumPy generator (deterministic re-seeding for a fixed seed).
    Returns: a scene with the same static structure.
    """
    which = np.asarray(which, bool)
    idx = np.flatnonzero(which)
    if idx.size == 0:
        return scene
    target = np.asarray(target, np.float32)
    h, w = target.shape[:2]
    r = max(1, int(round(radius * max(w, h) / 2)))
    raw_err = np.sum(np.abs(np.asarray(rgb, np.float32) - target), -1)
    err = box_blur(raw_err, r)
    prob = err.ravel() ** 2
    total = prob.sum()
    prob = prob / total if total > 0 else np.full(prob.shape, 1.0 / prob.size)
    replace = np.count_nonzero(prob) < idx.size
    flat = rng.choice(prob.size, size=idx.size, replace=replace, p=prob)
    # The colour that is missing there: the target averaged over the window, weighted by the
    # error (falls back to the plain average where the window has no error).
    weighted = box_blur(target * raw_err[..., None], r)
    colors = np.where(err[..., None] > 1e-6, weighted / np.maximum(err[..., None], 1e-6), box_blur(target, r))
    scale = np.array([w, h], np.float64)
    children = list(scene.children)
    for i, f in zip(idx, flat):
        cy, cx = divmod(int(f), w)
        centre = np.array([cx + 0.5, cy + 0.5])
        child = children[i]
        n = int(np.asarray(child.points).shape[0])
        if all(child.closed):
            angles = 2 * np.pi * (np.arange(n) + 0.8 * rng.random(n)) / n
            dist = radius * (0.5 + 0.5 * rng.random(n))[:, None] * scale
            pts = centre + dist * np.stack([np.cos(angles), np.sin(angles)], -1)
        else:
            steps = (rng.random((n - 1, 2)) - 0.5) * radius * scale
            pts = np.concatenate([np.zeros((1, 2)), np.cumsum(steps, 0)])
            pts = centre + pts - pts.mean(0)
        color = np.concatenate([colors[cy, cx], [alpha]]).astype(np.float32)
        changes = {"points": jnp.asarray(pts, jnp.float32)}
        if child.fill is not None:
            changes["fill"] = sc.Solid(color=color)
            changes["fill_opacity"] = jnp.ones_like(jnp.asarray(child.fill_opacity))
        if child.stroke is not None:
            changes["stroke"] = sc.Solid(color=color)
            changes["stroke_opacity"] = jnp.ones_like(jnp.asarray(child.stroke_opacity))
            changes["stroke_width"] = jnp.full_like(jnp.asarray(child.stroke_width), stroke_width)
        if child.opacity is not None:
            changes["opacity"] = jnp.ones_like(jnp.asarray(child.opacity))
        # Only paths with Solid paints are re-seeded (find_collapsed marks any Path; keep
        # gradient, pattern and image paints' structure by leaving such paths alone).
        if any(p is not None and not isinstance(p, sc.Solid) for p in (child.fill, child.stroke)):
            continue
        children[i] = dataclasses.replace(child, **changes)
    return scene.replace(children=tuple(children))
