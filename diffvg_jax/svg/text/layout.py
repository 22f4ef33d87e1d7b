"""Layout of a <text>'s characters into placed glyphs (SVG 1.1 section 10 / SVG 2 chapter
11, as resvg does it): text chunks start at each absolutely positioned character and at
<textPath> boundaries; a chunk is shaped in runs (one span, one face), advanced with
dx / dy, letter- and word-spacing, anchored (text-anchor), then mapped to user space
(straight, or along a path). Units: user units, y down; glyph matrices map font units.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from ..values.units import parse_length
from .collect import TextContent
from .fonts import Face, FontLibrary
from .outlines import glyph_matrix
from .shaping import font_data, shape
from .spanfont import SpanFont, char_face
from .vertical import is_upright, is_vertical, upright, vertical_frame

RTL_SCRIPTS = {"Arab", "Hebr", "Syrc", "Thaa", "Nkoo"}


@dataclass
class Placed:
    """One glyph: span index, face, glyph id, float64 (3, 3) font units -> user units."""

    span: int
    face: Face
    gid: int
    matrix: np.ndarray


@dataclass
class Cluster:
    """One cluster in a chunk's local frame (x along the line, y down): first character,
    span, x extent with spacing, pen y, and the glyphs (span, face, gid, scale, x, y,
    rotate), relative to the cluster origin until the chunk is positioned."""

    char: int
    span: int
    x0: float
    x1: float
    y: float
    glyphs: list = field(default_factory=list)
    width: float = 0.0       # advance along the line, user units
    rise: float = 0.0        # advance across it (y), user units
    spacing: float = 0.0     # letter / word spacing (or textLength's gap) after it
    stretch: float = 1.0     # lengthAdjust=spacingAndGlyphs scale along the line


@dataclass
class Chunk:
    """A text chunk: its clusters, local start (x, y), and the <textPath> span or None."""

    clusters: List[Cluster]
    x: float
    y: float
    text_path: object = None
    anchor: str = "start"
    frame: Optional[Callable] = None    # distance along the line -> (3, 3) path frame


def chunk_starts(content: TextContent) -> List[int]:
    """Indices of the characters that start a chunk."""
    out = []
    for i in range(len(content.chars)):
        tp = content.spans[content.span_of[i]].text_path
        prev_tp = content.spans[content.span_of[i - 1]].text_path if i else None
        if i == 0 or content.x[i] is not None or content.y[i] is not None or tp is not prev_tp:
            out.append(i)
    return out


def _directions(chars: List[str], base_rtl: bool) -> List[bool]:
    """Per character: right to left? Strong characters (bidi classes R / AL vs L) give their
    own; neutrals and weak ones take their neighbours' when both agree, else the base
    direction (UAX #9 rules N1 / N2, without embeddings or numbers' special cases)."""
    strong = [True if unicodedata.bidirectional(c) in ("R", "AL") else
              False if unicodedata.bidirectional(c) == "L" else None for c in chars]
    out = list(strong)
    for i, d in enumerate(strong):
        if d is None:
            before = next((x for x in reversed(strong[:i]) if x is not None), base_rtl)
            after = next((x for x in strong[i + 1:] if x is not None), base_rtl)
            out[i] = before if before == after else base_rtl
    return out


def _runs(content: TextContent, library: FontLibrary, fonts: Dict[int, SpanFont], a: int, b: int,
          base_rtl: bool = False):
    """(start, end, span, face, rtl) runs of characters [a, b) shaped together: one face,
    font size, feature set and direction (spans that differ only in paint shape as one run,
    so kerning and ligatures cross them), in visual order (all reversed for an rtl base)."""
    runs, prev = [], None
    dirs = _directions(content.chars[a:b], base_rtl)
    for i in range(a, b):
        sp = content.span_of[i]
        f = fonts[sp]
        face = char_face(library, content.chars[i], f.face, prev)
        prev = face
        key = (face, f.size, f.features, dirs[i - a])
        if runs and runs[-1][4] == key:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1, sp, face, key])
    runs = [r[:4] + [r[4][3]] for r in runs]
    return runs[::-1] if base_rtl else runs


def _shaped(content, start, end, span_font_, face, rtl):
    """HarfBuzz glyphs of a run (right to left in visual order, as HarfBuzz gives)."""
    text = "".join(content.chars[start:end])
    return shape(face, text, rtl=rtl, features=span_font_.features)


def _clusters(content: TextContent, library, fonts, a: int, b: int) -> List[Cluster]:
    """Clusters of characters [a, b) with their glyphs relative to the cluster origin, raw
    advance ``width`` and the letter / word spacing after them (not yet positioned)."""
    clusters: List[Cluster] = []
    base_rtl = content.spans[content.span_of[a]].style["direction"].strip() == "rtl"
    for start, end, sp, face, rtl in _runs(content, library, fonts, a, b, base_rtl):
        f = fonts[sp]
        glyphs = _shaped(content, start, end, f, face, rtl)
        scale = f.scale if face == f.face else f.size / font_data(face).upem
        for k, g in enumerate(glyphs):
            ci = start + g.cluster
            sp = content.span_of[ci]
            f = fonts[sp]
            if not clusters or clusters[-1].char != ci or clusters[-1].span != sp:
                clusters.append(Cluster(ci, sp, 0.0, 0.0, 0.0))
            cl = clusters[-1]
            cl.glyphs.append((sp, face, g.gid, scale, cl.width + g.x_offset * scale,
                              cl.rise - g.y_offset * scale + f.baseline, content.rotate[ci] or 0.0))
            cl.width += g.x_advance * scale
            cl.rise -= g.y_advance * scale
            if k == len(glyphs) - 1 or glyphs[k + 1].cluster != g.cluster:
                spaced = f.letter_spacing if _spaced_script(content.chars[ci]) else 0.0
                cl.spacing = spaced + (f.word_spacing if content.chars[ci] == " " else 0.0)
    if clusters:   # no letter-spacing after the last cluster (it would move the anchor), as resvg
        last = clusters[-1]
        last.spacing -= fonts[last.span].letter_spacing if _spaced_script(content.chars[last.char]) else 0.0
    return clusters


_CURSIVE = ("ARABIC", "SYRIAC", "NKO", "MONGOLIAN", "DEVANAGARI", "BENGALI", "GURMUKHI", "OGHAM",
            "MANDAIC", "PHAGS-PA")


def _spaced_script(ch: str) -> bool:
    """Whether letter-spacing applies to a character (not to cursive scripts, as resvg)."""
    return not unicodedata.name(ch, "").startswith(_CURSIVE)


def _length_adjust(clusters: List[Cluster], lengths) -> None:
    """textLength (resvg's rules): ``lengths`` = (start, end, target, adjust) per element;
    'spacing' sets the gaps so that the element's clusters span ``target``,
    'spacingAndGlyphs' scales them along the line."""
    for start, end, target, adjust in lengths:
        mine = [c for c in clusters if start <= c.char < end]
        if not mine:
            continue
        width = sum(c.width for c in mine)
        if adjust == "spacingAndGlyphs":
            factor = target / width if width > 0 else 0.0
            if factor < 1e-3:
                continue
            for c in mine:
                c.stretch = factor
                c.spacing = 0.0
        else:
            extra = (target - width) / (len(mine) - 1) if len(mine) > 1 else 0.0
            for c in mine:
                c.spacing = extra


def layout_chunk(content: TextContent, library, fonts, a: int, b: int, pen: Tuple[float, float],
                 lengths=(), vertical: bool = False) -> Chunk:
    """Shape and advance the characters [a, b) from ``pen`` (local x, y); ``lengths``:
    the textLength adjustments (see _length_adjust). ``vertical``: the local frame is the
    user frame turned 90 degrees, so dy runs along the line and dx across it."""
    x, y = pen
    clusters = _clusters(content, library, fonts, a, b)
    _length_adjust(clusters, lengths)
    for cl in clusters:
        dx, dy = content.dx[cl.char] or 0.0, content.dy[cl.char] or 0.0
        x += dy if vertical else dx
        y += -dx if vertical else dy
        cl.x0, cl.y = x, y
        cl.glyphs = [(sp, face, gid, scale, x + gx * cl.stretch, y + gy, rot)
                     for sp, face, gid, scale, gx, gy, rot in cl.glyphs]
        x += cl.width * cl.stretch
        y += cl.rise
        x += cl.spacing
        cl.x1 = x
    return Chunk(clusters, pen[0], pen[1])


def anchored(chunk: Chunk) -> float:
    """The x shift text-anchor gives the chunk (its advance width, spacing included)."""
    if not chunk.clusters:
        return 0.0
    x0 = min(c.x0 for c in chunk.clusters)
    x1 = max(c.x1 for c in chunk.clusters)
    width = x1 - x0
    return {"middle": -width / 2, "end": -width}.get(chunk.anchor, 0.0)


def layout(content: TextContent, library: FontLibrary, fonts: Dict[int, SpanFont],
           path_frame: Callable) -> Tuple[List[Placed], List[Chunk]]:
    """(glyphs, chunks, with the chunks' clusters anchored in their local frame).

    ``path_frame(text_path_span, chunk, shift)``: for a chunk on a <textPath>, a function
    distance along the line -> float64 (3, 3) frame (local (u, v) around that point ->
    user units), or None when the point is off the path (the glyph is not drawn).
    Vertical writing modes use such a frame too (vertical.py)."""
    placed: List[Placed] = []
    chunks: List[Chunk] = []
    pen = (0.0, 0.0)
    vertical = is_vertical(content.spans[0].style)
    starts = chunk_starts(content) + [len(content.chars)]
    for a, b in zip(starts[:-1], starts[1:]):
        first = content.spans[content.span_of[a]]
        tp = first.text_path
        x = content.x[a] if content.x[a] is not None and tp is None else pen[0]
        y = content.y[a] if content.y[a] is not None and tp is None else pen[1]
        if tp is not None or vertical:
            origin, (x, y) = (x, y), (0.0, 0.0)
        chunk = layout_chunk(content, library, fonts, a, b, (x, y), text_lengths(content), vertical and tp is None)
        chunk.text_path = tp
        chunk.anchor = _anchor(first.style)
        shift = anchored(chunk)
        if tp is not None:
            chunk.frame = path_frame(tp, chunk, shift)
        elif vertical:
            chunk.frame = vertical_frame(*origin)
        end = (chunk.clusters[-1].x1 if chunk.clusters else x) + shift, (chunk.clusters[-1].y if chunk.clusters else y)
        for cl in chunk.clusters:
            cl.x0 += shift
            cl.x1 += shift
            placed += _place(cl, shift, chunk.frame, vertical and tp is None, content, fonts)
        chunks.append(chunk)
        pen = end if chunk.frame is None else _path_end(chunk.frame, end)
    return placed, chunks


def _place(cl: Cluster, shift: float, frame, vertical: bool, content, fonts) -> List[Placed]:
    """The Placed glyphs of one anchored cluster (straight, on a path, or vertical)."""
    out = []
    mid = (cl.x0 + cl.x1) / 2
    f = frame(mid) if frame is not None else None
    if frame is not None and f is None:
        return out
    extra = np.eye(3)
    if vertical:
        sf = fonts[cl.span]
        fd = font_data(sf.face)
        if is_upright(content.chars[cl.char]):
            extra = upright(cl.x1 - cl.x0, fd.ascent * sf.scale, fd.descent * sf.scale)
        else:
            extra = np.array([[1.0, 0, 0], [0, 1.0, (fd.ascent + fd.descent) * sf.scale / 2], [0, 0, 1.0]])
    for sp, face, gid, scale, gx, gy, rot in cl.glyphs:
        gx += shift
        if f is None:
            m = glyph_matrix(scale, gx, gy, rot, cl.stretch)
        else:
            to_cluster = np.array([[1.0, 0, cl.x0 - mid], [0, 1.0, 0], [0, 0, 1.0]])
            m = f @ to_cluster @ extra @ glyph_matrix(scale, gx - cl.x0, gy, rot, cl.stretch)
        out.append(Placed(sp, face, gid, m))
    return out


def _path_end(frame, end):
    f = frame(end[0]) if frame is not None else None
    if f is None:
        return end
    return (float(f[0, 2]), float(f[1, 2]))


def _anchor(style: dict) -> str:
    anchor = style["text-anchor"].strip()
    if style["direction"].strip() == "rtl":
        anchor = {"start": "end", "end": "start"}.get(anchor, anchor)
    return anchor if anchor in ("start", "middle", "end") else "start"


def text_lengths(content: TextContent) -> list:
    """(start, end, target, lengthAdjust) of the elements with a textLength >= 0
    (user units; % of the viewport width)."""
    out = []
    for node, start, end, style in content.ranges:
        text = node.attrs.get("textLength")
        if text is None:
            continue
        try:
            target = parse_length(text, font_size=float(style["font-size"]),
                                  percent_of=style.get("_viewport", (100.0, 100.0))[0])
        except ValueError:
            continue
        if target >= 0:
            out.append((start, end, target, node.attrs.get("lengthAdjust", "spacing").strip()))
    return out


def text_box(chunks: List[Chunk], fonts: Dict[int, SpanFont]):
    """(x0, y0, x1, y1) user units: the union of the clusters' line boxes (advance x
    ascent..descent of their font), resvg's text bounding box for objectBoundingBox
    paints; None when there are no clusters."""
    pts = []
    for chunk in chunks:
        for cl in chunk.clusters:
            f = fonts[cl.span]
            fd = font_data(f.face)
            top, bottom = cl.y + f.baseline - fd.ascent * f.scale, cl.y + f.baseline - fd.descent * f.scale
            corners = np.array([[cl.x0, top], [cl.x1, top], [cl.x1, bottom], [cl.x0, bottom]])
            if chunk.frame is not None:
                mid = (cl.x0 + cl.x1) / 2
                m = chunk.frame(mid)
                if m is None:
                    continue
                corners = (corners - [mid, 0.0]) @ m[:2, :2].T + m[:2, 2]
            pts.append(corners)
    if not pts:
        return None
    p = np.concatenate(pts)
    return (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))
