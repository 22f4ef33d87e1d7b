"""Between two drawings of one common structure: the structure check, the interpolated
scene at time t, and the frames of the sequence.

Two scenes share a structure when they have the same paths in the same order, each with
the same segment degrees, closedness and paint types, and float leaves of the same shapes
(what :func:`~diffvg_jax.apps.interpolate.fit_pair` produces). Path k of one drawing then
*is* path k of the other, and interpolating their leaves moves each path from its place
in the first drawing to its place in the second.
"""
from __future__ import annotations

from typing import List, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax import Scene, render
from diffvg_jax.apps.common.artifacts import to_uint8
from .target import over_white

__all__ = ["check_common_structure", "interpolate_scenes", "ease", "EASINGS", "frame_times", "render_frames",
           "strip"]

EASINGS = ("linear", "smooth")


def _child_summary(child) -> str:
    degrees = getattr(child, "degrees", None)
    what = type(child).__name__
    if degrees is not None:
        what += f" of {len(degrees)} segments (degrees {tuple(degrees)}), closed={getattr(child, 'closed', None)}"
    return what


def check_common_structure(a: Scene, b: Scene) -> None:
    """Raise ValueError naming the first difference unless ``a`` and ``b`` share one
    structure (same children, in order, with the same static fields and leaf shapes)."""
    if not isinstance(a, Scene) or not isinstance(b, Scene):
        raise ValueError(f"both drawings must be diffvg_jax.Scene objects, got {type(a).__name__} "
                         f"and {type(b).__name__}")
    if len(a.children) != len(b.children):
        raise ValueError(f"the drawings have different path counts: {len(a.children)} and {len(b.children)}")
    for k, (ca, cb) in enumerate(zip(a.children, b.children)):
        if jax.tree.structure(ca) != jax.tree.structure(cb):
            raise ValueError(f"path {k} differs in structure: {_child_summary(ca)} vs {_child_summary(cb)}")
        for la, lb in zip(jax.tree.leaves(ca), jax.tree.leaves(cb)):
            if np.shape(la) != np.shape(lb):
                raise ValueError(f"path {k} differs in shape: {_child_summary(ca)} has an array of shape "
                                 f"{np.shape(la)} where the other has {np.shape(lb)}")
    if jax.tree.structure(a) != jax.tree.structure(b):
        raise ValueError("the drawings differ outside their paths (canvas size or background)")


def ease(t, kind: str = "linear"):
    """Map time t in [0, 1] (float or float32 array) to the blend weight: 'linear' (t) or
    'smooth' (smoothstep 3t^2 - 2t^3: paths start and stop gently). 0 -> 0, 1 -> 1 exactly."""
    if kind == "linear":
        return t
    if kind == "smooth":
        return t * t * (3.0 - 2.0 * t)
    raise ValueError(f"easing must be one of {EASINGS}, got {kind!r}")


def interpolate_scenes(a: Scene, b: Scene, t: float) -> Scene:
    """The drawing at weight ``t``: every float leaf (control points in pixels, straight RGBA
    fill colours, ...) is ``(1 - t) * a + t * b``; t = 0 gives ``a``'s values and t = 1
    ``b``'s, bit for bit. Raises ValueError unless they share a structure."""
    check_common_structure(a, b)
    t = float(t)
    if not np.isfinite(t):
        raise ValueError(f"t must be a finite number, got {t!r}")
    if t == 0.0:
        return a
    if t == 1.0:
        return b
    return jax.tree.map(lambda x, y: (1.0 - t) * jnp.asarray(x, jnp.float32) + t * jnp.asarray(y, jnp.float32),
                        a, b)


def frame_times(count: int) -> np.ndarray:
    """float64 (count,): ``count`` evenly spaced times from 0 to 1 inclusive (count >= 2)."""
    if int(count) != count or count < 2:
        raise ValueError(f"the number of frames must be an integer >= 2, got {count!r}")
    return np.linspace(0.0, 1.0, int(count))


def render_frames(a: Scene, b: Scene, times: Sequence[float], *, size: int, easing: str = "linear") -> List[np.ndarray]:
    """Render the drawing at each time (eased by ``easing``) over white.

    Returns: one float32 (size, size, 3) image in [0, 1] per time.
    """
    check_common_structure(a, b)
    frames = []
    for t in times:
        scene = interpolate_scenes(a, b, float(ease(float(t), easing)))
        frames.append(np.asarray(over_white(render(scene, width=size, height=size, premultiplied=True))))
    return frames


def strip(frames: Sequence[np.ndarray], *, gap: int = 2) -> np.ndarray:
    """Frames float32 (H, W, 3) side by side with ``gap`` white pixels between them ->
    uint8 (H, n * W + (n - 1) * gap, 3)."""
    if not frames:
        raise ValueError("no frames to lay out")
    h, w = np.shape(frames[0])[:2]
    out = np.full((h, len(frames) * w + (len(frames) - 1) * gap, 3), 255, np.uint8)
    for i, f in enumerate(frames):
        out[:, i * (w + gap):i * (w + gap) + w] = to_uint8(f)
    return out
