"""Shape and value checks for scenes, with errors that name the offending element.

Run by ``render`` before tracing: array shapes are known even for tracers, so a wrong shape
becomes a ``ValueError`` such as ``scene.children[2] (Circle 'sun').radius must have shape
(), got (2,)`` instead of a failure deep inside XLA. Concrete arrays are also checked for
NaN and inf.
"""
from __future__ import annotations

import threading

import jax
import numpy as np

from diffvg_jax.scene import (Circle, ClipPath, Ellipse, Group, LinearGradient, Mask, Path, Polygon, Polyline,
                    RadialGradient, Rect, Scene, Solid)
from diffvg_jax.scene import Pattern
from diffvg_jax.scene import ImagePaint


# Concrete leaves whose values validate_scene checks for NaN / inf in one vectorised pass
# after the walk (checked one by one, the finiteness tests were a third of encoding a
# 4,600-leaf scene); per thread, as renders may run in several.
_pending = threading.local()


def _check_all_finite(items):
    """Raise naming the first of ``items`` (where, obj, name, array) that holds NaN or inf."""
    arrays = [a.reshape(-1) for *_, a in items if a.size]
    if not arrays or np.isfinite(np.concatenate(arrays)).all():
        return
    for where, obj, name, arr in items:
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{_label(where, obj)}.{name} contains NaN or inf")


_FLOAT_DTYPES: dict = {}


def _is_float(dtype) -> bool:
    """np.issubdtype(dtype, np.floating), remembered per dtype (it is called per leaf)."""
    known = _FLOAT_DTYPES.get(dtype)
    if known is None:
        known = _FLOAT_DTYPES[dtype] = bool(np.issubdtype(np.dtype(dtype), np.floating))
    return known


def _label(where, obj):
    name = type(obj).__name__
    ident = getattr(obj, "id", None)
    return f"{where} ({name} {ident!r})" if ident else f"{where} ({name})"


def _check(where, obj, name, shape):
    value = getattr(obj, name)
    if value is None:
        raise ValueError(f"{_label(where, obj)}.{name} is required")
    got = getattr(value, "shape", None)
    got = np.shape(value) if got is None else tuple(got)
    # Called per leaf on every eager render: exact shapes compare as tuples first.
    ok = got == shape or (len(got) == len(shape) and all(s is None or s == g for s, g in zip(shape, got)))
    if not ok:
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{_label(where, obj)}.{name} must have shape {want}, got {got}")
    dtype = getattr(value, "dtype", None)
    if dtype is not None and not _is_float(dtype):
        raise ValueError(f"{_label(where, obj)}.{name} must be a float array, got dtype {dtype}")
    if not isinstance(value, jax.core.Tracer):
        _pending.items.append((where, obj, name, np.asarray(value)))   # validate_scene checks them
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
    _pending.items = []
    try:
        _check("scene", scene, "background", (4,))
        _walk("scene", scene.children)
        _check_all_finite(_pending.items)
    finally:
        _pending.items = None
