"""<image> elements for load_svg (functions taking the Loader first); save_svg's side is
``write.image_element``.

An ``<image x y width height preserveAspectRatio transform opacity href>`` with raster data
becomes a :class:`diffvg_jax.Rect` filled with a :class:`diffvg_jax.ImagePaint`:

  * href (SVG 2, preferred) or xlink:href: a ``data:image/png`` or ``data:image/jpeg`` URI
    (base64 or percent-encoded), or a relative file path resolved against the folder of
    the SVG file when load_svg was given a path (paths leaving that folder, absolute paths
    and URLs with a scheme are not read: http(s) is never fetched). PNG and JPEG only,
    decoded by Pillow into straight RGBA float32 in [0, 1]; at most MAX_IMAGE_SIDE pixels
    per side. PNG, JPEG, GIF and WebP (first frame), decoded by Pillow; a data URI without
    a type (``text/plain``) is sniffed from its magic bytes, else read as SVG (resvg);
  * SVG images (``image/svg+xml``, ``.svg`` / ``.svgz`` files, or sniffed): the document is
    read as a separate document (no styles or ids shared; secure mode: its own <image>s
    read data URIs only, never files) through ``Loader.image_document``, placed like a
    raster of its intrinsic size (its width / height, as the root's canvas) and clipped to
    the placed canvas within the viewport: a Group with a ClipPath;
  * width / height missing or ``auto``: the image's intrinsic size (one given: the other
    follows the aspect ratio);
  * ImagePaint.transform = viewbox_transform((0, 0, w_px, h_px), viewport,
    preserveAspectRatio): image pixels -> user space; the Rect is the viewport intersected
    with the placed image (``meet``: the image, ``slice``: the viewport, which clips it);
  * transform -> Rect.transform, opacity -> Rect.opacity; image-rendering is ignored;
  * anything wrong (broken data URI, undecodable or too large image, missing file, ...) warns
    naming the element, and nothing is drawn.

save_svg writes such a Rect (no stroke, square corners) back as an <image> with x, y,
width, height = the Rect, preserveAspectRatio="none" and a PNG data URI (8 bits: what other
viewers see), plus, in our namespace, ``dv:image-transform`` (the ImagePaint.transform,
used whatever the pixels come from), ``dv:fill-opacity`` when not 1 and, only when the
pixels are not exactly 8-bit values (k / 255, what a decoded PNG gives), the exact float32
pixels ``dv:pixels="h w BASE64"`` (raw little-endian float32 RGBA, row-major) that load_svg
then prefers. So ``load_svg(save_svg(scene))`` is bit-identical, and an image read from a
PNG is written as that PNG alone. Other viewers draw the PNG stretched over the
Rect, which is the same picture when the Rect is the placed image (``meet`` / ``none``).
"""
from __future__ import annotations

import base64
import binascii
import gzip
import io
import os
import re
import urllib.parse
import warnings
import zlib

import numpy as np
from PIL import Image

from ... import scene as S
from ..dom.xmlsafe import read_regular_file
from ..errors import describe
from ..values.transforms import parse_transform, viewbox_transform
from ..values.units import parse_opacity
from .coords import length, positive32
from .markers import strip_ids
from .styles import layer_opacity

MAX_IMAGE_SIDE = 4096                  # decoded pixels per side
MAX_IMAGE_BYTES = 64 * 1024 * 1024     # an image file read from disk
_MIMES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/jpg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
_RASTERS = tuple(sorted(set(_MIMES.values())))
_SVG_MIME = "image/svg+xml"
MAX_SVGZ_BYTES = 64 * 1024 * 1024      # a decompressed .svgz image
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def source_dir(source):
    """The folder of the SVG file when ``source`` is a path (as read_source reads it), else None."""
    if isinstance(source, os.PathLike) or (isinstance(source, str) and "<" not in source):
        return os.path.dirname(os.path.abspath(os.fspath(source)))
    return None


def is_raster(data: bytes) -> bool:
    """Whether ``data`` starts with the magic bytes of a PNG, JPEG, GIF or WebP image."""
    return (data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or data[:4] == b"GIF8"
            or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"))


def decode_image(data: bytes) -> np.ndarray:
    """Straight RGBA float32 (h, w, 4) in [0, 1] of PNG / JPEG / GIF / WebP bytes (a GIF's
    first frame); ValueError saying why not.

    The size in the header is checked before anything is decoded, and every Pillow error
    (DecompressionBombError, truncated data, ...) becomes a ValueError."""
    if data.lstrip()[:1] == b"<":
        raise ValueError("an SVG document, not a raster image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # Pillow's DecompressionBombWarning: we check the size
            im = Image.open(io.BytesIO(data))
            if im.format not in _RASTERS:
                raise ValueError(f"{im.format} images are not supported ({', '.join(_RASTERS)})")
            w, h = im.size
            if not (1 <= w <= MAX_IMAGE_SIDE and 1 <= h <= MAX_IMAGE_SIDE):
                raise ValueError(f"image size {w} x {h} is outside 1 .. {MAX_IMAGE_SIDE} pixels per side")
            rgba = np.asarray(im.convert("RGBA"), dtype=np.float32)
    except ValueError:
        raise
    except Exception as e:   # Pillow raises many kinds (OSError, SyntaxError, DecompressionBombError, ...)
        raise ValueError(f"not a decodable {'/'.join(_RASTERS)} image ({type(e).__name__}: {str(e)[:80]})") from None
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"not a decodable {'/'.join(_RASTERS)} image")
    return rgba / np.float32(255.0)


def image(loader, node, style, viewport, transform) -> list:
    """[Rect filled with an ImagePaint], [Group] of an SVG image, or [] (with a warning when
    broken)."""
    if style["visibility"] != "visible":
        return []
    exact = _exact_pixels(loader, node)
    content = exact if exact is not None else _href_content(loader, node)
    if content is None:
        return []
    iw, ih = (content.shape[1], content.shape[0]) if isinstance(content, np.ndarray) else content[1]
    L = lambda attr, axis: (None if (node.attrs.get(attr) or "auto").strip() == "auto"
                            else length(loader, node, attr, viewport, axis, None, style))
    x, y = L("x", 0) or 0.0, L("y", 1) or 0.0
    w, h = L("width", 0), L("height", 1)
    if w is None and h is None:
        w, h = float(iw), float(ih)
    elif w is None:
        w = h * iw / ih
    elif h is None:
        h = w * ih / iw
    if w <= 0 or h <= 0:
        if w < 0 or h < 0:
            loader.warn(f"{describe(node)}: negative width or height (not rendered)")
        return []
    image_t = _exact_transform(loader, node) if isinstance(content, np.ndarray) else None
    if image_t is not None:
        lo, hi = [x, y], [x + w, y + h]   # float64 sums, as for <rect>: exact round trip
    else:
        image_t = viewbox_transform((0.0, 0.0, float(iw), float(ih)), (x, y, w, h),
                                    node.attrs.get("preserveAspectRatio", ""))
        ext = (image_t[0, 2], image_t[1, 2], image_t[0, 2] + image_t[0, 0] * iw,
               image_t[1, 2] + image_t[1, 1] * ih)
        lo = [max(x, ext[0]), max(y, ext[1])]
        hi = [min(x + w, ext[2]), min(y + h, ext[3])]
    if not positive32(lo, hi):
        return []
    opacity = layer_opacity(loader, node, style)
    if not isinstance(content, np.ndarray):
        return _svg_image(loader, node, content, image_t, lo, hi, transform, opacity)
    fill_opacity = 1.0
    if "dv:fill-opacity" in node.attrs:
        got = parse_opacity(node.attrs["dv:fill-opacity"])
        fill_opacity = 1.0 if got is None else got
    loader.count_shape(node)
    paint = S.ImagePaint(pixels=content, transform=image_t)
    return [S.Rect(p_min=lo, p_max=hi, corner_radius=[0.0, 0.0], fill=paint, stroke=None,
                   fill_opacity=fill_opacity, opacity=opacity, transform=transform,
                   id=node.attrs.get("id"))]


def _svg_image(loader, node, content, image_t, lo, hi, transform, opacity) -> list:
    """[Group] drawing an SVG image's scene: its canvas placed by ``image_t`` (the image's
    user space), clipped to the rectangle ``lo`` .. ``hi`` (the placed canvas within the
    viewport), with the element's transform and opacity."""
    scene, _, shapes, points = content
    if not scene.children:
        return []
    loader.count_points(node, points)
    for _ in range(max(shapes, 1)):
        loader.count_shape(node)
    inner = S.Group(children=tuple(strip_ids(c) for c in scene.children), transform=image_t)
    clip = S.ClipPath(children=(S.Rect(p_min=lo, p_max=hi),))
    return [S.Group(children=(inner,), transform=transform, opacity=opacity, clip=clip,
                    id=node.attrs.get("id"))]


# ------------------------------------------------------------------ exact (dv:) form


def _exact_pixels(loader, node):
    text = node.attrs.get("dv:pixels")
    if text is None:
        return None
    try:
        h_txt, w_txt, data = text.split(None, 2)
        h, w = int(h_txt), int(w_txt)
        if not (1 <= h <= MAX_IMAGE_SIDE and 1 <= w <= MAX_IMAGE_SIDE):
            raise ValueError
        raw = base64.b64decode("".join(data.split()), validate=True)
        if len(raw) != h * w * 16:
            raise ValueError
        arr = np.frombuffer(raw, dtype="<f4").reshape(h, w, 4).astype(np.float32)
        if not np.all(np.isfinite(arr)):
            raise ValueError
        return arr
    except (ValueError, binascii.Error):
        loader.warn(f"{describe(node)}: bad dv:pixels (using href)")
        return None


def _exact_transform(loader, node):
    text = node.attrs.get("dv:image-transform")
    if text is None:
        return None
    try:
        return parse_transform(text)
    except ValueError:
        loader.warn(f"{describe(node)}: bad dv:image-transform (using preserveAspectRatio)")
        return None


# ------------------------------------------------------------------ href


def _href_content(loader, node):
    """The pixels (float32 (h, w, 4)) or the SVG image (what ``Loader.image_document``
    returns: scene, (w, h), shapes, points) an <image>'s href names, or None (warned)."""
    href = node.href()
    where = describe(node)
    if not href:
        loader.warn(f"{where}: no href (not rendered)")
        return None
    scheme = _SCHEME.match(href)
    try:
        if scheme and scheme.group(1).lower() == "data":
            kind, data = _data_uri(href)
        elif scheme and len(scheme.group(1)) > 1:   # (one letter: a Windows drive, a path)
            loader.warn(f"{where}: href {href[:80]!r} is not loaded ({scheme.group(1)} URLs are never fetched)")
            return None
        else:
            kind, data = _read_file(loader, href)
        if kind == "svg":
            if loader.image_document is None:
                raise ValueError("SVG images are not read here")
            return loader.image_document(_gunzip(data, href) if data[:2] == b"\x1f\x8b" else data)
        return decode_image(data)
    except ValueError as e:
        loader.warn(f"{where}: {e} (not rendered)")
        return None


def _data_uri(href: str):
    """('raster' | 'svg', bytes) of an image data: URI; ValueError saying why not. A URI
    without a type (text/plain) is a raster when its bytes say so, else SVG (resvg)."""
    header, comma, payload = href[5:].partition(",")
    if not comma:
        raise ValueError("broken data URI (no comma)")
    parts = [p.strip().lower() for p in header.split(";")]
    mime = parts[0] or "text/plain"
    if mime not in _MIMES and mime not in (_SVG_MIME, "text/plain"):
        raise ValueError(f"data URI of type {mime!r} is not supported (image/png, image/jpeg, image/gif, "
                         "image/webp, image/svg+xml)")
    if "base64" in parts[1:]:
        try:
            data = base64.b64decode("".join(payload.split()), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("broken base64 in the data URI") from None
    else:
        data = urllib.parse.unquote_to_bytes(payload)
    if mime == "text/plain":
        return ("raster" if is_raster(data) else "svg"), data
    return ("svg" if mime == _SVG_MIME else "raster"), data


def _read_file(loader, href):
    """('raster' | 'svg', bytes) of a relative image file (.svg / .svgz: SVG, maybe gzipped)."""
    base = loader.base_dir
    path = urllib.parse.unquote(href.split("#", 1)[0].split("?", 1)[0])
    if base is None:
        raise ValueError(f"file href {href[:80]!r} needs load_svg to be given the SVG's path")
    if os.path.isabs(path) or re.match(r"^[a-zA-Z]:", path):
        raise ValueError(f"absolute file href {href[:80]!r} is not loaded (relative paths only)")
    root = os.path.realpath(base)
    full = os.path.realpath(os.path.join(root, path))
    if os.path.commonpath([root, full]) != root:
        raise ValueError(f"file href {href[:80]!r} leaves the SVG's folder (not loaded)")
    data = read_regular_file(full, MAX_IMAGE_BYTES, f"image file {href[:80]!r}")
    return ("svg" if path.lower().endswith((".svg", ".svgz")) else "raster"), data


def _gunzip(data: bytes, href: str) -> bytes:
    """The decompressed bytes of a gzipped SVG (.svgz), at most MAX_SVGZ_BYTES; ValueError if broken."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(MAX_SVGZ_BYTES + 1)
    except (OSError, EOFError, zlib.error):
        raise ValueError(f"image {href[:80]!r} is not a gzip-compressed SVG") from None
    if len(out) > MAX_SVGZ_BYTES:
        raise ValueError(f"image {href[:80]!r} decompresses to more than {MAX_SVGZ_BYTES} bytes")
    return out
