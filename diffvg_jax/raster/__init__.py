"""Rasterisation: scene -> coverage layers -> composited image, with work budgets.

Public names used by the applications (never the modules' private ones):
  render, pieces_needed, depth_needed      the user-facing API (re-exported by diffvg_jax)
  DEFAULT_CURVE_PIECES, SMALL_SCENE_LAYERS budget policy constants
  count_layers, auto_budget, round_depth   budget policy for loops that re-measure needs
  traced_pieces_needed, traced_depth_needed the needs as traceable functions (inside a jit)
  validate_scene                           the scene checks ``render`` runs first
"""
from .renderer import (DEFAULT_CURVE_PIECES, SMALL_SCENE_LAYERS, auto_budget, count_layers, depth_needed,
                     pieces_needed, render, round_depth, traced_depth_needed, traced_pieces_needed)
from .validate import validate_scene
