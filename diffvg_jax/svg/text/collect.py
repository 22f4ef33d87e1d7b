"""The characters of one <text> element, in text-content order: SVG 1.1 white-space
handling (xml:space), the span (element) each character belongs to, and the per-character
x / y / dx / dy / rotate values of the elements' attribute lists (inner elements win).

This module reads the DOM only; styles come through ``style_of``, a function
(node, parent_style) -> computed style dict given by the caller.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

from ..values.units import parse_float, parse_length, split_list

TEXT_CHILDREN = {"tspan", "textPath", "tref", "a"}
POSITION_ATTRS = ("x", "y", "dx", "dy", "rotate")
# Elements a <tref> may take its characters from (resvg: not unknown elements).
TREF_TARGETS = {"text", "tspan", "textPath", "tref", "a", "g", "defs", "title", "desc", "rect", "circle", "ellipse",
                "line", "polyline", "polygon", "path", "symbol", "use", "switch", "svg", "image"}
MAX_TEXT_CHARS = 100_000     # characters of one text element (a hostile-input bound)


@dataclass
class Span:
    """An element whose own character data is laid out: <text>, <tspan>, <textPath>,
    <tref> or <a>. ``chain``: the text-content elements from the <text> down to it (for
    baseline-shift and text-decoration); ``text_path``: the enclosing <textPath> or None."""

    node: object
    style: dict
    chain: Tuple[object, ...]
    text_path: object = None


@dataclass
class TextContent:
    """Characters (one code point each) with their span index and position values (user
    units, None where no list gives one); ``rotate`` in degrees."""

    chars: List[str] = field(default_factory=list)
    span_of: List[int] = field(default_factory=list)
    spans: List[Span] = field(default_factory=list)
    ranges: List[Tuple[object, int, int, dict]] = field(default_factory=list)
    x: list = field(default_factory=list)
    y: list = field(default_factory=list)
    dx: list = field(default_factory=list)
    dy: list = field(default_factory=list)
    rotate: list = field(default_factory=list)
    warnings: List[Tuple[str, str]] = field(default_factory=list)


def text_content(node) -> str:
    """The character data of an element and its descendants in document order (<tref>)."""
    parts = [node.head]
    for child in node.children:
        parts += [text_content(child), child.tail]
    return "".join(parts)


def _space_mode(node, inherited: str) -> str:
    v = node.attrs.get("xml:space")
    return v if v in ("default", "preserve") else inherited


def _emit(out: TextContent, text: str, span: int, mode: str, white_space: str) -> None:
    """Append one piece of character data with SVG 1.1 / CSS white-space processing."""
    preserve = mode == "preserve" or white_space in ("pre", "pre-wrap", "break-spaces")
    if preserve:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    else:
        text = text.replace("\r", "").replace("\n", "").replace("\t", " ")
    for ch in text:
        if not preserve and ch == " " and (not out.chars or out.chars[-1] == " "):
            continue
        out.chars.append(ch)
        out.span_of.append(span)
        if len(out.chars) > MAX_TEXT_CHARS:
            raise ValueError(f"more than {MAX_TEXT_CHARS} characters in one text element")


def collect(text_node, style: dict, style_of: Callable, referenced: Callable) -> TextContent:
    """The TextContent of a <text> element whose computed style is ``style``.
    ``referenced(node)``: the element a <tref> / <textPath> href names, or None."""
    out = TextContent()
    trailing = _visit(out, text_node, style, (text_node,), None, "default", style_of, referenced)
    if trailing and out.chars and out.chars[-1] == " ":
        out.chars.pop()
        out.span_of.pop()
    n = len(out.chars)
    for key in POSITION_ATTRS:
        setattr(out, key, [None] * n)
    for node, start, end, st in out.ranges:
        _apply_lists(out, node, min(start, n), min(end, n), st)
    return out


def _visit(out, node, style, chain, text_path, mode, style_of, referenced) -> bool:
    """Collect one element's content; returns whether the last piece was collapsible."""
    mode = _space_mode(node, mode)
    out.spans.append(Span(node, style, chain, text_path))
    me = len(out.spans) - 1
    start = len(out.chars)
    slot = len(out.ranges)          # pre-order: an element's lists are applied before its children's
    out.ranges.append(None)
    collapsible = mode != "preserve"
    if node.tag == "tref":
        target = referenced(node)
        if target is not None and target.is_svg and target.tag in TREF_TARGETS:
            _emit(out, text_content(target), me, mode, style["white-space"])
        out.ranges[slot] = (node, start, len(out.chars), style)
        return collapsible
    _emit(out, node.head, me, mode, style["white-space"])
    for child in node.children:
        if child.is_svg and child.tag in TEXT_CHILDREN:
            cstyle = style_of(child, style)
            nested_path = child.tag == "textPath" and text_path is not None
            if nested_path:
                out.warnings.append((child.tag, "a <textPath> inside a <textPath> is ignored"))
            if cstyle["display"] != "none" and not nested_path:
                tp = child if child.tag == "textPath" else text_path
                collapsible = _visit(out, child, cstyle, chain + (child,), tp, mode, style_of, referenced)
        if child.tail:
            _emit(out, child.tail, me, mode, style["white-space"])
            collapsible = mode != "preserve"
    out.ranges[slot] = (node, start, len(out.chars), style)
    return collapsible


def _values(node, attr: str, style: dict, viewport_len: float) -> Optional[list]:
    text = node.attrs.get(attr)
    if text is None:
        return None
    fs = float(style["font-size"])
    vals = []
    for tok in split_list(text):
        try:
            vals.append(parse_float(tok) if attr == "rotate" else parse_length(tok, font_size=fs, percent_of=viewport_len))
        except ValueError:
            return None    # an invalid list is ignored as a whole
    return vals


def _apply_lists(out: TextContent, node, start: int, end: int, style: dict) -> None:
    """Give the element's characters its x / y / dx / dy / rotate values (inner elements
    are applied after their ancestors, so theirs win). Viewport % use style['_viewport']."""
    if node.tag not in ("text", "tspan", "tref"):
        return
    vw, vh = style.get("_viewport", (100.0, 100.0))
    for attr, ref in (("x", vw), ("y", vh), ("dx", vw), ("dy", vh), ("rotate", 0.0)):
        vals = _values(node, attr, style, ref)
        if not vals:
            continue
        target = getattr(out, attr)
        for i in range(start, end):
            k = i - start
            if k < len(vals):
                target[i] = vals[k]
            elif attr == "rotate":
                target[i] = vals[-1]   # the last angle goes on for the rest (SVG 1.1)
            else:
                break
