"""save_svg: diffvg_jax.Scene -> SVG text that load_svg reads back to the same arrays.

Every float32 leaf is written as the shortest decimal that reads back to the same float32;
values derived from two leaves (a rect's width = p_max - p_min) are written as exact
float64 decimals so that load_svg's float64 sum lands on the same float32. Gradients and
patterns are written to <defs> in userSpaceOnUse form with their full transform (a pattern's
static resolution as ``dv:resolution``). A Rect filled with an ImagePaint is written as an
<image> with a PNG data URI and its exact float32 arrays (``dv:pixels``; see svg/read/images.py). Per-point stroke widths
(which SVG cannot express) go to a ``dv:stroke-widths`` attribute in our namespace, with
their mean as the standard ``stroke-width`` for other viewers.

Clips and masks go to <defs> as <clipPath clipPathUnits="userSpaceOnUse"> with the full
transform and <mask maskUnits="userSpaceOnUse"> with the region, their content wrapped in a
<g dv:role="mask-content"> that carries the Mask's transform. Clip children are written
without paint (SVG ignores it; they load back with fill and stroke None) and with their
fill rule as ``clip-rule``. A Group inside a ClipPath is written as its shapes: a Group
without clip is flattened (exactly the same union); a clipped Group's shapes each get its
clip-path (the loader's own form, one shape with the identity transform, round-trips
exactly; several shapes give the same region, anti-aliased per shape).

A Group's ``blend_mode`` / ``isolation`` are written in its ``style`` attribute
(``mix-blend-mode`` and ``isolation`` are CSS properties, not presentation attributes), a
shape's ``shape_rendering`` as ``shape-rendering`` when it is not 'auto'.
"""
from __future__ import annotations

import base64
import io
import os
from typing import List, Optional, Tuple
from xml.sax.saxutils import quoteattr

import numpy as np
from PIL import Image

from .. import scene as S
from .dom.xmlsafe import DV_NS, MASK_CONTENT_ROLE, SVG_NS
from .errors import MAX_TEXT_CHARS
from .outlines import path_subpaths
from .values.colors import format_color, format_rgba
from .values.transforms import format_matrix
from .values.units import fmt32, fmt64


def save_svg(scene: S.Scene, target, *, display_size: Optional[Tuple[int, int]] = None) -> None:
    """Write ``scene`` as SVG to ``target``: a file path or a writable text stream.

    ``display_size``: optional (width, height) in CSS pixels at which viewers show the
    drawing; the canvas then becomes the ``viewBox`` (a 128 px fit shown at 512 px). Loading
    such a file gives a scene of the display size, drawn through the viewBox scale.

    Raises ValueError if the scene holds non-concrete arrays (tracers) or unknown objects,
    or if the text would be larger than load_svg reads (errors.MAX_TEXT_CHARS).
    """
    text = to_svg_text(scene, display_size=display_size)
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"save_svg: the SVG text would be {len(text)} characters; load_svg reads at most "
                         f"{MAX_TEXT_CHARS} (images with non-8-bit pixels are stored exactly, 16 bytes a pixel)")
    if hasattr(target, "write"):
        target.write(text)
        return
    with open(os.fspath(target), "w", encoding="utf-8") as f:
        f.write(text)


def to_svg_text(scene: S.Scene, *, display_size: Optional[Tuple[int, int]] = None) -> str:
    """The SVG document for ``scene`` as a string (``display_size``: see :func:`save_svg`)."""
    if not isinstance(scene, S.Scene):
        raise ValueError(f"save_svg: expected a diffvg_jax.Scene, got {type(scene).__name__}")
    w = _Writer()
    body = io.StringIO()
    for child in scene.children:
        w.node(child, body, 1)
    attrs = [f'xmlns="{SVG_NS}"', f'xmlns:dv="{DV_NS}"']
    if display_size is not None:
        if scene.width is None or scene.height is None:
            raise ValueError("save_svg: display_size needs a scene with width and height (its viewBox)")
        dw, dh = (int(v) for v in display_size)
        if dw <= 0 or dh <= 0:
            raise ValueError(f"save_svg: display_size must be positive, got {display_size!r}")
        attrs += [f'width="{dw}"', f'height="{dh}"', f'viewBox="0 0 {int(scene.width)} {int(scene.height)}"']
    else:
        if scene.width is not None:
            attrs.append(f'width="{int(scene.width)}"')
        if scene.height is not None:
            attrs.append(f'height="{int(scene.height)}"')
    bg = _arr(scene.background, "Scene.background")
    if bg.shape == (4,) and bg[3] != 0 or np.any(bg != 0):
        attrs.append(f'style="background-color: {format_rgba(bg)}"')
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', "<svg " + " ".join(attrs) + ">\n"]
    if w.defs:
        out.append("  <defs>\n")
        out += w.defs
        out.append("  </defs>\n")
    out.append(body.getvalue())
    out.append("</svg>\n")
    return "".join(out)


def _arr(x, what) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float32)
    except Exception as e:  # tracers and other abstract values
        raise ValueError(f"save_svg: {what} is not a concrete array ({type(x).__name__})") from e


def _nums(a) -> str:
    return " ".join(fmt32(v) for v in np.asarray(a, np.float32).ravel())


def _id_and_transform(obj, what) -> List[str]:
    """The id (when set) and transform attributes of a Group or shape."""
    parts = [f" id={quoteattr(obj.id)}"] if obj.id is not None else []
    parts.append(f' transform="{format_matrix(_arr(obj.transform, what))}"')
    return parts


class _Writer:
    def __init__(self):
        self.defs: List[str] = []
        self._ids = 0

    def node(self, obj, out, depth):
        pad = "  " * depth
        if isinstance(obj, S.Group):
            attrs = self._common_group(obj)
            out.write(f"{pad}<g{attrs}>\n")
            for child in obj.children:
                self.node(child, out, depth + 1)
            out.write(f"{pad}</g>\n")
            return
        if not isinstance(obj, S.SHAPE_TYPES):
            raise ValueError(f"save_svg: cannot write a {type(obj).__name__}")
        if is_image_rect(obj):
            out.write(pad + image_element(obj, _arr))
            return
        tag, geom = self._geometry(obj)
        out.write(f"{pad}<{tag}{geom}{self._style(obj)}/>\n")

    def _body(self, children, depth) -> str:
        """The text of scene objects written at indentation ``depth``."""
        body = io.StringIO()
        for child in children:
            self.node(child, body, depth)
        return body.getvalue()

    def _common_group(self, g):
        parts = _id_and_transform(g, "Group.transform")
        if g.opacity is not None:
            parts.append(f' opacity="{fmt32(_arr(g.opacity, "Group.opacity"))}"')
        if g.clip is not None:
            parts.append(f' clip-path="url(#{self._clip_def(g.clip)})"')
        if g.mask is not None:
            parts.append(f' mask="url(#{self._mask_def(g.mask)})"')
        # CSS properties, not presentation attributes: written in style (as SVG 2 reads them)
        css = [f"mix-blend-mode:{g.blend_mode}"] if g.blend_mode != "normal" else []
        css += [f"isolation:{g.isolation}"] if g.isolation != "auto" else []
        if css:
            parts.append(f' style="{";".join(css)}"')
        return "".join(parts)

    def _new_id(self, prefix):
        self._ids += 1
        return f"{prefix}-{self._ids}"

    def _clip_def(self, clip) -> str:
        """Write a ClipPath to <defs>; returns its id."""
        if not isinstance(clip, S.ClipPath):
            raise ValueError(f"save_svg: Group.clip is a {type(clip).__name__}, not a ClipPath")
        ident = self._new_id("dvclip")
        head = (f'    <clipPath id="{ident}" clipPathUnits="userSpaceOnUse" '
                f'transform="{format_matrix(_arr(clip.transform, "ClipPath.transform"))}"')
        if clip.clip is not None:
            head += f' clip-path="url(#{self._clip_def(clip.clip)})"'
        body = io.StringIO()
        for child in clip.children:
            self._clip_child(child, np.eye(3), body)
        self.defs.append(head + ">\n" + body.getvalue() + "    </clipPath>\n")
        return ident

    def _clip_child(self, obj, mat, out, clip_id=None):
        """One ClipPath child as shape elements; ``mat`` float64 (3, 3) accumulates the
        transforms of unclipped Groups (flattened: the union is the same)."""
        if isinstance(obj, S.Group):
            m = mat @ _arr(obj.transform, "Group.transform").astype(np.float64)
            if obj.clip is None:
                for child in obj.children:
                    self._clip_child(child, m, out, clip_id)
                return
            if clip_id is not None or any(not isinstance(c, S.SHAPE_TYPES) or
                                          np.any(_arr(c.transform, "transform") != np.eye(3)) for c in obj.children):
                raise ValueError("save_svg: a clipped Group inside a ClipPath must hold only shapes with the "
                                 "identity transform (SVG puts one clip-path on each clip shape)")
            ident = self._clip_def(obj.clip)
            for child in obj.children:
                self._clip_child(child, m, out, ident)
            return
        if not isinstance(obj, S.SHAPE_TYPES):
            raise ValueError(f"save_svg: cannot write a {type(obj).__name__} in a ClipPath")
        shape = S.replace(obj, fill=None, stroke=None,
                          transform=mat @ _arr(obj.transform, "transform").astype(np.float64))
        tag, geom = self._geometry(shape)
        extra = f' clip-rule="{shape.fill_rule}"'
        if clip_id is not None:
            extra += f' clip-path="url(#{clip_id})"'
        out.write(f"      <{tag}{geom}{self._style(shape)}{extra}/>\n")

    def _pattern_def(self, p) -> str:
        """Write a Pattern to <defs> in userSpaceOnUse form (x = y = 0, the full tile ->
        user transform as patternTransform, the static resolution as dv:resolution); returns
        its id. A degenerate pattern (size <= 0, singular transform, no children) loads back
        as paint none, which draws the same nothing."""
        ident = self._new_id("dvpat")
        w, h = _arr(p.size, "Pattern.size")
        head = (f'    <pattern id="{ident}" patternUnits="userSpaceOnUse" patternContentUnits="userSpaceOnUse" '
                f'x="0" y="0" width="{fmt32(w)}" height="{fmt32(h)}" '
                f'patternTransform="{format_matrix(_arr(p.transform, "Pattern.transform"))}"')
        if p.resolution is not None:
            head += f' dv:resolution="{int(p.resolution[0])} {int(p.resolution[1])}"'
        self.defs.append(f"{head}>\n{self._body(p.children, 3)}    </pattern>\n")
        return ident

    def _mask_def(self, mask) -> str:
        """Write a Mask to <defs>; returns its id."""
        if not isinstance(mask, S.Mask):
            raise ValueError(f"save_svg: Group.mask is a {type(mask).__name__}, not a Mask")
        ident = self._new_id("dvmask")
        head = f'    <mask id="{ident}" maskUnits="userSpaceOnUse" maskContentUnits="userSpaceOnUse"'
        if mask.region is None:
            head += ' dv:region="none"'
        else:
            x, y, w, h = _arr(mask.region, "Mask.region")
            head += f' x="{fmt32(x)}" y="{fmt32(y)}" width="{fmt32(w)}" height="{fmt32(h)}"'
        if mask.mask_type != "luminance":
            head += f' mask-type="{mask.mask_type}"'
        if mask.mask is not None:
            head += f' mask="url(#{self._mask_def(mask.mask)})"'
        t = format_matrix(_arr(mask.transform, "Mask.transform"))
        self.defs.append(f'{head}>\n      <g dv:role="{MASK_CONTENT_ROLE}" transform="{t}">\n'
                         f'{self._body(mask.children, 4)}      </g>\n    </mask>\n')
        return ident

    def _geometry(self, s):
        name = type(s).__name__
        if isinstance(s, S.Rect):
            lo = _arr(s.p_min, "Rect.p_min").astype(np.float64)
            hi = _arr(s.p_max, "Rect.p_max").astype(np.float64)
            cr = _arr(s.corner_radius, "Rect.corner_radius")
            size = hi - lo
            # x, y as exact float64 decimals too: load_svg sums x + width in float64
            g = (f' x="{fmt64(lo[0])}" y="{fmt64(lo[1])}" width="{fmt64(size[0])}" height="{fmt64(size[1])}"')
            if np.any(cr != 0):
                g += f' rx="{fmt32(cr[0])}" ry="{fmt32(cr[1])}"'
            return "rect", g
        if isinstance(s, S.Circle):
            c, r = _arr(s.center, "Circle.center"), _arr(s.radius, "Circle.radius")
            return "circle", f' cx="{fmt32(c[0])}" cy="{fmt32(c[1])}" r="{fmt32(r)}"'
        if isinstance(s, S.Ellipse):
            c, r = _arr(s.center, "Ellipse.center"), _arr(s.radius, "Ellipse.radius")
            return "ellipse", f' cx="{fmt32(c[0])}" cy="{fmt32(c[1])}" rx="{fmt32(r[0])}" ry="{fmt32(r[1])}"'
        if isinstance(s, (S.Polygon, S.Polyline)):
            pts = _arr(s.points, f"{name}.points")
            return name.lower(), f' points="{_nums(pts)}"'
        pts = _arr(s.points, "Path.points")
        if pts.ndim != 2 or pts.shape[0] != s.num_points():
            raise ValueError(f"save_svg: Path.points has shape {pts.shape}, the structure needs ({s.num_points()}, 2)")
        return "path", f' d="{path_data(pts, s.degrees, s.subpath_sizes, s.closed)}"'

    def _style(self, s):
        parts = _id_and_transform(s, "transform")
        parts.append(f' fill="{self._paint(s.fill)}"')
        parts.append(f' stroke="{self._paint(s.stroke)}"')
        sw = _arr(s.stroke_width, "stroke_width")
        if sw.ndim == 0:
            parts.append(f' stroke-width="{fmt32(sw)}"')
        else:
            parts.append(f' stroke-width="{fmt32(sw.mean())}" dv:stroke-widths="{_nums(sw)}"')
        parts.append(f' fill-opacity="{fmt32(_arr(s.fill_opacity, "fill_opacity"))}"')
        parts.append(f' stroke-opacity="{fmt32(_arr(s.stroke_opacity, "stroke_opacity"))}"')
        if s.opacity is not None:
            parts.append(f' opacity="{fmt32(_arr(s.opacity, "opacity"))}"')
        parts.append(f' fill-rule="{s.fill_rule}" stroke-linejoin="{s.line_join}" stroke-linecap="{s.line_cap}"'
                     f' stroke-miterlimit="{s.miter_limit!r}"')
        if s.paint_order == "stroke":
            parts.append(' paint-order="stroke"')
        if s.shape_rendering != "auto":
            parts.append(f' shape-rendering="{s.shape_rendering}"')
        return "".join(parts)

    def _paint(self, p):
        if p is None:
            return "none"
        if isinstance(p, S.Solid):
            return format_rgba(_arr(p.color, "Solid.color"))
        if isinstance(p, S.Pattern):
            return f"url(#{self._pattern_def(p)})"
        ident = f"dvgrad-{len(self.defs)}"
        offsets = _arr(p.offsets, "gradient offsets")
        colors = _arr(p.colors, "gradient colors")
        t = format_matrix(_arr(p.transform, "gradient transform"))
        if isinstance(p, S.LinearGradient):
            a, b = _arr(p.start, "start"), _arr(p.end, "end")
            head = (f'<linearGradient id="{ident}" gradientUnits="userSpaceOnUse" x1="{fmt32(a[0])}" '
                    f'y1="{fmt32(a[1])}" x2="{fmt32(b[0])}" y2="{fmt32(b[1])}"')
            tag = "linearGradient"
        elif isinstance(p, S.RadialGradient):
            c, f = _arr(p.center, "center"), _arr(p.focal, "focal")
            head = (f'<radialGradient id="{ident}" gradientUnits="userSpaceOnUse" cx="{fmt32(c[0])}" '
                    f'cy="{fmt32(c[1])}" r="{fmt32(_arr(p.radius, "radius"))}" fx="{fmt32(f[0])}" '
                    f'fy="{fmt32(f[1])}" fr="{fmt32(_arr(p.focal_radius, "focal_radius"))}"')
            tag = "radialGradient"
        else:
            raise ValueError(f"save_svg: unknown paint {type(p).__name__}")
        lines = [f'    {head} gradientTransform="{t}" spreadMethod="{p.spread}">\n']
        for off, col in zip(offsets.ravel(), colors.reshape(-1, 4)):
            lines.append(f'      <stop offset="{fmt32(off)}" stop-color="{format_color(col)}" '
                         f'stop-opacity="{fmt32(col[3])}"/>\n')
        lines.append(f"    </{tag}>\n")
        self.defs.append("".join(lines))
        return f"url(#{ident})"


def path_data(points: np.ndarray, degrees, subpath_sizes, closed) -> str:
    """SVG path data for diffvg_jax Path arrays (closed subpaths end with their start + Z)."""
    cmds = []
    letter = {1: "L", 2: "Q", 3: "C"}
    for sp in path_subpaths(points, degrees, subpath_sizes, closed):
        cmds.append("M " + _nums(sp.start))
        cmds += [letter[len(seg)] + " " + _nums(seg) for seg in sp.segments]
        if sp.closed:
            cmds.append("Z")
    return " ".join(cmds)


# ---------------------------------------------------------------------- <image>


def is_image_rect(obj) -> bool:
    """True for a shape save_svg writes as <image>: a shape whose fill is an ImagePaint."""
    return isinstance(getattr(obj, "fill", None), S.ImagePaint)


def encode_png(pixels) -> bytes:
    """8-bit RGBA PNG bytes of straight RGBA float (h, w, 4) (clipped to [0, 1], rounded)."""
    arr = np.clip(np.nan_to_num(np.asarray(pixels, np.float64)), 0.0, 1.0)
    out = io.BytesIO()
    Image.fromarray(np.round(arr * 255.0).astype(np.uint8), "RGBA").save(out, format="PNG")
    return out.getvalue()


def eight_bit(pixels: np.ndarray) -> bool:
    """True when float32 ``pixels`` are exactly what load_svg decodes from their 8-bit PNG
    (k / 255 in float32): then the PNG alone round-trips them, at a quarter of the size."""
    k = np.round(np.asarray(pixels, np.float64) * 255.0)
    return bool(np.all(np.isfinite(k)) and np.array_equal((k.astype(np.float32) / np.float32(255.0)), pixels))


def image_element(rect, arr) -> str:
    """The <image .../> text (no indentation) of a Rect filled with an ImagePaint, in the
    form svg/read/images.py reads back bit-identically. ``arr(x, what)``: the writer's
    concrete-float32 conversion."""
    if not isinstance(rect, S.Rect) or rect.stroke is not None or np.any(arr(rect.corner_radius, "corner_radius")):
        raise ValueError("save_svg: an ImagePaint can only be written as the fill of a Rect without stroke "
                         f"or rounded corners (an <image>), not on a {type(rect).__name__}")
    paint = rect.fill
    pixels = arr(paint.pixels, "ImagePaint.pixels")
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ValueError(f"save_svg: ImagePaint.pixels must have shape (h, w, 4), got {pixels.shape}")
    lo = arr(rect.p_min, "Rect.p_min").astype(np.float64)
    size = arr(rect.p_max, "Rect.p_max").astype(np.float64) - lo
    png_bytes = encode_png(pixels)
    png = base64.b64encode(png_bytes).decode("ascii")
    parts = []
    if rect.id is not None:
        parts.append(f" id={quoteattr(rect.id)}")
    parts.append(f' x="{fmt64(lo[0])}" y="{fmt64(lo[1])}" width="{fmt64(size[0])}" height="{fmt64(size[1])}"'
                 ' preserveAspectRatio="none"')
    parts.append(f' transform="{format_matrix(arr(rect.transform, "transform"))}"')
    if rect.opacity is not None:
        parts.append(f' opacity="{fmt32(arr(rect.opacity, "opacity"))}"')
    fo = arr(rect.fill_opacity, "fill_opacity")
    if fo != 1:
        parts.append(f' dv:fill-opacity="{fmt32(fo)}"')
    parts.append(f' dv:image-transform="{format_matrix(arr(paint.transform, "ImagePaint.transform"))}"')
    if not eight_bit(pixels):   # the PNG reads back to other numbers: keep the exact ones too
        raw = base64.b64encode(np.ascontiguousarray(pixels, dtype="<f4").tobytes()).decode("ascii")
        parts.append(f' dv:pixels="{pixels.shape[0]} {pixels.shape[1]} {raw}"')
    parts.append(f' href="data:image/png;base64,{png}"')
    return "<image" + "".join(parts) + "/>\n"
