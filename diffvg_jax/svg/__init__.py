"""SVG in and out: load_svg, save_svg, render_svg (see notes/svg.md).

  load_svg(path_or_text) -> diffvg_jax.Scene          (every number a float32 leaf)
  save_svg(scene, path_or_stream)                       (round-trips through load_svg)
  render_svg(svg_text, width, height) -> numpy (H, W, 4) float32 straight alpha
"""
from .errors import SVGWarning
from .read import load_svg
from .write import save_svg, to_svg_text
from .render_svg import render_svg

__all__ = ["load_svg", "save_svg", "to_svg_text", "render_svg", "SVGWarning"]
