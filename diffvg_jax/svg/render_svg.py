"""render_svg: SVG text -> NumPy image, the callable ../shared/conformance/run.py takes."""
from __future__ import annotations

import numpy as np

from .. import scene as S
from ..raster import render
from .dom.xmlsafe import read_source
from .read import read_scene
from .values.transforms import scale


def fitted_size(doc_w: float, doc_h: float, width: int, height: int):
    """(scale, out_w, out_h): the document fitted into width x height, aspect kept."""
    s = min(width / doc_w, height / doc_h)
    return s, max(1, int(round(doc_w * s))), max(1, int(round(doc_h * s)))


def render_svg(svg_text: str, width: int, height: int, font_dirs=None) -> np.ndarray:
    """Render SVG text at ``width`` x ``height`` pixels.

    The document's own size (width / height / viewBox) is scaled uniformly to fit the box,
    as resvg's --width / --height do: a square document fills it exactly; a 2:1 document
    rendered at 300 x 300 gives a 300 x 150 image.

    ``font_dirs``: folders with fonts for <text>, as load_svg's (DIFFVG_FONT_DIRS is read too).

    Returns:
      float32 NumPy array (out_h, out_w, 4), straight (un-premultiplied) RGBA in [0, 1].
    """
    scene, doc_size = read_scene(read_source(svg_text), font_dirs=font_dirs)
    s, out_w, out_h = fitted_size(*doc_size, int(width), int(height))
    kids = _flatten(scene.children, np.asarray(scale(s), np.float32))
    scene = S.Scene(children=tuple(kids), background=scene.background, width=out_w, height=out_h)
    img = render(scene, width=out_w, height=out_h)
    return np.asarray(img, dtype=np.float32)


def _flatten(children, mat):
    """Push group transforms into the shapes and drop ids (static fields) so that documents
    with the same kinds of shapes share one compiled renderer: render_svg renders many
    one-off documents, and compilation, not rendering, dominates its time on CPU. Groups with
    an opacity, a blend mode or isolation stay groups (they composite as a layer); groups with a clip or a mask keep
    their transform too (clip and mask live in the group's space)."""
    out = []
    for c in children:
        if isinstance(c, S.Group):
            m = mat @ np.asarray(c.transform, np.float32)
            layer = dict(opacity=c.opacity, blend_mode=c.blend_mode, isolation=c.isolation)
            if c.clip is not None or c.mask is not None:
                out.append(S.Group(children=tuple(_flatten(c.children, np.eye(3, dtype=np.float32))), transform=m,
                                   clip=_flat_clip(c.clip), mask=_flat_mask(c.mask), **layer))
            elif c.opacity is None and c.blend_mode == "normal" and c.isolation == "auto":
                out += _flatten(c.children, m)
            else:
                out.append(S.Group(children=tuple(_flatten(c.children, m)), **layer))
        else:
            out.append(S.replace(c, transform=mat @ np.asarray(c.transform, np.float32), id=None))
    return out


def _flat_clip(clip):
    return _flat_holder(clip, "clip")


def _flat_mask(mask):
    return _flat_holder(mask, "mask")


def _flat_holder(holder, nested: str):
    """A ClipPath / Mask with its children flattened, and so its nested ``clip`` / ``mask``."""
    if holder is None:
        return None
    return S.replace(holder, children=tuple(_flatten(holder.children, np.eye(3, dtype=np.float32))),
                     **{nested: _flat_holder(getattr(holder, nested), nested)})
