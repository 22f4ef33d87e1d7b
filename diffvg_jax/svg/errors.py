"""Warnings, errors and limits shared by the SVG reader and writer.

Every failure of load_svg is a ValueError; ``SVGError`` (a ValueError) is the one that
already names its place (file, element, id, attribute). Every limit below is checked
before the work it bounds, and turns into an SVGError naming it.
"""
from __future__ import annotations

import warnings

import numpy as np


class SVGWarning(UserWarning):
    """Something in an SVG file was ignored or repaired; the rest of the drawing is kept."""


# Guards against hostile or absurd input. Each one turns into a ValueError naming it.
MAX_TEXT_CHARS = 64 * 1024 * 1024      # the document after entity expansion
MAX_ELEMENTS = 200_000                 # XML elements in the document
MAX_DEPTH = 200                        # element nesting (and use/href chains)
MAX_SHAPES = 100_000                   # shapes in the scene after <use> expansion
MAX_POINTS = 2_000_000                 # path control points in the scene
MAX_CANVAS = 16384                     # canvas width / height in pixels
MAX_DASHES = 100_000                   # dash pieces of all stroke-dasharrays of a document
MAX_PATH_SEGMENTS = 100_000            # segments (after arcs become cubics) of one path
MAX_EXPANDED_ELEMENTS = 1_000_000      # elements visited with every <use> expanded
MAX_CSS_SELECTOR_PARTS = 32            # compound selectors in one complex selector
MAX_CSS_RULES = 10_000                 # style sheet rules (selectors) in one document
MAX_CSS_TESTS = 5_000_000              # selector tests (element x candidate rule) in one load
FLOAT32_MAX = 3.4028234663852886e38    # numbers entering the scene must stay below this


class SVGError(ValueError):
    """A load_svg failure whose message already names its place (element, id, attribute)."""


def finite32(value, what: str):
    """``value`` (a number or array) itself when every entry is finite in float32 (|x| <=
    FLOAT32_MAX and not nan); else ValueError naming ``what``."""
    try:
        ok = bool(_all_finite32(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{what} is not a finite float32 number")
    return value


def _all_finite32(value) -> bool:
    if isinstance(value, (int, float)):
        return abs(value) <= FLOAT32_MAX   # False for nan, inf
    arr = np.asarray(value, dtype=np.float64)
    return bool(np.all(np.abs(arr) <= FLOAT32_MAX))


def describe(node) -> str:
    """'<rect id="r1">' style description of an element (a dom.xmlsafe.Node) for messages."""
    if node is None:
        return "<document>"
    ident = node.attrs.get("id")
    return f"<{node.tag} id={ident!r}>" if ident else f"<{node.tag}>"


class Reporter:
    """Collects warnings for one load: each distinct message is emitted once."""

    def __init__(self):
        self._seen = set()

    def warn(self, message: str, key=None) -> None:
        key = message if key is None else key
        if key in self._seen:
            return
        self._seen.add(key)
        warnings.warn(message, SVGWarning, stacklevel=4)
