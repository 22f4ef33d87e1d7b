"""Shaping: a run of characters in one face -> positioned glyphs, in font units.

``shape`` uses HarfBuzz (uharfbuzz): kerning, ligatures, marks, complex scripts, bidi
direction per run. ``shape_simple`` is the fontTools-only reference (cmap, hmtx and the
legacy ``kern`` table), kept to measure what HarfBuzz buys (notes/text.md).
"""
from __future__ import annotations

import io
from functools import lru_cache
from typing import List, NamedTuple, Tuple

import uharfbuzz as hb
from fontTools.ttLib import TTFont

from .fonts import Face


class Glyph(NamedTuple):
    """One shaped glyph: glyph id, cluster (index of its first character in the run),
    advance and offset (x, y) in font units (y up)."""

    gid: int
    cluster: int
    x_advance: float
    y_advance: float
    x_offset: float
    y_offset: float


class FontData(NamedTuple):
    """What layout needs of a face: the fontTools font (outlines, tables), the HarfBuzz
    font, units per em, and metrics in font units (y up)."""

    tt: TTFont
    hb_font: object
    upem: int
    ascent: float
    descent: float
    x_height: float
    cap_height: float
    underline_pos: float
    underline_thickness: float
    strike_pos: float
    strike_thickness: float


@lru_cache(maxsize=64)
def font_data(face: Face) -> FontData:
    """The loaded font of a face (cached for the process)."""
    with open(face.path, "rb") as f:
        data = f.read()
    tt = TTFont(io.BytesIO(data), fontNumber=face.index, lazy=True)
    hb_face = hb.Face(hb.Blob(data), face.index)
    upem = int(tt["head"].unitsPerEm)
    hb_font = hb.Font(hb_face)
    hb_font.scale = (upem, upem)
    if face.variations:
        hb_font.set_variations(dict(face.variations))
    os2 = tt["OS/2"] if "OS/2" in tt else None
    hhea = tt["hhea"]
    post = tt["post"] if "post" in tt else None
    ascent, descent = float(hhea.ascent), float(hhea.descent)
    if os2 is not None and os2.fsSelection & (1 << 7):   # USE_TYPO_METRICS
        ascent, descent = float(os2.sTypoAscender), float(os2.sTypoDescender)
    x_height = float(getattr(os2, "sxHeight", 0) or 0) if os2 is not None else 0.0
    cap = float(getattr(os2, "sCapHeight", 0) or 0) if os2 is not None else 0.0
    ul_pos = float(post.underlinePosition) if post is not None else -upem / 10
    ul_th = float(post.underlineThickness) if post is not None and post.underlineThickness > 0 else upem / 14
    st_pos = float(os2.yStrikeoutPosition) if os2 is not None else upem * 0.3
    st_th = float(os2.yStrikeoutSize) if os2 is not None and os2.yStrikeoutSize > 0 else ul_th
    return FontData(tt, hb_font, upem, ascent, descent, x_height or upem * 0.5, cap or upem * 0.7,
                    ul_pos, ul_th, st_pos, st_th)


def shape(face: Face, text: str, rtl: bool = False, features: Tuple[Tuple[str, bool], ...] = (),
          script: str = None, language: str = None) -> List[Glyph]:
    """Glyphs of ``text`` shaped with HarfBuzz in logical order for LTR, visual order
    (right to left) for RTL as HarfBuzz returns them; clusters index ``text``."""
    fd = font_data(face)
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    buf.direction = "rtl" if rtl else "ltr"
    if script:
        buf.script = script
    if language:
        buf.language = language
    hb.shape(fd.hb_font, buf, {k: v for k, v in features})
    return [Glyph(i.codepoint, i.cluster, float(p.x_advance), float(p.y_advance), float(p.x_offset),
                  float(p.y_offset)) for i, p in zip(buf.glyph_infos, buf.glyph_positions)]


def shape_simple(face: Face, text: str) -> List[Glyph]:
    """Glyphs of ``text`` from fontTools alone: one glyph per character from the cmap,
    hmtx advances, pair kerning from the legacy ``kern`` table (format 0) only."""
    tt = font_data(face).tt
    cmap = tt.getBestCmap() or {}
    order = tt.getGlyphOrder()
    hmtx = tt["hmtx"].metrics
    kern = {}
    if "kern" in tt:
        for sub in tt["kern"].kernTables:
            kern.update(getattr(sub, "kernTable", {}) or {})
    out, prev = [], None
    for i, ch in enumerate(text):
        name = cmap.get(ord(ch), ".notdef")
        if prev is not None and (prev, name) in kern and out:
            g = out[-1]
            out[-1] = g._replace(x_advance=g.x_advance + kern[(prev, name)])
        out.append(Glyph(tt.getGlyphID(name) if name in hmtx else 0, i, float(hmtx.get(name, (0, 0))[0]), 0.0,
                         0.0, 0.0))
        prev = name
    return out


def glyph_name(face: Face, gid: int) -> str:
    """The glyph name of a glyph id."""
    return font_data(face).tt.getGlyphName(gid)


def has_char(face: Face, char: str) -> bool:
    """Whether the face maps this character."""
    return ord(char) in face.codepoints


def variations_of(face: Face, weight: int, stretch_pct: float, style: str, size: float, settings: str) -> tuple:
    """Axis values of a variable face (() for a static one): wght / wdth / slnt / opsz from
    font-weight, font-stretch, font-style oblique and font-size (as resvg), then the
    font-variation-settings value ("'wght' 700, 'wdth' 50") on top, clamped to the axes."""
    tt = font_data(face).tt
    if "fvar" not in tt:
        return ()
    axes = {a.axisTag: (a.minValue, a.defaultValue, a.maxValue) for a in tt["fvar"].axes}
    want = {"wght": float(weight), "wdth": stretch_pct, "opsz": size}
    if style in ("oblique", "italic"):
        want["slnt"] = -14.0 if style == "oblique" else axes.get("slnt", (0, 0, 0))[0]
    for part in settings.split(","):
        bits = part.strip().split()
        if len(bits) == 2 and len(bits[0].strip("'\"")) == 4:
            try:
                want[bits[0].strip("'\"")] = float(bits[1])
            except ValueError:
                continue
    return tuple(sorted((k, min(max(v, axes[k][0]), axes[k][2])) for k, v in want.items() if k in axes))
