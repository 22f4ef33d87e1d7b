"""The element tree in rendering context for load_svg: containers, <use>, nested <svg> /
<symbol> viewports, <switch>, and the Groups that carry opacity, clip-path and mask.

Every function takes the Loader first. ``viewport`` is the (w, h) of the nearest viewport
(user units, for percentages), ``depth`` the nesting (with <use> expansion, limited to
MAX_DEPTH) and ``use_stack`` the <use> targets being expanded (a cycle check).
"""
from __future__ import annotations

import numpy as np

from ... import scene as S
from ..errors import MAX_DEPTH, SVGError, describe
from ..values.transforms import translate, viewbox_transform
from ..text import text_objects
from . import clipmask, conditions, images, shapes
from .context import reading_context
from .coords import axis_length, length, transform_of, viewbox
from .paint_servers import with_context_paints
from .styles import computed, layer_opacity, specified

UNSUPPORTED_ELEMENTS = {"foreignObject", "filter", "video", "audio", "canvas", "iframe"}
CONTAINERS = {"g", "a", "svg", "switch"}
_DRAWABLE = shapes.SHAPE_TAGS | CONTAINERS | {"use", "image", "text"}


def children_of(loader, node, style, viewport, depth, use_stack) -> list:
    """Scene objects of an element's children (<switch>: of its first passing child)."""
    out = []
    if node.tag == "switch":
        for child in node.children:
            if child.is_svg and child.tag in _DRAWABLE and conditions.passes(child):
                out += element(loader, child, style, viewport, depth + 1, use_stack)
                break
        return out
    for child in node.children:
        out += element(loader, child, style, viewport, depth + 1, use_stack)
    return out


def element(loader, node, parent_style, viewport, depth, use_stack, bare=False) -> list:
    """Scene objects (0, 1 or 2) for one element in rendering context.

    ``bare``: without the element's transform, clip-path and mask (the caller wraps the
    result in a Group that carries them). A failure inside becomes an SVGError naming the
    innermost element it happened in (errors already placed pass through)."""
    try:
        return _element(loader, node, parent_style, viewport, depth, use_stack, bare)
    except SVGError:
        raise
    except ValueError as e:
        raise SVGError(f"{describe(node)}: {e}") from e
    except (ArithmeticError, LookupError, TypeError, AttributeError, RecursionError) as e:
        raise SVGError(f"{describe(node)}: cannot be read ({type(e).__name__}: {str(e)[:200]})") from e


def _element(loader, node, parent_style, viewport, depth, use_stack, bare) -> list:
    if depth > MAX_DEPTH:
        raise SVGError(f"{describe(node)}: nesting (with <use>) deeper than {MAX_DEPTH} levels")
    if not node.is_svg:
        return []
    tag = node.tag
    if tag in UNSUPPORTED_ELEMENTS:
        loader.warn(f"{describe(node)}: <{tag}> is not supported (ignored)", key="element-" + tag)
        return []
    if tag not in _DRAWABLE:
        return []  # defs, gradients, style, title, unknown elements: nothing to draw
    if not conditions.passes(node):
        return []  # systemLanguage / requiredFeatures / requiredExtensions fail (conditions.py)
    style = computed(loader, node, parent_style)
    if style["display"] == "none":
        return []
    if style["filter"] != "none":
        loader.warn(f"{describe(node)}: filter is not supported (ignored)", key="prop-filter")
    transform = np.eye(3) if bare else transform_of(loader, node, style, viewport)
    masked = style["clip-path"] != "none" or style["mask"] != "none"
    if masked and not bare and (tag in shapes.SHAPE_TAGS or tag in ("svg", "image")):
        return blended(style, masked_element(loader, node, parent_style, style, viewport, depth, use_stack, transform))
    if tag == "image":
        return blended(style, images.image(loader, node, style, viewport, transform), bare)
    if tag in shapes.SHAPE_TAGS:
        return blended(style, shapes.shape(loader, node, style, viewport, transform, depth, use_stack), bare)
    if tag == "use":
        return use(loader, node, style, viewport, depth, use_stack, transform)
    if tag == "svg":
        return blended(style, nested_svg(loader, node, style, viewport, depth, use_stack, transform, None), bare)
    if tag == "text":   # glyph outlines as Paths (svg/text/), in a Group like a container's
        return group(loader, node, style, text_objects(loader, node, style, viewport), transform,
                     (viewport, depth, use_stack))
    children = children_of(loader, node, style, viewport, depth, use_stack)
    return group(loader, node, style, children, transform, (viewport, depth, use_stack))


def group(loader, node, style, children, transform, context=None) -> list:
    """[Group] of an element's children, with its opacity, and its clip-path and mask
    when ``context`` (viewport, depth, use_stack) is given; [] if nothing to draw."""
    opacity = layer_opacity(loader, node, style)
    if not children:
        return []
    clip = mask = None
    if context is not None and (style["clip-path"] != "none" or style["mask"] != "none"):
        got = clipmask.masking_of(loader, node, style, *context, children)
        if got is clipmask.INVALID:
            return []
        clip, mask = got
    return [S.Group(children=tuple(children), transform=transform, opacity=opacity, clip=clip, mask=mask,
                    blend_mode=style["mix-blend-mode"], isolation=style["isolation"], id=node.attrs.get("id"))]


def blended(style, objs: list, bare=False) -> list:
    """``objs`` (an element's scene objects) in a Group with the element's
    ``mix-blend-mode`` when it is not 'normal' (CSS: the element is blended as one layer);
    unchanged when ``bare`` (the caller's Group carries it) or the mode is 'normal'."""
    if bare or not objs or style["mix-blend-mode"] == "normal":
        return objs
    return [S.Group(children=tuple(objs), blend_mode=style["mix-blend-mode"], isolation=style["isolation"])]


def masked_element(loader, node, parent_style, style, viewport, depth, use_stack, transform) -> list:
    """A shape or nested <svg> with clip-path / mask: a Group with the element's
    transform, clip and mask around the element's own objects (in its user space)."""
    content = element(loader, node, parent_style, viewport, depth, use_stack, bare=True)
    if not content:
        return []
    got = clipmask.masking_of(loader, node, style, viewport, depth, use_stack, content)
    if got is clipmask.INVALID:
        return []
    clip, mask = got
    if clip is None and mask is None:   # the references were ignored
        return [S.replace(o, transform=transform @ np.asarray(o.transform, np.float64)) for o in content]
    return [S.Group(children=tuple(content), transform=transform, clip=clip, mask=mask)]


# ---------------------------------------------------------------------- use / svg


def use(loader, node, style, viewport, depth, use_stack, transform) -> list:
    """A <use>: a Group (x / y translate) of the referenced element."""
    if node.attrs.get("href", node.attrs.get("xlink:href")) is None:
        return []
    href = node.href()
    if not href.startswith("#"):
        loader.warn(f"{describe(node)}: external reference {href!r} is not loaded", key="use-external")
        return []
    target = loader.ids.get(href[1:])
    if target is None:
        loader.warn(f"{describe(node)}: href {href!r} names no element (ignored)")
        return []
    if target in use_stack or node.has_ancestor(target) or _recursive(loader, node):
        loader.warn(f"{describe(node)}: href {href!r} is a reference cycle (ignored)")
        return []
    if not target.is_svg or target.tag not in _DRAWABLE | {"symbol"}:
        return []
    if any(not a.is_svg for a in target.ancestors()):
        return []
    x = length(loader, node, "x", viewport, 0, 0.0)
    y = length(loader, node, "y", viewport, 1, 0.0)
    mat = transform @ translate(x, y)
    stack = use_stack + (target,)
    with reading_context(loader):   # the <use> is the context element of its content
        if target.tag in ("svg", "symbol"):
            size = (node.attrs.get("width"), node.attrs.get("height"))
            kids = nested_svg(loader, target, style, viewport, depth + 1, stack, np.eye(3), size, parent_is_use=True)
        else:
            kids = element(loader, target, style, viewport, depth + 1, stack)
    kids = with_context_paints(loader, node, style, kids)
    return group(loader, node, style, kids, mat, (viewport, depth, use_stack))


def _recursive(loader, use_node, path=()) -> bool:
    """True if expanding this <use> ever reaches itself, an ancestor, or a cycle."""
    memo = loader.use_recursion
    if id(use_node) in memo:
        return memo[id(use_node)]
    if len(path) > MAX_DEPTH:
        raise SVGError(f"{describe(use_node)}: <use> chain deeper than {MAX_DEPTH}")
    target = loader.referenced(use_node)
    result = False
    if target is not None:
        if target is use_node or target in path or use_node.has_ancestor(target) \
                or any(p.has_ancestor(target) or target is p for p in path):
            result = True
        else:
            for d in target.iter():
                if d.tag == "use" and d.is_svg and _recursive(loader, d, path + (use_node,)):
                    result = True
                    break
    memo[id(use_node)] = result
    return result


def nested_svg(loader, node, parent_style, viewport, depth, use_stack, transform, use_size,
               parent_is_use=False) -> list:
    """A nested <svg> (or a <symbol> a <use> names, ``use_size`` its width / height texts):
    a Group mapping its viewBox, clipped to its viewport where resvg clips."""
    style = computed(loader, node, parent_style) if parent_is_use else parent_style
    if style["display"] == "none":
        return []
    if node.tag == "symbol" and not parent_is_use:
        return []
    x = length(loader, node, "x", viewport, 0, 0.0)
    y = length(loader, node, "y", viewport, 1, 0.0)
    w = length(loader, node, "width", viewport, 0, None)
    h = length(loader, node, "height", viewport, 1, None)
    if use_size is not None:
        uw = axis_length(use_size[0], viewport, 0)
        uh = axis_length(use_size[1], viewport, 1)
        w = uw if uw is not None else w
        h = uh if uh is not None else h
    w = viewport[0] if w is None else w
    h = viewport[1] if h is None else h
    if w <= 0 or h <= 0:
        return []
    vb = viewbox(loader, node)
    to_viewport = translate(x, y)
    if vb:
        to_viewport = to_viewport @ viewbox_transform(vb, (0.0, 0.0, w, h), node.attrs.get("preserveAspectRatio", ""))
        inner = (vb[2], vb[3])
    else:
        inner = (w, h)
    kids = children_of(loader, node, style, inner, depth, use_stack)
    opacity = layer_opacity(loader, node, style)
    if not kids:
        return []
    rect = _viewport_rect(loader, node, x, y, w, h, use_size)
    clip = clipmask.viewport_clip(rect, to_viewport) if rect is not None else None
    return [S.Group(children=tuple(kids), transform=transform @ to_viewport, opacity=opacity, clip=clip,
                    id=node.attrs.get("id"))]


def _viewport_rect(loader, node, x, y, w, h, use_size):
    """The clip rectangle (x, y, w, h) of a nested viewport, or None (not clipped), as
    resvg decides: ``overflow`` visible / auto does not clip (hidden is the UA default
    for svg and symbol); an <svg> clips only with both width and height given (on it
    or on the referencing <use>); a <symbol> clips to the <use>'s rectangle."""
    if specified(loader, node).get("overflow", "hidden") in ("visible", "auto"):
        return None
    if node.tag == "symbol":
        return (0.0, 0.0, w, h)
    sized = use_size is not None and any(v is not None for v in use_size)
    if not sized and not ("width" in node.attrs and "height" in node.attrs):
        return None
    return (x, y, w, h)
