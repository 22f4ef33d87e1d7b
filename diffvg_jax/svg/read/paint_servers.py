"""fill / stroke paints for load_svg: colors, ``currentColor``, ``url(#id) fallback`` naming
a <linearGradient>, <radialGradient> (here) or <pattern> (patterns.py).

objectBoundingBox gradients become userSpaceOnUse ones whose ``transform`` maps the unit
square onto the painted shape's fill bounding box (x0, y0, x1, y1), user units.
"""
from __future__ import annotations

import numpy as np

from ... import scene as S
from ..dom.css import parse_url
from ..errors import MAX_DEPTH, describe
from ..values.transforms import bbox_matrix
from ..values.units import parse_fraction, parse_length, parse_offset, parse_opacity, viewport_diagonal
from . import context, patterns
from .coords import transform_about_origin, user_viewport
from .styles import color_of, dom_style, fallback

_GRADIENTS = ("linearGradient", "radialGradient")
_USE_FALLBACK = object()   # a paint server that cannot paint: the paint's fallback, else none


def paint(loader, node, style, which, bbox):
    """The scene paint (Solid, gradient, Pattern) or None of ``style[which]`` ('fill' or
    'stroke') on element ``node`` with fill bounding box ``bbox``; ``context-fill`` /
    ``context-stroke``: a context.ContextPaint placeholder (or None, see context.py)."""
    value = style[which]
    if value == "none":
        return None
    if value == "currentColor":
        return S.Solid(color=color_of(style["color"], style))
    if value in context.KEYWORDS:
        return context.keyword_paint(loader, value)
    ref = parse_url(value)
    if ref:
        ident, fallback_text = ref
        target = loader.ids.get(ident)
        if target is None or target.tag not in _GRADIENTS:
            if target is not None and target.tag == "pattern" and target.is_svg:
                return patterns.pattern(loader, target, bbox, node, which, fallback_text, style)
            if target is None and fallback_text:
                return fallback(fallback_text, style)
            if target is None:
                loader.warn(f"{describe(node)}: {which}: url(#{ident}) names no element ({which} none)")
            return None
        got = gradient(loader, target, bbox, node, which)
        if got is _USE_FALLBACK:
            return fallback(fallback_text, style) if fallback_text else None
        return got
    return S.Solid(color=color_of(value, style))


def with_context_paints(loader, node, style, objs) -> list:
    """The content ``objs`` of a context element ``node`` (a <use>: objects in its user
    space, after its transform and x / y) with their context-fill / context-stroke
    placeholders resolved to ``node``'s fill / stroke (objectBoundingBox paints on the
    content's fill box); context.py."""
    if not context.has_placeholders(objs):
        return objs
    bbox = context.group_bbox(objs) or (0.0, 0.0, 0.0, 0.0)
    fill = paint(loader, node, style, "fill", bbox)
    stroke = paint(loader, node, style, "stroke", bbox)
    return context.resolve(objs, fill, stroke)


def _chain(loader, grad):
    """The gradient and the gradients its href chain names, nearest first (cycles cut)."""
    chain, seen = [], set()
    cur = grad
    while cur is not None and len(chain) <= MAX_DEPTH:
        if id(cur) in seen:
            loader.warn(f"{describe(grad)}: href cycle between gradients (stopped)")
            break
        seen.add(id(cur))
        chain.append(cur)
        nxt = loader.referenced(cur)
        cur = nxt if nxt is not None and nxt.tag in _GRADIENTS else None
    return chain


def _stops(loader, chain):
    """(offsets, straight RGBA colors) of the first gradient in the chain with <stop>s."""
    stops_node = next((g for g in chain if any(c.tag == "stop" and c.is_svg for c in g.children)), None)
    offsets, colors = [], []
    if stops_node is not None:
        last = 0.0
        for st in stops_node.children:
            if st.tag != "stop" or not st.is_svg:
                continue
            sstyle = dom_style(loader, st)
            off = max(parse_offset(st.attrs.get("offset", "0")), last)
            last = off
            rgba = color_of(sstyle["stop-color"], sstyle)
            offsets.append(off)
            colors.append((rgba[0], rgba[1], rgba[2], rgba[3] * parse_opacity(sstyle["stop-opacity"])))
    return offsets, colors


def _gradient_transform(loader, grad, text, obb, user) -> np.ndarray:
    """float64 (3, 3) gradientTransform (about transform-origin); identity if singular."""
    origin_vp = lambda: (1.0, 1.0) if obb else user_viewport(loader, user)
    gt = transform_about_origin(loader, grad, text, "gradientTransform", origin_vp)
    if abs(np.linalg.det(gt[:2, :2])) < 1e-12:
        gt = np.eye(3)  # a singular gradientTransform is invalid and ignored (as resvg does)
    return gt


def gradient(loader, grad, bbox, user, which):
    """The paint of a <linearGradient> / <radialGradient> used by element ``user``: a
    gradient, a Solid (one stop, r = 0), None, or _USE_FALLBACK."""
    chain = _chain(loader, grad)

    def attr(name, tags=_GRADIENTS):
        return next((g.attrs[name] for g in chain if name in g.attrs and g.tag in tags), None)

    offsets, colors = _stops(loader, chain)
    if not offsets:
        return _USE_FALLBACK
    if len(offsets) == 1:
        return S.Solid(color=colors[0])
    obb = (attr("gradientUnits") or "objectBoundingBox").strip() != "userSpaceOnUse"
    gt = _gradient_transform(loader, grad, attr("gradientTransform"), obb, user)
    spread = (attr("spreadMethod") or "pad").strip()
    spread = spread if spread in ("pad", "reflect", "repeat") else "pad"
    vp = (1.0, 1.0) if obb else user_viewport(loader, user)

    def coord(name, axis, default):
        text = attr(name, (grad.tag,))
        if text is None:
            return default
        try:
            if obb:
                return parse_fraction(text)
            return parse_length(text, percent_of=vp[axis] if axis in (0, 1) else viewport_diagonal(*vp))
        except ValueError as e:
            loader.warn(f"{describe(grad)}: {name}: {e} (using the default)")
            return default

    if obb:
        x0, y0, x1, y1 = bbox
        if not (x1 - x0 > 0 and y1 - y0 > 0):
            return _USE_FALLBACK  # objectBoundingBox on an empty box (a straight line)
        gt = bbox_matrix(bbox) @ gt
    if grad.tag == "linearGradient":
        start = [coord("x1", 0, 0.0), coord("y1", 1, 0.0)]
        end = [coord("x2", 0, 1.0 if obb else vp[0]), coord("y2", 1, 0.0)]
        return S.LinearGradient(start=start, end=end, offsets=offsets, colors=colors, transform=gt, spread=spread)
    half = lambda axis: 0.5 if obb else 0.5 * (vp[axis] if axis < 2 else viewport_diagonal(*vp))
    cx, cy = coord("cx", 0, half(0)), coord("cy", 1, half(1))
    r = coord("r", 2, half(2))
    fx, fy = coord("fx", 0, cx), coord("fy", 1, cy)
    fr = coord("fr", 2, 0.0)
    if fr < 0:
        loader.warn(f"{describe(grad)}: negative fr (paint not rendered)")
        return None
    if r < 0:  # an error in SVG; resvg paints it as r = 0, and so do we
        loader.warn(f"{describe(grad)}: negative r (painted as r = 0: the last stop's colour)")
    if r <= 0:
        return S.Solid(color=colors[-1])
    return S.RadialGradient(center=[cx, cy], radius=r, focal=[fx, fy], focal_radius=fr, offsets=offsets,
                            colors=colors, transform=gt, spread=spread)
