"""text-decoration: underline, overline and line-through as rectangles from the
decorated characters' font metrics (post underline, OS/2 strikeout, hhea ascent), one per
cluster, merged along straight chunks; on a <textPath> each piece follows the path."""
from __future__ import annotations

from typing import Callable, Dict, List, Tuple

import numpy as np

from ..values.paths import Subpath
from .layout import Chunk
from .shaping import font_data
from .spanfont import SpanFont

KINDS = ("underline", "overline", "line-through")


def kinds_of(value: str) -> Tuple[str, ...]:
    """The decoration lines a text-decoration value asks for."""
    words = value.replace(",", " ").split()
    return tuple(k for k in KINDS if k in words)


def _band(f: SpanFont, kind: str) -> Tuple[float, float]:
    """(top, bottom) of a decoration line relative to the baseline, user units, y down."""
    fd = font_data(f.face)
    s = f.scale
    if kind == "underline":
        top, th = -fd.underline_pos * s, fd.underline_thickness * s
    elif kind == "overline":
        top, th = -fd.ascent * s, fd.underline_thickness * s
    else:
        top, th = -fd.strike_pos * s, fd.strike_thickness * s
    return top - th / 2, top + th / 2


def _pieces(chunk: Chunk, owners_of: Callable, fonts: Dict[int, SpanFont]) -> list:
    """[owner span, kind, x0, x1, y0, y1] in the chunk's local frame, merged when adjacent."""
    out: list = []
    for cl in chunk.clusters:
        for owner, kind in owners_of(cl.span):
            y0, y1 = _band(fonts[cl.span], kind)   # the decorated text's font (resvg)
            piece = [owner, kind, cl.x0, cl.x1, cl.y + y0, cl.y + y1]
            prev = next((p for p in reversed(out) if p[0] == owner and p[1] == kind), None)
            if (chunk.text_path is None and prev is not None and abs(prev[3] - cl.x0) < 1e-9
                    and prev[4] == piece[4] and prev[5] == piece[5]):
                prev[3] = cl.x1
            else:
                out.append(piece)
    return out


def decorations(chunks: List[Chunk], owners_of: Callable, fonts: Dict[int, SpanFont]
                ) -> List[Tuple[int, str, Subpath]]:
    """(owner span index, kind, closed rectangle Subpath in user units) for every piece.
    ``owners_of(span)``: the (owner span, kind) decorations over a span's characters."""
    out = []
    for chunk in chunks:
        frame = chunk.frame
        for owner, kind, x0, x1, y0, y1 in _pieces(chunk, owners_of, fonts):
            if x1 <= x0 or y1 <= y0:
                continue
            corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
            if frame is not None:
                mid = (x0 + x1) / 2
                m = frame(mid)
                if m is None:
                    continue
                corners = (corners - [mid, 0.0]) @ m[:2, :2].T + m[:2, 2]
            segs = [corners[i][None] for i in (1, 2, 3, 0)]
            out.append((owner, kind, Subpath(corners[0].copy(), segs, True)))
    return out
