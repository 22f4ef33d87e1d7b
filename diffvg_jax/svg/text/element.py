"""<text> -> scene Paths (the loader's side of text): styles of the text-content
elements, fonts, layout, then one Path of glyph outlines per span with the span's fill and
stroke, and the decoration Paths (underline / overline under the text, line-through over).

Functions take the svg/read ``Loader`` first, like the reader's modules. Coordinates are
float64 user units of the <text> element (its transform is put on the Group around them).
"""
from __future__ import annotations

from typing import Dict

import numpy as np

from ... import scene as S
from ..errors import FLOAT32_MAX, describe
from ..outlines import path_arrays
from ..read.coords import diagonal_length
from ..read.paint_servers import paint
from ..read.shapes import check_numbers
from ..read.styles import computed, specified
from ..values.units import parse_opacity
from .collect import collect
from .decorations import decorations, kinds_of
from .fonts import library, search_dirs
from .layout import layout, text_box
from .outlines import glyph_arrays, joined
from .path_of import path_frame_factory
from .shaping import font_data
from .spanfont import resolve_weight, span_font

UNSUPPORTED = {"writing-mode": ("lr", "lr-tb", "rl", "rl-tb", "horizontal-tb", "tb", "tb-rl", "vertical-rl",
                                "vertical-lr"),
               "unicode-bidi": ("normal",),
               "font-feature-settings": ("normal",)}
_JOINS = {"miter-clip": "miter", "arcs": "miter"}
COLOR_TABLES = {"COLR", "CBDT", "sbix", "SVG "}


def _style_of(loader, viewport):
    """(node, parent computed style) -> computed style, with '_weight' (numeric font-weight)
    and '_viewport' added for the text modules."""
    def style_of(node, parent):
        st = dict(computed(loader, node, parent))
        pw = int(parent.get("_weight", 400)) if parent is not None else 400
        fw = specified(loader, node).get("font-weight")
        st["_weight"] = resolve_weight(fw, pw) if fw is not None and fw != "inherit" else pw
        st["_viewport"] = viewport
        # font-kerning counts only from CSS: as an attribute resvg ignores it (not in PROPERTIES)
        st["font-kerning"] = specified(loader, node).get("font-kerning", (parent or {}).get("font-kerning", "auto"))
        return st
    return style_of


def _warn_unsupported(loader, content) -> None:
    """One SVGWarning per unsupported text property value, naming the element."""
    for sp in content.spans:
        for prop, ok in UNSUPPORTED.items():
            v = sp.style[prop].strip()
            if v not in ok and prop in specified(loader, sp.node):
                loader.warn(f"{describe(sp.node)}: {prop}: {v!r} is not supported in text (ignored)",
                            key=f"text-{prop}")
    for tag, msg in content.warnings:
        loader.warn(f"<{tag}>: {msg}", key="text-" + msg)


def text_objects(loader, node, style, viewport, clip_rule=None) -> list:
    """Scene Paths of one <text> element (in its user space, without its transform).
    ``clip_rule``: inside a <clipPath>, geometry only (no paint) with that fill rule."""
    style_of = _style_of(loader, viewport)
    root_style = dict(style)
    root_style["_weight"] = _root_weight(loader, node)
    root_style["_viewport"] = viewport
    root_style["font-kerning"] = specified(loader, node).get("font-kerning", "auto")
    content = collect(node, root_style, style_of, loader.referenced)
    if not content.chars:
        return []
    _warn_unsupported(loader, content)
    lib = library(search_dirs(loader.font_dirs))
    index = {id(sp.node): i for i, sp in enumerate(content.spans)}
    fonts = {}
    for i, sp in enumerate(content.spans):
        fonts[i] = span_font(lib, sp, [content.spans[index[id(n)]].style for n in sp.chain])
        if not fonts[i].found and content.span_of.count(i):
            loader.warn(f"{describe(sp.node)}: font-family {sp.style['font-family']!r} not found "
                        f"(using {fonts[i].face.families[0] if fonts[i].face.families else 'the default'})",
                        key="text-font-" + sp.style["font-family"])
    glyphs, chunks = layout(content, lib, fonts, path_frame_factory(loader, node, viewport))

    outer = [k for a in node.ancestors() for k in kinds_of(specified(loader, a).get("text-decoration", ""))]

    def owners_of(span):   # decorations of the text's ancestors are drawn with the text's style
        own = [(index[id(n)], k) for n in content.spans[span].chain
               for k in kinds_of(content.spans[index[id(n)]].style["text-decoration"])]
        return [(0, k) for k in outer if (0, k) not in own] + own
    decos = decorations(chunks, owners_of, fonts)
    per_span: Dict[int, list] = {}
    for g in glyphs:
        arrays = glyph_arrays(g.face, g.gid)
        if arrays is None and COLOR_TABLES & set(font_data(g.face).tt.keys()):
            loader.warn(f"{describe(content.spans[g.span].node)}: colour glyphs (COLR / CBDT / sbix / SVG) "
                        "are not supported (not drawn)", key="text-color-glyphs")
        per_span.setdefault(g.span, []).append((arrays, g.matrix))
    spans = {i: joined(items) for i, items in sorted(per_span.items())}
    spans = {i: a for i, a in spans.items() if a is not None}
    deco_arrays = [(owner, kind, path_arrays([sub])) for owner, kind, sub in decos]
    every = [a["points"] for a in spans.values()] + [d[2]["points"] for d in deco_arrays]
    if not every:
        return []
    allp = np.concatenate(every)
    if not np.all(np.abs(allp) < FLOAT32_MAX / 4):
        loader.warn(f"{describe(node)}: the text's outlines are not finite in float32 (not drawn)")
        return []
    box = text_box(chunks, fonts) or (*allp.min(0), *allp.max(0))
    if clip_rule is not None:
        whole = joined([(a, np.eye(3)) for a in list(spans.values()) + [d[2] for d in deco_arrays]])
        return [_path(loader, node, whole, None, None, {"fill-rule": clip_rule}, viewport)]
    paths = [_span_path(loader, content.spans[o], a, box, viewport) for o, k, a in deco_arrays if k != "line-through"]
    paths += [_span_path(loader, content.spans[i], a, box, viewport) for i, a in spans.items()]
    paths += [_span_path(loader, content.spans[o], a, box, viewport) for o, k, a in deco_arrays if k == "line-through"]
    return [p for p in paths if p is not None]


def _root_weight(loader, node) -> int:
    """Numeric font-weight of a <text>, resolved through its DOM ancestors."""
    chain = [node] + list(node.ancestors())
    weight = 400
    for n in reversed(chain):
        fw = specified(loader, n).get("font-weight")
        if fw is not None and fw != "inherit":
            weight = resolve_weight(fw, weight)
    return weight


def _span_path(loader, span, arrays, bbox, viewport):
    """The Path of a span's glyphs (or a decoration) with the span's paint; None if hidden."""
    if span.style["visibility"] != "visible":
        return None
    fill = paint(loader, span.node, span.style, "fill", bbox)
    stroke = paint(loader, span.node, span.style, "stroke", bbox)
    return _path(loader, span.node, arrays, fill, stroke, span.style, viewport)


def _path(loader, node, kw: dict, fill, stroke, style: dict, viewport):
    """One Path of path arrays with a span's paint and stroke properties (None: nothing to draw)."""
    if fill is None and stroke is None and "fill" in style:
        return None
    g = lambda k, d: style.get(k, d)
    fs = float(g("font-size", 16.0))
    sw = diagonal_length(loader, g("stroke-width", "1"), viewport, fs, 1.0, node, "stroke-width")
    if sw <= 0:
        stroke = None
    if stroke is not None and g("stroke-dasharray", "none") != "none":
        loader.warn(f"{describe(node)}: stroke-dasharray on text is not supported (solid stroke)", key="text-dash")
    common = dict(fill_opacity=parse_opacity(g("fill-opacity", "1")),
                  stroke_opacity=parse_opacity(g("stroke-opacity", "1")), stroke_width=sw,
                  fill_rule=g("fill-rule", "nonzero"),
                  line_join=_JOINS.get(g("stroke-linejoin", "miter"), g("stroke-linejoin", "miter")),
                  line_cap=g("stroke-linecap", "butt"), miter_limit=float(g("stroke-miterlimit", "4")),
                  paint_order="stroke" if g("paint-order", "normal").strip().startswith("stroke") else "fill")
    check_numbers({**common, **kw})
    loader.count_shape(node)
    loader.count_points(node, len(kw["points"]))
    return S.Path(fill=fill, stroke=stroke, transform=np.eye(3), **common, **kw)
