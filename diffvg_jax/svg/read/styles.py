"""Style of elements for load_svg: the cascade (presentation attributes, style sheets, the
style attribute), inheritance and computed values, cached on the loader per element.

A style here is a dict property name -> value text (``PROPERTIES`` lists them); only
``font-size`` is resolved, to px (repr of a float).
"""
from __future__ import annotations

from typing import Dict, Optional

from ... import scene as S
from ..dom import css
from ..dom.xmlsafe import Node
from ..values.colors import RGBA, parse_color
from ..values.units import DEFAULT_FONT_SIZE, parse_float, parse_length, parse_opacity

# property -> (inherited, initial value)
PROPERTIES = {
    "fill": (True, "black"), "fill-opacity": (True, "1"), "fill-rule": (True, "nonzero"),
    "stroke": (True, "none"), "stroke-width": (True, "1"), "stroke-opacity": (True, "1"),
    "stroke-linejoin": (True, "miter"), "stroke-linecap": (True, "butt"),
    "stroke-miterlimit": (True, "4"), "stroke-dasharray": (True, "none"),
    "stroke-dashoffset": (True, "0"), "visibility": (True, "visible"), "color": (True, "black"),
    "paint-order": (True, "normal"), "font-size": (True, "medium"),
    "marker-start": (True, "none"), "marker-mid": (True, "none"), "marker-end": (True, "none"),
    "opacity": (False, "1"), "display": (False, "inline"), "stop-color": (False, "black"),
    "stop-opacity": (False, "1"), "transform": (False, "none"), "transform-origin": (False, "0 0"),
    "clip-path": (False, "none"), "mask": (False, "none"), "filter": (False, "none"),
    "clip-rule": (True, "nonzero"), "mask-type": (False, "luminance"),
    "overflow": (False, "visible"), "background-color": (False, "transparent"),
    "mix-blend-mode": (False, "normal"), "isolation": (False, "auto"), "shape-rendering": (True, "auto"),
    # text (read by svg/text/): fonts, spacing, alignment, decoration, writing mode
    "font-family": (True, "sans-serif"), "font-weight": (True, "normal"), "font-style": (True, "normal"),
    "font-stretch": (True, "normal"), "font-variant": (True, "normal"),
    "font-feature-settings": (True, "normal"), "font-variation-settings": (True, "normal"),
    "letter-spacing": (True, "normal"), "word-spacing": (True, "normal"), "text-anchor": (True, "start"),
    "text-decoration": (False, "none"), "baseline-shift": (False, "baseline"),
    "dominant-baseline": (True, "auto"), "alignment-baseline": (False, "auto"),
    "writing-mode": (True, "lr-tb"), "direction": (True, "ltr"), "unicode-bidi": (False, "normal"),
    "white-space": (True, "normal"), "kerning": (True, "auto"), "text-rendering": (True, "auto"),
}
# attributes handled separately; mix-blend-mode and isolation are CSS properties only (not
# SVG 2 presentation attributes: resvg's as-property case), set in style / style sheets
_NOT_PRESENTATION = {"transform", "background-color", "mix-blend-mode", "isolation"}
_KEYWORDS = {
    "fill-rule": ("nonzero", "evenodd"), "clip-rule": ("nonzero", "evenodd"),
    "stroke-linejoin": ("miter", "round", "bevel", "miter-clip", "arcs"),
    "stroke-linecap": ("butt", "round", "square"), "visibility": ("visible", "hidden", "collapse"),
    "mix-blend-mode": S.BLEND_MODES, "isolation": S.ISOLATIONS, "shape-rendering": S.SHAPE_RENDERINGS,
}


def specified(loader, node: Node) -> Dict[str, str]:
    """Cascaded (not yet inherited) declarations of one element."""
    got = loader.specified_styles.get(id(node))
    if got is None:
        pres = {k: v for k, v in node.attrs.items() if k in PROPERTIES and k not in _NOT_PRESENTATION}
        got = css.cascade(node, loader.rules, pres) if (loader.rules.rules or "style" in node.attrs) else pres
        got = {k: v.strip() for k, v in got.items()}
        loader.specified_styles[id(node)] = got
    return got


def computed(loader, node: Node, parent: Optional[Dict[str, str]]) -> Dict[str, str]:
    """Computed style of ``node`` given its (rendering) parent's computed style."""
    spec = specified(loader, node)
    out = {}
    for name, (inherited, initial) in PROPERTIES.items():
        value = spec.get(name)
        if value == "inherit":
            value = parent[name] if parent is not None else initial
        elif value is None or not is_valid(name, value):
            value = parent[name] if (inherited and parent is not None) else initial
        out[name] = value
    # font-size resolves here (em / % are relative to the parent's)
    parent_fs = float(parent["font-size"]) if parent is not None else DEFAULT_FONT_SIZE
    fs = spec.get("font-size")
    try:
        if fs is None or fs == "inherit":
            raise ValueError
        out["font-size"] = repr(parse_length(fs, font_size=parent_fs, percent_of=parent_fs))
    except ValueError:
        out["font-size"] = repr(parent_fs)
    return out


def dom_style(loader, node: Node) -> Dict[str, str]:
    """Computed style through the DOM ancestors (for gradients, stops, markers, patterns)."""
    got = loader.dom_styles.get(id(node))
    if got is None:
        parent = dom_style(loader, node.parent) if node.parent is not None else None
        got = computed(loader, node, parent)
        loader.dom_styles[id(node)] = got
    return got


def is_valid(name: str, value: str) -> bool:
    """Whether ``value`` is valid for property ``name`` (an invalid one is ignored)."""
    if name in ("fill", "stroke") and (value in ("none", "context-fill", "context-stroke")
                                       or value.startswith("url(")):
        return True
    if name in ("fill", "stroke", "color", "stop-color"):
        if value == "currentColor":
            return True
        try:
            parse_color(value)
            return True
        except ValueError:
            return False
    if name in ("fill-opacity", "stroke-opacity", "opacity", "stop-opacity"):
        return parse_opacity(value) is not None
    if name in _KEYWORDS:
        return value in _KEYWORDS[name]
    if name == "stroke-miterlimit":
        try:
            return parse_float(value) >= 1
        except ValueError:
            return False
    return True


def layer_opacity(loader, node: Node, style: Dict[str, str]) -> Optional[float]:
    """The element's ``opacity`` (a layer: Group / shape ``opacity``) when it sets one, else None."""
    return parse_opacity(style["opacity"]) if "opacity" in specified(loader, node) else None


def color_of(text: str, style: Dict[str, str]) -> RGBA:
    """RGBA of a color value (``currentColor``: the style's ``color``); opaque black if invalid."""
    if text == "currentColor":
        text = style["color"]
    try:
        return parse_color(text)
    except ValueError:
        return (0.0, 0.0, 0.0, 1.0)


def fallback(text: str, style: Dict[str, str]) -> Optional[S.Solid]:
    """The Solid (or None) of a paint's fallback after ``url(#id)``."""
    if text == "none":
        return None
    if text == "currentColor":
        return S.Solid(color=color_of(style["color"], style))
    try:
        return S.Solid(color=parse_color(text))
    except ValueError:
        return None
