"""Coverage kernels, installed as ``diffvg_jax.kernels``.

``coverage`` holds the pure-XLA winding integral as a dense (layers, H, W) array: it is the
reference every other implementation is tested against, and the path for scenes with group
opacity. ``tiles`` computes the same integrals only for the (layer, 16 x 16 tile) pairs
where a layer has coverage; ``render`` uses it for flat scenes, where compositing then
costs depth x pixels instead of layers x pixels.
"""
from .coverage import winding_integral, pieces_needed, fill_rule_coverage
from .tiles import tiled_winding, depth_needed

__all__ = ["winding_integral", "pieces_needed", "fill_rule_coverage", "tiled_winding", "depth_needed"]
