"""Painterly fitting: N Bezier paths fitted to a target image (``diffvg-fit``)."""
from .fit import fit, parse_background
