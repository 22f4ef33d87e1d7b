"""Rasterisation: scene -> coverage layers -> composited image, with work budgets.

Public names used by the applications (never the modules' private ones):
  render, pieces_needed, depth_needed      the user-facing API (re-exported by diffvg_jax)
  DEFAULT_CURVE_PIECES, SMALL_SCENE_LAYERS budget policy constants
  count_layers, auto_budget, round_depth   budget policy for loops that re-measure needs
  traced_pieces_needed, traced_depth_needed the needs as traceable functions (inside a jit)
  validate_scene                           the scene checks ``render`` runs first
  program_cache_size, clear_program_caches the compiled programs render keeps (bounded)

Modules, bottom first: validate; layers (scene walk -> layers, compositing tree, edges);
budgets; composite (dense and tiled compositing, clips, masks); patterns (pattern tiles,
drawn here and handed to paint); renderer (render and its jits).
"""
from .budgets import (DEFAULT_CURVE_PIECES, SMALL_SCENE_LAYERS, auto_budget, count_layers, default_budget,
                      round_depth, traced_depth_needed, traced_pieces_needed)
from .renderer import clear_program_caches, depth_needed, pieces_needed, program_cache_size, render, render_traced
from .validate import validate_scene
