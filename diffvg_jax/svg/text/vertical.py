"""Vertical writing modes (writing-mode tb / tb-rl / vertical-rl / vertical-lr), as resvg
draws them: the chunk is laid out as a horizontal line and turned 90 degrees clockwise
about its start; upright characters (East Asian wide / full-width) are turned back about
their centre, the others stay sideways, centred on the line (half of ascent + descent)."""
from __future__ import annotations

import unicodedata

import numpy as np

VERTICAL_MODES = ("tb", "tb-rl", "vertical-rl", "vertical-lr")


def is_vertical(style: dict) -> bool:
    """Whether a computed style's writing-mode is a vertical one."""
    return style["writing-mode"].strip() in VERTICAL_MODES


def is_upright(ch: str) -> bool:
    """Whether a character stays upright in vertical text (East Asian wide / full-width)."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def vertical_frame(x: float, y: float):
    """distance d along the line -> float64 (3, 3): local (u, v) around the point d below
    (x, y) -> user units, the line turned 90 degrees clockwise."""
    def frame(d: float) -> np.ndarray:
        return np.array([[0.0, -1.0, x], [1.0, 0.0, y + d], [0.0, 0.0, 1.0]])
    return frame


def upright(width: float, ascent: float, descent: float) -> np.ndarray:
    """float64 (3, 3) in a cluster's local frame (origin at its start on the baseline):
    turns it 90 degrees counter-clockwise about its centre (resvg's offsets)."""
    dy = width - (ascent - descent)
    c = width / 2
    t1 = np.array([[1.0, 0, c], [0, 1.0, 0], [0, 0, 1.0]])
    rot = np.array([[0.0, 1.0, 0], [-1.0, 0.0, 0], [0, 0, 1.0]])
    t2 = np.array([[1.0, 0, -c], [0, 1.0, -dy], [0, 0, 1.0]])
    return t1 @ rot @ t2
