"""Shape and value checks for scenes, with errors that name the offending element.

Run by ``render`` before tracing: array shapes are known even for tracers, so a wrong shape
becomes a ``ValueError`` such as ``scene.children[2] (Circle 'sun').radius must have shape
(), got (2,)`` instead of a failure deep inside XLA. Concrete arrays are also checked for
NaN and inf.
"""
from __future__ import annotations

import jax
import numpy as np

from diffvg_jax.scene import (Circle, ClipPath, Ellipse, Group, LinearGradient, Mask, Path, Polygon, Polyline,
                    RadialGradient, Rect, Scene, Solid)
from diffvg_jax.scene import Pattern
from diffvg_jax.scene import ImagePaint


def _label(where, obj):
    name = type(obj).__name__
    ident = getattr(obj, "id", None)
    return f"{where} ({name} {ident!r})" if ident else f"{where} ({name})"


def _check(where, obj, name, shape):
    value = getattr(obj, name)
    if value is None:
        raise ValueError(f"{_label(where, obj)}.{name} is required")
    got = tuple(getattr(value, "shape", np.shape(value)))
    ok = len(got) == len(shape) and all(s is None or s == g for s, g in zip(shape, got))
    if not ok:
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{_label(where, obj)}.{name} must have shape {want}, got {got}")
    dtype = getattr(value, "dtype", None)
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"{_label(where, obj)}.{name} must be a float array, got dtype {dtype}")
    if not isinstance(value, jax.core.Tracer):
        arr = np.asarray(value)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{_label(where, obj)}.{name} contains NaN or inf")
    return got


def _check_paint(where, paint):
    if paint is None:
        return
    if isinstance(paint, Solid):
        _check(where, paint, "color", (4,))
    elif isinstance(paint, (LinearGradient, RadialGradient)):
        (k,) = _check(where, paint, "offsets", (None,))
        if k < 1:
            raise ValueError(f"{_label(where, paint)}.offsets needs at least one stop")
        _check(where, paint, "colors", (k, 4))
        _check(where, paint, "transform", (3, 3))
        if isinstance(paint, LinearGradient):
            _check(where, paint, "start", (2,))
            _check(where, paint, "end", (2,))
        else:
            _check(where, paint, "center", (2,))
            _check(where, paint, "radius", ())
            _check(where, paint, "focal", (2,))
            _check(where, paint, "focal_radius", ())
    elif isinstance(paint, Pattern):
        _check(where, paint, "size", (2,))
        _check(where, paint, "transform", (3, 3))
        _walk(_label(where, paint), paint.children)
    elif isinstance(paint, ImagePaint):
        h, w, _ = _check(where, paint, "pixels", (None, None, 4))
        if h < 1 or w < 1:
            raise ValueError(f"{_label(where, paint)}.pixels must hold at least one pixel, got {(h, w, 4)}")
        _check(where, paint, "transform", (3, 3))
    else:
        raise ValueError(f"{where} is a {type(paint).__name__}, not a paint (Solid, LinearGradient, RadialGradient, "
                         "Pattern, ImagePaint)")


def _check_shape(where, shape):
    _check(where, shape, "transform", (3, 3))
    for name in ("fill_opacity", "stroke_opacity"):
        _check(where, shape, name, ())
    if shape.opacity is not None:
        _check(where, shape, "opacity", ())
    _check_paint(f"{_label(where, shape)}.fill", shape.fill)
    _check_paint(f"{_label(where, shape)}.stroke", shape.stroke)
    n_points = None
    if isinstance(shape, Path):
        n_points = shape.num_points()
        _check(where, shape, "points", (n_points, 2))
    elif isinstance(shape, (Polygon, Polyline)):
        (n_points, _) = _check(where, shape, "points", (None, 2))
    elif isinstance(shape, Circle):
        _check(where, shape, "center", (2,))
        _check(where, shape, "radius", ())
    elif isinstance(shape, Ellipse):
        _check(where, shape, "center", (2,))
        _check(where, shape, "radius", (2,))
    elif isinstance(shape, Rect):
        _check(where, shape, "p_min", (2,))
        _check(where, shape, "p_max", (2,))
        _check(where, shape, "corner_radius", (2,))
    width_shape = tuple(np.shape(shape.stroke_width)) if not hasattr(shape.stroke_width, "shape") else tuple(shape.stroke_width.shape)
    if width_shape == () or (n_points is not None and width_shape == (n_points,)):
        _check(where, shape, "stroke_width", width_shape)
    else:
        allowed = "()" if n_points is None else f"() or ({n_points},) (one per point)"
        raise ValueError(f"{_label(where, shape)}.stroke_width must have shape {allowed}, got {width_shape}")


def _check_clip(where, clip):
    """A Group's (or ClipPath's) ``clip``: a ClipPath whose children are geometry only."""
    if not isinstance(clip, ClipPath):
        raise ValueError(f"{where} is a {type(clip).__name__}, not a ClipPath")
    _check(where, clip, "transform", (3, 3))
    _walk(where, clip.children)
    if clip.clip is not None:
        _check_clip(f"{where}.clip", clip.clip)


def _check_mask(where, mask):
    if not isinstance(mask, Mask):
        raise ValueError(f"{where} is a {type(mask).__name__}, not a Mask")
    _check(where, mask, "transform", (3, 3))
    if mask.region is not None:
        _check(where, mask, "region", (4,))
    _walk(where, mask.children)
    if mask.mask is not None:
        _check_mask(f"{where}.mask", mask.mask)


def _walk(where, children):
    for i, child in enumerate(children):
        here = f"{where}.children[{i}]"
        if isinstance(child, Group):
            _check(here, child, "transform", (3, 3))
            if child.opacity is not None:
                _check(here, child, "opacity", ())
            if child.clip is not None:
                _check_clip(f"{_label(here, child)}.clip", child.clip)
            if child.mask is not None:
                _check_mask(f"{_label(here, child)}.mask", child.mask)
            _walk(_label(here, child), child.children)
        else:
            _check_shape(here, child)


def validate_scene(scene: Scene) -> None:
    """Raise ``ValueError`` naming the element and attribute of the first problem found."""
    if not isinstance(scene, Scene):
        raise ValueError(f"expected a diffvg_jax.Scene, got {type(scene).__name__}")
    _check("scene", scene, "background", (4,))
    _walk("scene", scene.children)
