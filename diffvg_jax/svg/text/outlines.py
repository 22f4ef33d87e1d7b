"""Glyph outlines -> subpaths: TrueType quadratics and CFF cubics kept as they are (the
scene's Path takes degrees 1 / 2 / 3), in font units (y up), then placed by an affine map."""
from __future__ import annotations

import itertools
import struct
from functools import lru_cache
from typing import List, Optional, Tuple

import numpy as np
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTLibError

from ..outlines import path_arrays
from ..values.paths import Subpath
from .fonts import Face
from .shaping import font_data


class _SubpathPen(BasePen):
    """A fontTools pen collecting float64 subpaths (segments of 1, 2 or 3 points)."""

    def __init__(self, glyph_set):
        super().__init__(glyph_set)
        self.subpaths: List[Subpath] = []
        self._start = None
        self._segs: list = []

    def _flush(self, closed: bool):
        if self._start is not None and self._segs:
            if closed and np.any(self._segs[-1][-1] != self._start):
                self._segs.append(self._start[None].copy())
            self.subpaths.append(Subpath(self._start, self._segs, closed))
        self._start, self._segs = None, []

    def flush_open(self):
        """End the last subpath (closed) if the glyph's drawing left one open."""
        self._flush(True)

    def _moveTo(self, pt):
        self._flush(True)
        self._start = np.array(pt, np.float64)

    def _lineTo(self, pt):
        self._segs.append(np.array([pt], np.float64))

    def _qCurveToOne(self, pt1, pt2):
        self._segs.append(np.array([pt1, pt2], np.float64))

    def _curveToOne(self, pt1, pt2, pt3):
        self._segs.append(np.array([pt1, pt2, pt3], np.float64))

    def _closePath(self):
        self._flush(True)

    def _endPath(self):
        self._flush(False)


@lru_cache(maxsize=8192)
def glyph_outline(face: Face, gid: int) -> Tuple[Subpath, ...]:
    """The glyph's closed subpaths in font units (y up); () for an empty glyph (space) or a
    glyph without outlines (bitmap / colour-only fonts)."""
    fd = font_data(face)
    tt = fd.tt
    try:
        glyph_set = tt.getGlyphSet()
        name = tt.getGlyphName(gid)
        if name not in glyph_set:
            return ()
        pen = _SubpathPen(glyph_set)
        if face.variations:   # HarfBuzz draws the outline at the variation coordinates
            fd.hb_font.draw_glyph_with_pen(gid, pen)
        else:
            glyph_set[name].draw(pen)
    except (TTLibError, KeyError, IndexError, ValueError, TypeError, AssertionError, struct.error):
        return ()   # a font without outlines (bitmap / colour only) or a broken glyph: nothing drawn
    pen.flush_open()
    return tuple(sp for sp in pen.subpaths if sp.segments)


@lru_cache(maxsize=8192)
def glyph_arrays(face: Face, gid: int) -> Optional[dict]:
    """Path arrays (points float64 (n, 2) in font units, degrees, subpath_sizes, closed) of
    a glyph's outline, None when it has none. Cached: do not modify."""
    subs = glyph_outline(face, gid)
    return path_arrays(list(subs)) if subs else None


def joined(items) -> Optional[dict]:
    """One Path's arrays from (arrays, float64 (3, 3) matrix) pairs: each arrays' points
    mapped by its matrix (font units -> user units), all concatenated; None if empty."""
    items = [(a, m) for a, m in items if a is not None]
    if not items:
        return None
    pts = np.concatenate([a["points"] @ m[:2, :2].T + m[:2, 2] for a, m in items])
    cat = lambda key: tuple(itertools.chain.from_iterable(a[key] for a, _ in items))
    return dict(points=pts, degrees=cat("degrees"), subpath_sizes=cat("subpath_sizes"), closed=cat("closed"))


def glyph_matrix(scale: float, x: float, y: float, angle_deg: float = 0.0, stretch: float = 1.0) -> np.ndarray:
    """float64 (3, 3): font units (y up) -> user units (y down) for a glyph whose origin is
    at (x, y), ``scale`` = font-size / units-per-em, ``stretch`` an extra x scale
    (lengthAdjust), rotated by ``angle_deg`` (clockwise on screen, SVG's rotate) about its
    origin."""
    c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    m = np.array([[scale * stretch, 0, 0], [0, -scale, 0], [0, 0, 1.0]])
    return np.array([[1, 0, x], [0, 1, y], [0, 0, 1.0]]) @ rot @ m
