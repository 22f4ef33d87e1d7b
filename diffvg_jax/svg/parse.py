"""load_svg: SVG document -> diffvg_jax.Scene.

Mapping (see notes/svg.md):
  * every number read from the file becomes a float32 leaf of the scene (geometry,
    colours, opacities, widths, transforms); ids go to the static ``id`` fields;
  * the outermost <svg> gives Scene.width / height; its viewBox and preserveAspectRatio
    become the transform of one root Group (no root Group when there is no viewBox);
  * <g>, <a>, nested <svg> and <use> become Groups (a <use> with x / y gets a translate);
    group ``opacity`` becomes Group.opacity, shape ``opacity`` shape.opacity;
  * objectBoundingBox gradients are turned into userSpaceOnUse ones whose ``transform``
    maps the unit square onto the shape's bounding box;
  * stroke-dasharray is applied here, on the geometry: the stroke becomes a separate Path
    of open dash subpaths (not differentiable w.r.t. the dash pattern itself);
  * arcs become cubics within paths.ARC_TOLERANCE.
  * <pattern> paints become Pattern paints (see svg/patterns.py).
  * <image> (PNG / JPEG data URIs, relative files) becomes a Rect filled with an ImagePaint
    (see svg/images.py).
Unsupported features warn once each (SVGWarning) and the rest of the drawing is kept.
"""
from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Tuple

import numpy as np

from .. import scene as S
from . import css, markers, paths
from .clipmask import INVALID, ClipMaskLoader
from .patterns import PatternLoader
from .images import ImageLoader, source_dir
from .colors import parse_color
from .errors import (MAX_CANVAS, MAX_DASHES, MAX_DEPTH, MAX_POINTS, MAX_SHAPES, Reporter,
                     describe)
from .transforms import parse_transform, translate
from .units import (DEFAULT_FONT_SIZE, parse_length, parse_numbers, split_list,
                    viewport_diagonal)
from .xmlsafe import Node, parse_document, read_source


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
}
_NOT_PRESENTATION = {"transform", "background-color"}   # attributes handled separately
_UNSUPPORTED_ELEMENTS = {"text", "foreignObject",
                         "filter", "textPath", "tspan", "video", "audio", "canvas", "iframe"}
_SHAPES = {"rect", "circle", "ellipse", "line", "polyline", "polygon", "path"}
_CONTAINERS = {"g", "a", "svg", "switch"}
_USE_FALLBACK = object()   # a paint server that cannot paint: the paint's fallback, else none
_URL = re.compile(r"^url\(\s*(['\"]?)#([^)'\"]*)\1\s*\)\s*(.*)$", re.S)


def load_svg(source) -> S.Scene:
    """Read an SVG document into a :class:`diffvg_jax.Scene`.

    Args:
      source: a file path, the SVG text itself (anything containing '<'), bytes, or a
        readable stream.
    Returns:
      Scene with ``width`` / ``height`` set from the document (pixels, ints).
    Raises:
      ValueError naming the problem (malformed XML, bad root size, limits exceeded, ...).
    Warns:
      SVGWarning for ignored features and repaired input (one per feature).
    """
    text = read_source(source)
    loader = _Loader(text)
    loader.base_dir = source_dir(source)   # for <image> hrefs that are relative file paths
    return loader.scene()


def document_size(scene_or_text) -> Tuple[float, float]:
    """Float canvas size (width, height) of an SVG text (before rounding to pixels)."""
    loader = _Loader(read_source(scene_or_text))
    loader.scene()
    return loader.doc_size


class _Loader(ClipMaskLoader, PatternLoader, ImageLoader):
    def __init__(self, text: str):
        self.report = Reporter()
        self.root = parse_document(text, self.report.warn)
        self.ids: Dict[str, Node] = {}
        rules: List[css.Rule] = []
        for node in self.root.iter():
            if not node.is_svg:
                continue
            ident = node.attrs.get("id")
            if ident is not None:
                self.ids.setdefault(ident.strip(), node)   # first wins, as in browsers
            if node.tag == "style" and node.attrs.get("type", "text/css").strip() in ("", "text/css"):
                rules += css.parse_stylesheet(node.text, self.report.warn, len(rules))
        self.rules = rules
        self._specified: Dict[int, Dict[str, str]] = {}
        self._dom_style: Dict[int, Dict[str, str]] = {}
        self.shape_count = 0
        self.point_count = 0
        self.doc_size = (100.0, 100.0)

    def warn(self, msg, key=None):
        self.report.warn(msg, key)

    # ------------------------------------------------------------------ style

    def specified(self, node: Node) -> Dict[str, str]:
        """Cascaded (not yet inherited) declarations of one element."""
        got = self._specified.get(id(node))
        if got is None:
            pres = {k: v for k, v in node.attrs.items() if k in PROPERTIES and k not in _NOT_PRESENTATION}
            got = css.cascade(node, self.rules, pres) if (self.rules or "style" in node.attrs) else pres
            got = {k: v.strip() for k, v in got.items()}
            self._specified[id(node)] = got
        return got

    def computed(self, node: Node, parent: Optional[Dict[str, str]]) -> Dict[str, str]:
        """Computed style of ``node`` given its (rendering) parent's computed style."""
        spec = self.specified(node)
        out = {}
        for name, (inherited, initial) in PROPERTIES.items():
            value = spec.get(name)
            if value == "inherit":
                value = parent[name] if parent is not None else initial
            elif value is None or not self._valid(name, value):
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

    def dom_style(self, node: Node) -> Dict[str, str]:
        """Computed style through the DOM ancestors (for gradients and stops)."""
        got = self._dom_style.get(id(node))
        if got is None:
            parent = self.dom_style(node.parent) if node.parent is not None else None
            got = self.computed(node, parent)
            self._dom_style[id(node)] = got
        return got

    @staticmethod
    def _valid(name: str, value: str) -> bool:
        if name in ("fill", "stroke"):
            if value in ("none", "currentColor") or value.startswith("url("):
                return True
            try:
                parse_color(value)
                return True
            except ValueError:
                return False
        if name in ("color", "stop-color"):
            if value == "currentColor":
                return True
            try:
                parse_color(value)
                return True
            except ValueError:
                return False
        if name in ("fill-opacity", "stroke-opacity", "opacity", "stop-opacity"):
            return _opacity(value) is not None
        if name in ("fill-rule", "clip-rule"):
            return value in ("nonzero", "evenodd")
        if name == "stroke-linejoin":
            return value in ("miter", "round", "bevel", "miter-clip", "arcs")
        if name == "stroke-linecap":
            return value in ("butt", "round", "square")
        if name == "stroke-miterlimit":
            try:
                return float(value) >= 1
            except ValueError:
                return False
        if name == "visibility":
            return value in ("visible", "hidden", "collapse")
        return True

    # ------------------------------------------------------------------ document

    def scene(self) -> S.Scene:
        root = self.root
        style = self.computed(root, None)
        fs = float(style["font-size"])
        vb = self._viewbox(root)
        w_attr, h_attr = root.attrs.get("width"), root.attrs.get("height")
        width = self._root_length(w_attr, vb[2] if vb else None, fs, "width")
        height = self._root_length(h_attr, vb[3] if vb else None, fs, "height")
        if width is None and height is None:
            width = height = 100.0
        elif width is None:
            width = height * (vb[2] / vb[3]) if vb else 100.0
        elif height is None:
            height = width * (vb[3] / vb[2]) if vb else 100.0
        if not (width > 0 and height > 0):
            raise ValueError(f"<svg>: canvas size {width!r} x {height!r} must be positive")
        if width > MAX_CANVAS or height > MAX_CANVAS:
            raise ValueError(f"<svg>: canvas size {width:g} x {height:g} exceeds {MAX_CANVAS} px")
        self.doc_size = (width, height)
        viewport = (vb[2], vb[3]) if vb else (width, height)
        for prop in ("clip-path", "mask"):
            if style[prop] != "none":
                self.warn(f"{describe(root)}: {prop} on the root <svg> is not supported (ignored)")
        # display:none on the root hides the whole document (resvg renders nothing)
        children = [] if style["display"] == "none" else self.children_of(root, style, viewport, 0, ())
        # The root group carries the viewBox mapping and the root's opacity (a layer, as on
        # any group). None for an empty document, so that save -> load gives the same tree.
        opacity = _opacity(style["opacity"]) if "opacity" in self.specified(root) else None
        if children and (vb or opacity is not None):
            mat = (viewbox_transform(vb, (0.0, 0.0, width, height), root.attrs.get("preserveAspectRatio", ""))
                   if vb else np.eye(3))
            children = [S.Group(children=tuple(children), transform=mat, opacity=opacity, id=root.attrs.get("id"))]
        background = (0.0, 0.0, 0.0, 0.0)
        bg = self.specified(root).get("background-color")
        if bg:
            try:
                background = parse_color(bg)
            except ValueError:
                self.warn(f"<svg>: bad background-color {bg!r} ignored")
        return S.Scene(children=tuple(children), background=background,
                       width=max(1, int(math.ceil(width - 1e-6))), height=max(1, int(math.ceil(height - 1e-6))))

    def _root_length(self, text, vb_len, fs, what):
        if text is None:
            return vb_len
        try:
            if text.strip().endswith("%"):
                base = vb_len if vb_len is not None else 100.0
                return parse_length(text, percent_of=base, font_size=fs)
            return parse_length(text, font_size=fs)
        except ValueError as e:
            self.warn(f"<svg>: {what}: {e}; using the default")
            return vb_len

    def _viewbox(self, node):
        text = node.attrs.get("viewBox")
        if text is None:
            return None
        try:
            vals = parse_numbers(text, "viewBox")
        except ValueError as e:
            self.warn(f"{describe(node)}: viewBox: {e.args[0]} (ignored)")
            return None
        if len(vals) != 4 or vals[2] <= 0 or vals[3] <= 0:
            self.warn(f"{describe(node)}: viewBox {text.strip()!r} must be 4 numbers with positive size (ignored)")
            return None
        return tuple(vals)

    # ------------------------------------------------------------------ tree

    def children_of(self, node, style, viewport, depth, use_stack) -> list:
        out = []
        if node.tag == "switch":
            for child in node.children:
                if child.is_svg and child.tag in _SHAPES | _CONTAINERS | {"use", "image"} and not _conditional(child):
                    out += self.element(child, style, viewport, depth + 1, use_stack)
                    break
            return out
        for child in node.children:
            out += self.element(child, style, viewport, depth + 1, use_stack)
        return out

    def element(self, node: Node, parent_style, viewport, depth, use_stack, bare=False) -> list:
        """Scene objects (0, 1 or 2) for one element in rendering context.

        ``bare``: without the element's transform, clip-path and mask (the caller wraps the
        result in a Group that carries them)."""
        if depth > MAX_DEPTH:
            raise ValueError(f"{describe(node)}: nesting (with <use>) deeper than {MAX_DEPTH} levels")
        if not node.is_svg:
            return []
        tag = node.tag
        if tag in _UNSUPPORTED_ELEMENTS:
            self.warn(f"{describe(node)}: <{tag}> is not supported (ignored)", key="element-" + tag)
            return []
        if tag not in _SHAPES and tag not in _CONTAINERS and tag not in ("use", "image"):
            return []  # defs, gradients, style, title, unknown elements: nothing to draw
        style = self.computed(node, parent_style)
        if style["display"] == "none":
            return []
        if style["filter"] != "none":
            self.warn(f"{describe(node)}: filter is not supported (ignored)", key="prop-filter")
        transform = np.eye(3) if bare else self.transform_of(node, style, viewport)
        masked = style["clip-path"] != "none" or style["mask"] != "none"
        if masked and not bare and (tag in _SHAPES or tag in ("svg", "image")):
            return self.masked_element(node, parent_style, style, viewport, depth, use_stack, transform)
        if tag == "image":
            return self.image(node, style, viewport, transform)
        if tag in _SHAPES:
            return self.shape(node, style, viewport, transform, depth, use_stack)
        if tag == "use":
            return self.use(node, style, viewport, depth, use_stack, transform)
        if tag == "svg":
            return self.nested_svg(node, style, viewport, depth, use_stack, transform, None)
        children = self.children_of(node, style, viewport, depth, use_stack)
        return self.group(node, style, children, transform, (viewport, depth, use_stack))

    def group(self, node, style, children, transform, context=None):
        """[Group] of an element's children, with its opacity, and its clip-path and mask
        when ``context`` (viewport, depth, use_stack) is given; [] if nothing to draw."""
        opacity = _opacity(style["opacity"]) if "opacity" in self.specified(node) else None
        if not children:
            return []
        clip = mask = None
        if context is not None and (style["clip-path"] != "none" or style["mask"] != "none"):
            got = self.masking_of(node, style, *context, children)
            if got is INVALID:
                return []
            clip, mask = got
        return [S.Group(children=tuple(children), transform=transform, opacity=opacity, clip=clip, mask=mask,
                        id=node.attrs.get("id"))]

    def masked_element(self, node, parent_style, style, viewport, depth, use_stack, transform):
        """A shape or nested <svg> with clip-path / mask: a Group with the element's
        transform, clip and mask around the element's own objects (in its user space)."""
        content = self.element(node, parent_style, viewport, depth, use_stack, bare=True)
        if not content:
            return []
        got = self.masking_of(node, style, viewport, depth, use_stack, content)
        if got is INVALID:
            return []
        clip, mask = got
        if clip is None and mask is None:   # the references were ignored
            return [S.replace(o, transform=transform @ np.asarray(o.transform, np.float64)) for o in content]
        return [S.Group(children=tuple(content), transform=transform, clip=clip, mask=mask)]

    def transform_of(self, node, style, viewport) -> np.ndarray:
        text = node.attrs.get("transform")
        css_t = self.specified(node).get("transform")   # CSS transform overrides the attribute
        if css_t is not None:
            text = None if css_t == "none" else css_t
        return self.transform_about_origin(node, text, "transform", viewport)

    def transform_about_origin(self, node, text, attr, viewport) -> np.ndarray:
        """float64 (3, 3) of a transform list ``text`` (None: identity) applied about the
        node's CSS transform-origin; a bad list warns, naming ``attr``, and is ignored."""
        mat = np.eye(3)
        if text:
            try:
                mat = parse_transform(text)
            except ValueError as e:
                self.warn(f"{describe(node)}: {attr}: {e} (ignored)")
        origin = self.specified(node).get("transform-origin")
        if origin and text:
            ox, oy = self._origin(origin, viewport)
            mat = translate(ox, oy) @ mat @ translate(-ox, -oy)
        return mat

    def _origin(self, text, viewport):
        """CSS transform-origin (keywords, lengths, %) -> (x, y) in user units."""
        toks = split_list(text)[:2]
        if not toks:
            return 0.0, 0.0
        if len(toks) == 1:
            toks = ["center", toks[0]] if toks[0] in ("top", "bottom") else [toks[0], "center"]
        if toks[0] in ("top", "bottom") or toks[1] in ("left", "right"):
            toks = [toks[1], toks[0]]
        words = {"left": 0.0, "top": 0.0, "center": 50.0, "right": 100.0, "bottom": 100.0}

        def one(tok, ref):
            if tok in words:
                return words[tok] / 100.0 * ref
            return _safe_len(tok, ref)

        return one(toks[0], viewport[0]), one(toks[1], viewport[1])

    # ------------------------------------------------------------------ use / svg

    def use(self, node, style, viewport, depth, use_stack, transform):
        href = node.attrs.get("href", node.attrs.get("xlink:href"))
        if href is None:
            return []
        href = href.strip()
        if not href.startswith("#"):
            self.warn(f"{describe(node)}: external reference {href!r} is not loaded", key="use-external")
            return []
        target = self.ids.get(href[1:])
        if target is None:
            self.warn(f"{describe(node)}: href {href!r} names no element (ignored)")
            return []
        if target in use_stack or _is_ancestor(target, node) or self._recursive(node):
            self.warn(f"{describe(node)}: href {href!r} is a reference cycle (ignored)")
            return []
        if not target.is_svg or target.tag not in _SHAPES | _CONTAINERS | {"use", "symbol", "image"}:
            return []
        if any(not a.is_svg for a in _ancestors(target)):
            return []
        x = self.length(node, "x", viewport, 0, 0.0)
        y = self.length(node, "y", viewport, 1, 0.0)
        mat = transform @ translate(x, y)
        stack = use_stack + (target,)
        if target.tag in ("svg", "symbol"):
            size = (node.attrs.get("width"), node.attrs.get("height"))
            kids = self.nested_svg(target, style, viewport, depth + 1, stack, np.eye(3), size,
                                   parent_is_use=True)
        else:
            kids = self.element(target, style, viewport, depth + 1, stack)
        return self.group(node, style, kids, mat, (viewport, depth, use_stack))

    def _recursive(self, use_node, _path=()) -> bool:
        """True if expanding this <use> ever reaches itself, an ancestor, or a cycle."""
        memo = self.__dict__.setdefault("_rec_memo", {})
        if id(use_node) in memo:
            return memo[id(use_node)]
        if len(_path) > MAX_DEPTH:
            raise ValueError(f"{describe(use_node)}: <use> chain deeper than {MAX_DEPTH}")
        href = (use_node.attrs.get("href", use_node.attrs.get("xlink:href")) or "").strip()
        target = self.ids.get(href[1:]) if href.startswith("#") else None
        result = False
        if target is not None:
            if target is use_node or target in _path or _is_ancestor(target, use_node) \
                    or any(_is_ancestor(target, p) or target is p for p in _path):
                result = True
            else:
                for d in target.iter():
                    if d.tag == "use" and d.is_svg and self._recursive(d, _path + (use_node,)):
                        result = True
                        break
        memo[id(use_node)] = result
        return result

    def nested_svg(self, node, parent_style, viewport, depth, use_stack, transform, use_size,
                   parent_is_use=False):
        style = self.computed(node, parent_style) if parent_is_use else parent_style
        if style["display"] == "none":
            return []
        if node.tag == "symbol" and not parent_is_use:
            return []
        x = self.length(node, "x", viewport, 0, 0.0)
        y = self.length(node, "y", viewport, 1, 0.0)
        w = self.length(node, "width", viewport, 0, None)
        h = self.length(node, "height", viewport, 1, None)
        if use_size is not None:
            uw = self._len_text(use_size[0], viewport, 0)
            uh = self._len_text(use_size[1], viewport, 1)
            w = uw if uw is not None else w
            h = uh if uh is not None else h
        w = viewport[0] if w is None else w
        h = viewport[1] if h is None else h
        if w <= 0 or h <= 0:
            return []
        vb = self._viewbox(node)
        to_viewport = translate(x, y)
        if vb:
            to_viewport = to_viewport @ viewbox_transform(vb, (0.0, 0.0, w, h),
                                                          node.attrs.get("preserveAspectRatio", ""))
            inner = (vb[2], vb[3])
        else:
            inner = (w, h)
        kids = self.children_of(node, style, inner, depth, use_stack)
        opacity = _opacity(style["opacity"]) if "opacity" in self.specified(node) else None
        if not kids:
            return []
        rect = self._viewport_rect(node, x, y, w, h, use_size)
        clip = self.viewport_clip(node, rect, to_viewport) if rect is not None else None
        return [S.Group(children=tuple(kids), transform=transform @ to_viewport, opacity=opacity, clip=clip,
                        id=node.attrs.get("id"))]

    def _viewport_rect(self, node, x, y, w, h, use_size):
        """The clip rectangle (x, y, w, h) of a nested viewport, or None (not clipped), as
        resvg decides: ``overflow`` visible / auto does not clip (hidden is the UA default
        for svg and symbol); an <svg> clips only with both width and height given (on it
        or on the referencing <use>); a <symbol> clips to the <use>'s rectangle."""
        if self.specified(node).get("overflow", "hidden") in ("visible", "auto"):
            return None
        if node.tag == "symbol":
            return (0.0, 0.0, w, h)
        sized = use_size is not None and any(v is not None for v in use_size)
        if not sized and not ("width" in node.attrs and "height" in node.attrs):
            return None
        return (x, y, w, h)

    # ------------------------------------------------------------------ lengths

    def length(self, node, attr, viewport, axis, default, style=None):
        text = node.attrs.get(attr)
        if text is None:
            return default
        fs = float(style["font-size"]) if style else float(self.dom_style(node)["font-size"])
        ref = viewport[axis] if axis in (0, 1) else viewport_diagonal(*viewport)
        try:
            return parse_length(text, font_size=fs, percent_of=ref)
        except ValueError as e:
            self.warn(f"{describe(node)}: {attr}: {e} (using the default)")
            return default

    def _len_text(self, text, viewport, axis):
        if text is None:
            return None
        try:
            return parse_length(text, percent_of=viewport[axis])
        except ValueError:
            return None

    # ------------------------------------------------------------------ shapes

    def shape(self, node, style, viewport, transform, depth=0, use_stack=()) -> list:
        if style["visibility"] != "visible":
            return []
        tag = node.tag
        fs = float(style["font-size"])
        L = lambda attr, axis, default=0.0: self.length(node, attr, viewport, axis, default, style)
        geom = None      # (constructor, kwargs) of the scene shape
        outline = None   # function returning subpaths (for dashes and bounding boxes)
        if tag == "rect":
            x, y, w, h = L("x", 0), L("y", 1), L("width", 0), L("height", 1)
            rx = L("rx", 0, None)
            ry = L("ry", 1, None)
            rx = None if rx is not None and rx < 0 else rx
            ry = None if ry is not None and ry < 0 else ry
            if rx is None and ry is None:
                rx = ry = 0.0
            elif rx is None:
                rx = ry
            elif ry is None:
                ry = rx
            if w <= 0 or h <= 0:
                if w < 0 or h < 0:
                    self.warn(f"{describe(node)}: negative width or height (not rendered)")
                return []
            rx_c, ry_c = min(rx, w / 2), min(ry, h / 2)   # the renderer clamps the same way
            kw = dict(p_min=[x, y], p_max=[x + w, y + h], corner_radius=[rx, ry])
            geom = (S.Rect, kw)
            bbox = (x, y, x + w, y + h)
            outline = lambda: [paths.rect_subpath(x, y, w, h, rx_c if ry_c > 0 else 0, ry_c if rx_c > 0 else 0)]
        elif tag in ("circle", "ellipse"):
            cx, cy = L("cx", 0), L("cy", 1)
            if tag == "circle":
                r = L("r", 2)
                rx = ry = r
            else:
                rx, ry = L("rx", 0, None), L("ry", 1, None)
                rx = None if rx is not None and rx < 0 else rx   # negative = auto (SVG 2, resvg)
                ry = None if ry is not None and ry < 0 else ry
                if rx is None and ry is None:
                    return []
                rx = ry if rx is None else rx
                ry = rx if ry is None else ry
            if rx <= 0 or ry <= 0:
                return []
            if tag == "circle":
                geom = (S.Circle, dict(center=[cx, cy], radius=rx))
            else:
                geom = (S.Ellipse, dict(center=[cx, cy], radius=[rx, ry]))
            bbox = (cx - rx, cy - ry, cx + rx, cy + ry)
            outline = lambda: [paths.ellipse_subpath(cx, cy, rx, ry)]
        elif tag == "line":
            pts = np.array([[L("x1", 0), L("y1", 1)], [L("x2", 0), L("y2", 1)]])
            geom = (S.Polyline, dict(points=pts))
            bbox = _bbox_points(pts)
            outline = lambda: [paths.poly_subpath(pts, False)]
        elif tag in ("polyline", "polygon"):
            try:
                vals = parse_numbers(node.attrs.get("points", ""), "points")
            except ValueError as e:
                self.warn(f"{describe(node)}: points: {e.args[0]} (drawn up to the error)")
                vals = e.args[1]
            if len(vals) % 2:
                vals = vals[:-1]
            pts = np.array(vals, dtype=np.float64).reshape(-1, 2)
            if len(pts) < 2:
                return []
            self._count_points(node, len(pts))
            closed = tag == "polygon"
            geom = (S.Polygon if closed else S.Polyline, dict(points=pts))
            bbox = _bbox_points(pts)
            outline = lambda: [paths.poly_subpath(pts, closed)]
        else:
            d = node.attrs.get("d", "")
            try:
                subs = paths.parse_path_data(d, MAX_POINTS)
            except paths.PathDataError as e:
                self.warn(f"{describe(node)}: d: {e} (drawn up to the error)")
                subs = e.subpaths
            if not subs:
                return []
            kw = path_arrays(subs)
            self._count_points(node, len(kw["points"]))
            geom = (S.Path, kw)
            bbox = _bbox_subpaths(subs)
            outline = lambda: subs

        fill = self.paint(node, style, "fill", bbox)
        stroke = self.paint(node, style, "stroke", bbox)
        sw = self._len_text_style(style["stroke-width"], viewport, fs, 1.0, node, "stroke-width")
        if sw <= 0:
            stroke = None
        if tag == "line":
            fill = None  # a line has no interior
        common = dict(
            fill_opacity=_opacity(style["fill-opacity"]), stroke_opacity=_opacity(style["stroke-opacity"]),
            stroke_width=sw, transform=transform, fill_rule=style["fill-rule"],
            line_join={"miter-clip": "miter", "arcs": "miter"}.get(style["stroke-linejoin"], style["stroke-linejoin"]),
            line_cap=style["stroke-linecap"], miter_limit=float(style["stroke-miterlimit"]),
            paint_order=_paint_order(style["paint-order"]))
        opacity = _opacity(style["opacity"]) if "opacity" in self.specified(node) else None
        widths = node.attrs.get("dv:stroke-widths")
        if widths is not None and tag in ("path", "polyline", "polygon"):
            try:
                w_arr = np.array(parse_numbers(widths, "dv:stroke-widths"))
                if len(w_arr) == len(geom[1]["points"]):
                    common["stroke_width"] = w_arr
            except ValueError:
                self.warn(f"{describe(node)}: bad dv:stroke-widths (ignored)")
        ident = node.attrs.get("id")
        dashes = None
        if stroke is not None:
            dashes = self.dash_pattern(node, style, viewport, fs)
        if dashes is None:
            self._count_shape(node)
            out = [geom[0](fill=fill, stroke=stroke, id=ident, **common, **geom[1])]
        else:
            pattern, offset = dashes
            dash_subs = paths.dash_subpaths(outline(), pattern, offset, common["line_cap"] != "butt", MAX_DASHES)
            out = []
            if fill is not None:
                self._count_shape(node)
                out.append(geom[0](fill=fill, stroke=None, id=ident, **common, **geom[1]))
            if dash_subs:
                self._count_shape(node)
                kw = path_arrays(dash_subs)
                self._count_points(node, len(kw["points"]))
                dcommon = dict(common)
                if np.ndim(dcommon["stroke_width"]):
                    dcommon["stroke_width"] = float(np.mean(dcommon["stroke_width"]))
                dash = S.Path(fill=None, stroke=stroke, id=(ident + "-dashes") if ident else None, **dcommon, **kw)
                out = [dash] + out if common["paint_order"] == "stroke" else out + [dash]
        # markers join the shape's opacity layer (resvg); paint-order may put them first
        out = markers.decorate(self, node, style, out, outline, sw, viewport, depth, use_stack, transform)
        if opacity is not None and len(out) > 1:
            return [S.Group(children=tuple(out), opacity=opacity, id=(ident + "-layer") if ident else None)]
        if opacity is not None and out:
            out = [S.replace(out[0], opacity=opacity)]
        return out

    def _len_text_style(self, text, viewport, fs, default, node, what):
        try:
            return parse_length(text, font_size=fs, percent_of=viewport_diagonal(*viewport))
        except ValueError as e:
            self.warn(f"{describe(node)}: {what}: {e} (using {default})")
            return default

    def _count_shape(self, node):
        self.shape_count += 1
        if self.shape_count > MAX_SHAPES:
            raise ValueError(f"{describe(node)}: the drawing has more than {MAX_SHAPES} shapes (after <use> expansion)")

    def _count_points(self, node, n):
        self.point_count += n
        if self.point_count > MAX_POINTS:
            raise ValueError(f"{describe(node)}: the drawing has more than {MAX_POINTS} path points")

    def dash_pattern(self, node, style, viewport, fs):
        text = style["stroke-dasharray"]
        if text == "none":
            return None
        diag = viewport_diagonal(*viewport)
        try:
            vals = [parse_length(t, font_size=fs, percent_of=diag) for t in split_list(text)]
        except ValueError as e:
            self.warn(f"{describe(node)}: stroke-dasharray: {e} (solid stroke)")
            return None
        if not vals or any(v < 0 for v in vals) or sum(vals) <= 0:
            return None
        if len(vals) % 2:
            vals = vals * 2
        try:
            offset = parse_length(style["stroke-dashoffset"], font_size=fs, percent_of=diag)
        except ValueError:
            offset = 0.0
        return vals, offset

    # ------------------------------------------------------------------ paint

    def paint(self, node, style, which, bbox):
        value = style[which]
        if value == "none":
            return None
        if value == "currentColor":
            return S.Solid(color=self._color(style["color"], style))
        m = _URL.match(value)
        if m:
            ident, fallback = m.group(2), m.group(3).strip()
            target = self.ids.get(ident)
            if target is None or target.tag not in ("linearGradient", "radialGradient"):
                if target is not None and target.tag == "pattern" and target.is_svg:
                    return self.pattern(target, bbox, node, which, fallback, style)
                if target is None and fallback:
                    return self._fallback(fallback, style)
                if target is None:
                    self.warn(f"{describe(node)}: {which}: url(#{ident}) names no element ({which} none)")
                return None
            got = self.gradient(target, bbox, node, which)
            if got is _USE_FALLBACK:
                return self._fallback(fallback, style) if fallback else None
            return got
        return S.Solid(color=self._color(value, style))

    def _fallback(self, text, style):
        if text == "none":
            return None
        if text == "currentColor":
            return S.Solid(color=self._color(style["color"], style))
        try:
            return S.Solid(color=parse_color(text))
        except ValueError:
            return None

    def _color(self, text, style):
        if text == "currentColor":
            text = style["color"]
        try:
            return parse_color(text)
        except ValueError:
            return (0.0, 0.0, 0.0, 1.0)

    def gradient(self, grad: Node, bbox, user: Node, which):
        chain, seen = [], set()
        cur = grad
        while cur is not None and len(chain) <= MAX_DEPTH:
            if id(cur) in seen:
                self.warn(f"{describe(grad)}: href cycle between gradients (stopped)")
                break
            seen.add(id(cur))
            chain.append(cur)
            href = cur.attrs.get("href", cur.attrs.get("xlink:href"))
            nxt = self.ids.get(href.strip()[1:]) if href and href.strip().startswith("#") else None
            if nxt is not None and nxt.tag not in ("linearGradient", "radialGradient"):
                nxt = None
            cur = nxt

        def attr(name, tags=("linearGradient", "radialGradient")):
            for g in chain:
                if name in g.attrs and g.tag in tags:
                    return g.attrs[name]
            return None

        stops_node = next((g for g in chain if any(c.tag == "stop" and c.is_svg for c in g.children)), None)
        offsets, colors = [], []
        if stops_node is not None:
            last = 0.0
            for st in stops_node.children:
                if st.tag != "stop" or not st.is_svg:
                    continue
                sstyle = self.dom_style(st)
                off = _offset(st.attrs.get("offset", "0"))
                off = max(off, last)
                last = off
                rgba = self._color(sstyle["stop-color"], sstyle)
                a = rgba[3] * _opacity(sstyle["stop-opacity"])
                offsets.append(off)
                colors.append((rgba[0], rgba[1], rgba[2], a))
        if not offsets:
            return _USE_FALLBACK
        if len(offsets) == 1:
            return S.Solid(color=colors[0])
        units = attr("gradientUnits") or "objectBoundingBox"
        obb = units.strip() != "userSpaceOnUse"
        gt = np.eye(3)
        t_text = attr("gradientTransform")
        if t_text:
            try:
                gt = parse_transform(t_text)
            except ValueError as e:
                self.warn(f"{describe(grad)}: gradientTransform: {e} (ignored)")
        origin = self.specified(grad).get("transform-origin")
        if origin and t_text:
            ox, oy = self._origin(origin, (1.0, 1.0) if obb else self._user_viewport(user))
            gt = translate(ox, oy) @ gt @ translate(-ox, -oy)
        if abs(np.linalg.det(gt[:2, :2])) < 1e-12:
            gt = np.eye(3)  # a singular gradientTransform is invalid and ignored (as resvg does)
        spread = (attr("spreadMethod") or "pad").strip()
        spread = spread if spread in ("pad", "reflect", "repeat") else "pad"
        vp = (1.0, 1.0) if obb else self._user_viewport(user)

        def coord(name, axis, default):
            text = attr(name, (grad.tag,))
            if text is None:
                return default
            try:
                if obb:
                    t = text.strip()
                    return float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
                ref = vp[axis] if axis in (0, 1) else viewport_diagonal(*vp)
                return parse_length(text, percent_of=ref)
            except ValueError:
                return default

        if obb:
            x0, y0, x1, y1 = bbox
            if not (x1 - x0 > 0 and y1 - y0 > 0):
                return _USE_FALLBACK  # objectBoundingBox on an empty box (a straight line)
            gt = np.array([[x1 - x0, 0, x0], [0, y1 - y0, y0], [0, 0, 1.0]]) @ gt
        if grad.tag == "linearGradient":
            x1_ = coord("x1", 0, 0.0)
            y1_ = coord("y1", 1, 0.0)
            x2_ = coord("x2", 0, 1.0 if obb else vp[0])
            y2_ = coord("y2", 1, 0.0)
            return S.LinearGradient(start=[x1_, y1_], end=[x2_, y2_], offsets=offsets, colors=colors,
                                    transform=gt, spread=spread)
        half = lambda axis: 0.5 if obb else 0.5 * (vp[axis] if axis < 2 else viewport_diagonal(*vp))
        cx, cy = coord("cx", 0, half(0)), coord("cy", 1, half(1))
        r = coord("r", 2, half(2))
        fx, fy = coord("fx", 0, cx), coord("fy", 1, cy)
        fr = coord("fr", 2, 0.0)
        if fr < 0:
            self.warn(f"{describe(grad)}: negative fr (paint not rendered)")
            return None
        if r < 0:  # an error in SVG; resvg paints it as r = 0, and so do we
            self.warn(f"{describe(grad)}: negative r (painted as r = 0: the last stop's colour)")
        if r <= 0:
            return S.Solid(color=colors[-1])
        return S.RadialGradient(center=[cx, cy], radius=r, focal=[fx, fy], focal_radius=fr, offsets=offsets,
                                colors=colors, transform=gt, spread=spread)

    def _user_viewport(self, node):
        # viewport of the element for userSpaceOnUse percentages: the nearest <svg> ancestor
        p = node.parent
        while p is not None:
            if p.tag == "svg":
                vb = self._viewbox(p)
                if vb:
                    return (vb[2], vb[3])
                if p is self.root:
                    return self.doc_size
                w = self._len_text(p.attrs.get("width"), self.doc_size, 0)
                h = self._len_text(p.attrs.get("height"), self.doc_size, 1)
                return (w or self.doc_size[0], h or self.doc_size[1])
            p = p.parent
        return self.doc_size


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def path_arrays(subpaths: List[paths.Subpath]) -> dict:
    """Path constructor arguments (points, degrees, subpath_sizes, closed) from subpaths."""
    pts, degrees, sizes, closed = [], [], [], []
    for sp in subpaths:
        segs = sp.segments
        if not segs:
            continue
        pts.append(sp.start[None])
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            pts.append(seg[:-1] if (sp.closed and last) else seg)
            degrees.append(len(seg))
        sizes.append(len(segs))
        closed.append(bool(sp.closed))
    return dict(points=np.concatenate(pts, 0), degrees=tuple(degrees), subpath_sizes=tuple(sizes),
                closed=tuple(closed))


def viewbox_transform(vb, viewport, par: str) -> np.ndarray:
    """SVG viewBox + preserveAspectRatio -> (3, 3) matrix from viewBox to viewport units."""
    vx, vy, vw, vh = vb
    x, y, w, h = viewport
    toks = par.split()
    if toks and toks[0] == "defer":
        toks = toks[1:]
    align = toks[0] if toks else "xMidYMid"
    slice_ = len(toks) > 1 and toks[1] == "slice"
    sx, sy = w / vw, h / vh
    if align == "none":
        return np.array([[sx, 0, x - vx * sx], [0, sy, y - vy * sy], [0, 0, 1.0]])
    s = max(sx, sy) if slice_ else min(sx, sy)
    m = re.match(r"x(Min|Mid|Max)Y(Min|Mid|Max)$", align)
    ax, ay = (m.group(1), m.group(2)) if m else ("Mid", "Mid")
    frac = {"Min": 0.0, "Mid": 0.5, "Max": 1.0}
    tx = x - vx * s + frac[ax] * (w - vw * s)
    ty = y - vy * s + frac[ay] * (h - vh * s)
    return np.array([[s, 0, tx], [0, s, ty], [0, 0, 1.0]])


def _opacity(text) -> Optional[float]:
    try:
        t = text.strip()
        v = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except (ValueError, AttributeError):
        return None
    if not math.isfinite(v):
        return None
    return min(max(v, 0.0), 1.0)


def _offset(text) -> float:
    t = text.strip()
    try:
        v = float(t[:-1]) / 100.0 if t.endswith("%") else float(t)
    except ValueError:
        return 0.0
    if not math.isfinite(v):
        return 0.0
    return min(max(v, 0.0), 1.0)


def _paint_order(text: str) -> str:
    """The scene's static paint order ('fill' or 'stroke' first) of a paint-order value."""
    order = markers.paint_order(text)
    return "stroke" if order.index("stroke") < order.index("fill") else "fill"


def _bbox_points(pts):
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def _bbox_subpaths(subs):
    """Exact bounding box of the curves (extrema of each Bezier), float64."""
    xs, ys = [], []
    for sp in subs:
        p0 = sp.start
        xs.append(p0[0]); ys.append(p0[1])
        for seg in sp.segments:
            ctrl = np.concatenate([p0[None], seg])
            ts = [1.0]
            for axis in (0, 1):
                ts += _extrema(ctrl[:, axis])
            pts = paths._bezier(ctrl, np.array(ts))
            xs += list(pts[:, 0]); ys += list(pts[:, 1])
            p0 = seg[-1]
    return (min(xs), min(ys), max(xs), max(ys))


def _extrema(c):
    k = len(c) - 1
    if k == 1:
        return []
    if k == 2:
        den = c[0] - 2 * c[1] + c[2]
        return [float((c[0] - c[1]) / den)] if den != 0 and 0 < (c[0] - c[1]) / den < 1 else []
    a = -c[0] + 3 * c[1] - 3 * c[2] + c[3]
    b = 2 * (c[0] - 2 * c[1] + c[2])
    cc = c[1] - c[0]
    roots = []
    if abs(a) < 1e-12:
        if b != 0:
            roots = [-cc / b]
    else:
        disc = b * b - 4 * a * cc
        if disc >= 0:
            q = math.sqrt(disc)
            roots = [(-b + q) / (2 * a), (-b - q) / (2 * a)]
    return [float(t) for t in roots if 0 < t < 1]


def _safe_len(text, ref):
    try:
        return parse_length(text, percent_of=ref)
    except ValueError:
        return 0.0


def _ancestors(node):
    p = node.parent
    while p is not None:
        yield p
        p = p.parent


def _is_ancestor(a, node):
    return any(p is a for p in _ancestors(node))


def _conditional(node) -> bool:
    """True if a conditional-processing attribute makes the element fail in <switch>."""
    rf = node.attrs.get("requiredFeatures")
    if rf is not None and not rf.strip():
        return True
    if "requiredExtensions" in node.attrs:
        return True
    lang = node.attrs.get("systemLanguage")
    if lang is not None:
        return not any(l.strip().split("-")[0] == "en" for l in lang.split(","))
    return False

