"""Rasterisation: scene -> coverage layers -> composited image, with work budgets.

Public names used by the applications (never the modules' private ones):
  render, pieces_needed, depth_needed      the user-facing API (re-exported by diffvg_jax)
  encode, encode_batch, Encoding           scenes as data for the compile-once pipeline
  DEFAULT_CURVE_PIECES, SMALL_SCENE_LAYERS budget policy constants
  count_layers, auto_budget, round_depth   budget policy for loops that re-measure needs
  traced_pieces_needed, traced_depth_needed the needs as traceable functions (inside a jit)
  validate_scene                           the scene checks ``render`` runs first
  program_cache_size, clear_program_caches the compiled programs render keeps (bounded)

Modules, bottom first: validate; layers (scene walk -> layers, compositing tree, edges);
budgets; composite (dense and tiled compositing, clips, masks); patterns (pattern tiles,
drawn here and handed to paint); leaves, segments, encoding (scene -> Encoding: packed
leaves, one segment table, padded capacity classes); pipeline (Encoding -> image, one
program per class); renderer (render, encode and their jits).
"""
from .budgets import (DEFAULT_CURVE_PIECES, SMALL_SCENE_LAYERS, auto_budget, count_layers, default_budget,
                      round_depth, traced_depth_needed, traced_pieces_needed)
from .encoding import Encoding
from .renderer import (clear_program_caches, depth_needed, encode, encode_batch, pieces_needed, program_cache_size,
                       render, render_traced)
from .validate import validate_scene
