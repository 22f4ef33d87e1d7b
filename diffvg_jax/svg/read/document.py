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
  * arcs become cubics within values.paths.ARC_TOLERANCE.
  * <pattern> paints become Pattern paints (see patterns.py).
  * <image> (PNG / JPEG data URIs, relative files) becomes a Rect filled with an ImagePaint
    (see images.py).
Unsupported features warn once each (SVGWarning) and the rest of the drawing is kept.
"""
from __future__ import annotations

import functools
import math
import os
from typing import Optional, Tuple

import numpy as np

from ... import scene as S
from ..dom.xmlsafe import read_source
from ..errors import MAX_CANVAS, SVGError, describe
from ..values.colors import parse_color
from ..values.transforms import viewbox_transform
from ..values.units import parse_length
from .images import source_dir
from . import clipmask, conditions
from .coords import viewbox
from .expansion import check_expansion
from .finite import check_scene
from .loader import Loader
from .styles import computed, layer_opacity, specified

Size = Tuple[float, float]
MAX_IMAGE_NESTING = 4   # SVG images inside SVG images, levels


def load_svg(source, font_dirs=None) -> S.Scene:
    """Read an SVG document into a :class:`diffvg_jax.Scene`.

    Args:
      source: a file path, the SVG text itself (anything containing '<'), bytes, or a
        readable stream.
      font_dirs: a folder or a list of folders with font files for <text> (searched
        before the folders of the DIFFVG_FONT_DIRS environment variable and the shipped
        default font; see notes/text.md). Text becomes Paths of glyph outlines.
    Returns:
      Scene with ``width`` / ``height`` set from the document (pixels, ints).
    Raises:
      ValueError naming the problem (malformed XML, bad root size, limits exceeded, ...).
    Warns:
      SVGWarning for ignored features and repaired input (one per feature).
    """
    # base_dir: for <image> hrefs that are relative file paths
    base_dir = source_dir(source)
    where = repr(os.fspath(source)) if base_dir is not None else None
    try:
        return read_scene(read_source(source), base_dir=base_dir, where=where, font_dirs=font_dirs)[0]
    except SVGError as e:
        if where is None or str(e).startswith(where):
            raise
        raise SVGError(f"{where}: {e}") from e
    except ValueError as e:
        raise SVGError(f"{where}: {e}" if where else str(e)) from e


def document_size(scene_or_text) -> Size:
    """Float canvas size (width, height) of an SVG text (before rounding to pixels)."""
    return read_scene(read_source(scene_or_text))[1]


def read_scene(text: str, base_dir: Optional[str] = None, where: Optional[str] = None,
               font_dirs=None) -> Tuple[S.Scene, Size]:
    """(Scene, float canvas size (w, h) in px before rounding) of SVG ``text``;
    ``base_dir``: the folder relative <image> file hrefs resolve against (None: not read);
    ``font_dirs``: folders with fonts for <text> (see load_svg)).

    Every failure is a ValueError (an SVGError naming the place where it can): exceptions
    of other kinds from anything underneath (the XML parser, Pillow, NumPy, memory) are
    turned into one, naming ``where`` (the file) and the exception's type."""
    loader, scene = _loaded(text, base_dir, where, font_dirs, 0)
    return scene, loader.doc_size


def _loaded(text, base_dir, where, font_dirs, image_depth):
    """(Loader, Scene) of SVG ``text`` (read_scene); ``image_depth``: how many SVG images
    the document is nested in (image_document)."""
    try:
        # NumPy's overflow / invalid warnings are not SVGWarnings: what they flag (inf, nan)
        # is refused by the finite checks, which name the element
        with np.errstate(all="ignore"):
            loader = Loader(text, base_dir, font_dirs)
            loader.image_document = functools.partial(image_document, font_dirs=font_dirs,
                                                      depth=image_depth + 1)
            check_expansion(loader)
            scene = root_scene(loader)
            check_scene(scene)
    except ValueError:
        raise
    except Exception as e:   # the edge: no foreign exception leaves load_svg
        place = f"{where}: " if where else ""
        raise SVGError(f"{place}cannot read the SVG ({type(e).__name__}: {str(e)[:200]})") from e
    return loader, scene


def image_document(data: bytes, font_dirs=None, depth: int = 1):
    """An SVG document used by an <image> (``data``: its bytes), read as its own document
    in secure mode (its relative file hrefs are not read: no base_dir): (Scene, float
    canvas size (w, h), shapes, points it holds). ValueError when it cannot be read or SVG
    images nest deeper than MAX_IMAGE_NESTING."""
    if depth > MAX_IMAGE_NESTING:
        raise ValueError(f"SVG images nested deeper than {MAX_IMAGE_NESTING} levels (not read)")
    try:
        loader, scene = _loaded(read_source(data), None, None, font_dirs, depth)
    except ValueError as e:
        raise ValueError(f"SVG image: {e}") from None
    return scene, loader.doc_size, loader.shape_count, loader.point_count


def root_scene(loader: Loader) -> S.Scene:
    """The Scene of the loader's document: the root <svg>'s size, viewBox and opacity
    (one root Group), background-color, and its children."""
    root = loader.root
    style = computed(loader, root, None)
    width, height, vb = _canvas(loader, root, float(style["font-size"]))
    loader.doc_size = (width, height)
    viewport = (vb[2], vb[3]) if vb else (width, height)
    # display:none or failing conditions (systemLanguage, ...) on the root hide the whole
    # document (resvg renders nothing)
    hidden = style["display"] == "none" or not conditions.passes(root)
    children = [] if hidden else loader.children_of(root, style, viewport, 0, ())
    children = _root_masking(loader, root, style, viewport, children)
    # The root group carries the viewBox mapping and the root's opacity (a layer, as on
    # any group). None for an empty document, so that save -> load gives the same tree.
    opacity = layer_opacity(loader, root, style)
    if children and (vb or opacity is not None):
        try:
            mat = (viewbox_transform(vb, (0.0, 0.0, width, height), root.attrs.get("preserveAspectRatio", ""))
                   if vb else np.eye(3))
        except ValueError as e:
            raise SVGError(f"{describe(root)}: viewBox: {e}") from None
        children = [S.Group(children=tuple(children), transform=mat, opacity=opacity, id=root.attrs.get("id"))]
    background = (0.0, 0.0, 0.0, 0.0)
    bg = specified(loader, root).get("background-color")
    if bg:
        try:
            background = parse_color(bg)
        except ValueError:
            loader.warn(f"<svg>: bad background-color {bg!r} ignored")
    return S.Scene(children=tuple(children), background=background,
                   width=max(1, int(math.ceil(width - 1e-6))), height=max(1, int(math.ceil(height - 1e-6))))


def _root_masking(loader, root, style, viewport, children) -> list:
    """The root's children under its own clip-path / mask (in the viewBox's user space,
    inside the viewBox mapping, as resvg applies them); [] when the reference makes the
    document invalid (a clipPath of the wrong kind, ...: clipmask.masking_of)."""
    if not children or (style["clip-path"] == "none" and style["mask"] == "none"):
        return children
    got = clipmask.masking_of(loader, root, style, viewport, 0, (), children)
    if got is clipmask.INVALID:
        return []
    clip, mask = got
    if clip is None and mask is None:
        return children
    return [S.Group(children=tuple(children), clip=clip, mask=mask)]


def _canvas(loader, root, fs):
    """(width, height, viewBox or None) of the root <svg>, px; ValueError if unusable."""
    vb = viewbox(loader, root)
    w_attr, h_attr = root.attrs.get("width"), root.attrs.get("height")
    width = _root_length(loader, w_attr, vb[2] if vb else None, fs, "width")
    height = _root_length(loader, h_attr, vb[3] if vb else None, fs, "height")
    if width is None and height is None:
        width = height = 100.0
    elif width is None:
        width = height * (vb[2] / vb[3]) if vb else 100.0
    elif height is None:
        height = width * (vb[3] / vb[2]) if vb else 100.0
    if not (width > 0 and height > 0):
        raise SVGError(f"<svg>: canvas size {width!r} x {height!r} must be positive")
    if width > MAX_CANVAS or height > MAX_CANVAS:
        raise SVGError(f"<svg>: canvas size {width:g} x {height:g} exceeds {MAX_CANVAS} px")
    return width, height, vb


def _root_length(loader, text, vb_len, fs, what):
    if text is None:
        return vb_len
    try:
        if text.strip().endswith("%"):
            base = vb_len if vb_len is not None else 100.0
            return parse_length(text, percent_of=base, font_size=fs)
        return parse_length(text, font_size=fs)
    except ValueError as e:
        loader.warn(f"<svg>: {what}: {e}; using the default")
        return vb_len
