"""The state of one load_svg call (``Loader``).

All of the reader's state is declared in ``Loader.__init__``: the element tree, its ids and
style sheet, the style caches, the shape / point counts that enforce the limits, and the
stacks that cut reference cycles. The reader's modules are functions that take the loader
as their first argument.

``Loader.children_of`` is the one recursion hook: the helper modules whose content is
itself elements (clip / mask, patterns, markers) read it through the loader they are
handed, so they never import tree.py, which imports them. Imports inside svg/read point
one way: document -> loader -> tree -> clipmask, images -> shapes -> markers,
paint_servers -> patterns -> coords -> styles.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from .. import errors
from ..dom import css
from ..dom.xmlsafe import Node, parse_document
from ..errors import Reporter, SVGError, describe
from . import tree


class Loader:
    """One document being read.

    Attributes:
      report: the Reporter (each distinct warning once).
      root: the <svg> root Node; ids: id -> first Node with it; rules: the CSS rules
        (a css.RuleIndex).
      base_dir: folder that relative <image> file hrefs resolve against, or None.
      doc_size: float (w, h) canvas size in px, set when the root is read.
      shape_count, point_count, dash_count: shapes, path points and dashes emitted so far
        (errors.MAX_SHAPES / errors.MAX_POINTS / errors.MAX_DASHES).
      specified_styles, dom_styles: caches id(node) -> style dict (see styles.py).
      use_recursion: cache id(<use>) -> whether expanding it recurses (tree.py).
      masking_active: ids of the clipPath / mask elements being built (cycle check).
      pattern_stack: the <pattern> elements whose content is being read, outermost first.
      marker_stack: the <marker> elements whose content is being read, outermost first.
      marker_contents: cache of parsed marker content (markers.py).
      context_depth: > 0 while the content of a <use> or <marker> is read, where
        context-fill / context-stroke become placeholders (context.py).
      font_dirs: folders load_svg was given to find fonts in (svg/text/fonts.py), or None.
      cut_mask_links: ids of the elements whose `mask` link closes a cycle (clipmask.py).
      image_document: reads an SVG document used by an <image> (bytes -> scene, size,
        shapes, points; document.py sets it), or None (SVG images not read).
    """

    def __init__(self, text: str, base_dir: Optional[str] = None, font_dirs=None):
        self.report = Reporter()
        self.root: Node = parse_document(text, self.report.warn)
        self.ids: Dict[str, Node] = {}
        rules: List[css.Rule] = []
        for node in self.root.iter():
            if not node.is_svg:
                continue
            ident = node.attrs.get("id")
            if ident is not None:
                self.ids.setdefault(ident.strip(), node)   # first wins, as in browsers
            if node.tag == "style" and node.attrs.get("type", "text/css").strip() in ("", "text/css"):
                rules += css.parse_stylesheet(node.text, self.report.warn, len(rules))
                if len(rules) > errors.MAX_CSS_RULES:
                    raise SVGError(f"{describe(node)}: the style sheets have more than {errors.MAX_CSS_RULES} rules")
        self.rules = css.RuleIndex(rules, errors.MAX_CSS_TESTS)
        self.base_dir = base_dir
        self.doc_size: Tuple[float, float] = (100.0, 100.0)
        self.shape_count = 0
        self.point_count = 0
        self.dash_count = 0
        self.specified_styles: Dict[int, Dict[str, str]] = {}
        self.dom_styles: Dict[int, Dict[str, str]] = {}
        self.use_recursion: Dict[int, bool] = {}
        self.masking_active: Set[int] = set()
        self.pattern_stack: List[Node] = []
        self.marker_stack: Tuple[Node, ...] = ()
        self.marker_contents: dict = {}
        self.context_depth = 0
        self.image_document = None
        self.cut_mask_links = None
        self.font_dirs = font_dirs

    def warn(self, msg: str, key=None) -> None:
        self.report.warn(msg, key)

    def referenced(self, node: Node) -> Optional[Node]:
        """The element a local ``href="#id"`` of ``node`` names, or None."""
        href = node.href()
        return self.ids.get(href[1:]) if href.startswith("#") else None

    def count_shape(self, node: Node) -> None:
        """Count one emitted shape; ValueError past errors.MAX_SHAPES."""
        self.shape_count += 1
        if self.shape_count > errors.MAX_SHAPES:
            raise SVGError(f"{describe(node)}: the drawing has more than {errors.MAX_SHAPES} shapes "
                             "(after <use> expansion)")

    def count_points(self, node: Node, n: int) -> None:
        """Count ``n`` emitted path points; ValueError past errors.MAX_POINTS."""
        self.point_count += n
        if self.point_count > errors.MAX_POINTS:
            raise SVGError(f"{describe(node)}: the drawing has more than {errors.MAX_POINTS} path points")

    def children_of(self, node, style, viewport, depth, use_stack) -> list:
        """tree.children_of: the recursion hook of the helper modules (module docstring)."""
        return tree.children_of(self, node, style, viewport, depth, use_stack)
