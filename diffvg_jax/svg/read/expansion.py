"""The size of a document with every <use> expanded, counted before anything is expanded.

A few hundred bytes of <use> elements that each reference a group of two <use> elements
describe 2^30 shapes. ``check_expansion`` counts, in one pass over the elements (each
element's expanded size is memoised, so the pass is linear in the document), how many
elements and how many shapes load_svg would visit, and refuses the document before
building anything when the counts pass ``errors.MAX_EXPANDED_ELEMENTS`` or
``errors.MAX_SHAPES``. Reference cycles count as nothing (tree.py drops them).

Content that is only drawn through a reference counts where it is referenced: a <symbol>
or any element where a <use> names it, a <pattern>, <clipPath> or <mask> where a fill,
stroke, clip-path or mask attribute (or style attribute) names it. References made in
style sheets, and marker instances, are limited as they are built (loader.count_shape,
markers.py).
"""
from __future__ import annotations

from .. import errors
from ..dom.css import parse_declarations, parse_url
from ..errors import SVGError, describe

_NOT_DRAWN = {"defs", "symbol", "clipPath", "mask", "marker", "pattern", "linearGradient", "radialGradient",
              "style", "title", "desc", "metadata"}
_REFERENCES = ("fill", "stroke", "clip-path", "mask")
_SHAPES = {"rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "image"}


def check_expansion(loader) -> None:
    """SVGError when expanding the document's <use> elements would pass the limits."""
    memo = {}          # id(node) -> (elements, shapes) with <use> expanded
    visiting = set()   # ids on the current path (a reference cycle counts as nothing)
    root = loader.root
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            visiting.discard(key)
            elements, shapes = 1, int(node.tag in _SHAPES)
            for dep in _deps(loader, node):
                sub = memo.get(id(dep), (0, 0))
                elements += sub[0]
                shapes += sub[1]
            memo[key] = (elements, shapes)
            if elements > errors.MAX_EXPANDED_ELEMENTS:
                raise SVGError(f"{describe(node)}: once references (<use>, patterns, clips, masks) are expanded the drawing has more than "
                               f"{errors.MAX_EXPANDED_ELEMENTS} elements")
            if shapes > errors.MAX_SHAPES:
                raise SVGError(f"{describe(node)}: once references (<use>, patterns, clips, masks) are expanded the drawing has more than "
                               f"{errors.MAX_SHAPES} shapes")
            continue
        if key in memo or key in visiting:
            continue
        visiting.add(key)
        stack.append((node, True))
        for dep in _deps(loader, node):
            if id(dep) not in memo and id(dep) not in visiting:
                stack.append((dep, False))


def _reference(loader, node, prop):
    """The element a ``url(#id)`` of property ``prop`` names in the element's attributes or
    style attribute (style sheets are not consulted here), or None."""
    value = node.attrs.get(prop)
    style = node.attrs.get("style")
    if style and prop in style:
        for name, text, _ in parse_declarations(style):
            if name == prop:
                value = text
    ref = parse_url(value.strip()) if value else None
    return loader.ids.get(ref[0]) if ref else None


def _content(loader, server) -> list:
    """The children a pattern, clip path or mask draws each time it is used (a pattern
    without children: those of the first pattern its href chain names with some)."""
    seen = set()
    while server is not None and id(server) not in seen:
        if server.children or server.tag != "pattern":
            return list(server.children)
        seen.add(id(server))
        server = loader.referenced(server)
    return []


def _deps(loader, node) -> list:
    """The elements drawn as part of ``node``: its children (none for the containers that
    only references draw) and the element a <use> names."""
    if not node.is_svg:
        return []
    out = [] if node.tag in _NOT_DRAWN else list(node.children)
    for prop in _REFERENCES:
        got = _reference(loader, node, prop)
        if got is not None and got.tag in ("pattern", "clipPath", "mask") and not node.has_ancestor(got):
            out += _content(loader, got)
    if node.tag == "use":
        target = loader.referenced(node)
        if target is not None and target.tag == "symbol":
            out += target.children    # a <use> draws a <symbol>'s children
        elif target is not None:
            out.append(target)
    return out
