"""Coverage kernels, installed as ``diffvg_jax.kernels``. They import nothing of the package.

``coverage`` holds the pure-XLA winding integral as a dense (layers, H, W) array: it is the
reference every other implementation is tested against (tests/kernels/test_kernel_suite.py
runs one suite against each), and the path for scenes with group opacity. ``tiles``
computes the same integrals only for the (layer, 16 x 16 tile) pairs where a layer has
coverage; ``render`` uses it for flat scenes, where compositing then costs depth x pixels
instead of layers x pixels; ``tile_loop`` runs that tiled work in loops whose trip counts
the program computes (pieces and slots a chunk at a time, shading by a caller's function),
so ``render`` needs no budgets for flat scenes. All cut edges into the unit pieces of
``pieces``; ``numerics`` holds the guarded division and the component split the whole engine shares.
"""
from .coverage import winding_integral, pieces_needed, fill_rule_coverage
from .numerics import components, safe_div
from .tiles import tiled_winding, depth_needed
from .tile_loop import tiled_composite

__all__ = ["winding_integral", "pieces_needed", "fill_rule_coverage", "tiled_winding", "tiled_composite", "depth_needed", "safe_div",
           "components"]
