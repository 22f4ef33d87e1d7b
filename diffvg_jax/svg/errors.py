"""Warnings and limits shared by the SVG reader and writer."""
from __future__ import annotations

import warnings


class SVGWarning(UserWarning):
    """Something in an SVG file was ignored or repaired; the rest of the drawing is kept."""


# Guards against hostile or absurd input. Each one turns into a ValueError naming it.
MAX_TEXT_CHARS = 64 * 1024 * 1024      # the document after entity expansion
MAX_ELEMENTS = 200_000                 # XML elements in the document
MAX_DEPTH = 200                        # element nesting (and use/href chains)
MAX_SHAPES = 100_000                   # shapes in the scene after <use> expansion
MAX_POINTS = 2_000_000                 # path control points in the scene
MAX_CANVAS = 16384                     # canvas width / height in pixels
MAX_DASHES = 100_000                   # dash pieces produced by one stroke-dasharray


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
