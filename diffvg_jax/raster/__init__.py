"""Rasterisation: scene -> coverage layers -> composited image, with work budgets.

Public names used by the applications (never the modules' private ones):
  render, pieces_needed, depth_needed      the user-facing API (re-exported by diffvg_jax)
  encode, encode_batch, Encoding           scenes as data for the compile-once pipeline
  DEFAULT_CURVE_PIECES, DEPTH_CHUNK        chunk and budget policy constants
  count_layers, auto_budget                budget policy for loops that re-measure needs
  traced_pieces_needed, traced_depth_needed the needs as traceable functions (inside a jit)
  validate_scene                           the scene checks ``render`` runs first
  program_cache_size, clear_program_caches the compiled programs render keeps (bounded)

  render_traced                            the per-structure renderer (the tests' reference)

Modules, bottom first: validate; layers (scene walk -> layers, compositing tree, edges);
budgets; composite (dense and tiled compositing, clips, masks); blend (blend modes);
patterns (pattern tiles, drawn here and handed to paint); per_structure (the reference
renderer); leaves, segments, flat_geometry, compositing, encoding (scene -> Encoding:
packed leaves, one segment table, the op list of sub-layers, padded capacity classes);
layered and pipeline (Encoding -> image, one program per class); renderer (render,
encode, the budget counts).
"""
from .budgets import DEFAULT_CURVE_PIECES, DEPTH_CHUNK, auto_budget, count_layers, default_budget
from .encoding import Encoding
from .per_structure import render_traced
from .renderer import (clear_program_caches, depth_needed, encode, encode_batch, pieces_needed, program_cache_size,
                       render, traced_depth_needed, traced_pieces_needed)
from .validate import validate_scene
