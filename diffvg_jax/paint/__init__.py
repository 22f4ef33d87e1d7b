"""Paints: solid colours, linear and radial gradients, image rasters and pattern tiles,
evaluated at points in user space. Imports only the scene model and geometry.
"""
from .gradients import evaluate_paint
