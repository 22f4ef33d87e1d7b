"""Painterly fitting: N Bezier paths fitted to a target image (``diffvg-fit``).

Modules: ``optimize`` (:func:`fit`), ``target`` (background, loss), ``params`` (per-group
Adam and clamps on packed parameters), ``densify`` (re-seeding collapsed paths),
``packing`` (one vector per parameter group), ``cli`` (the command)."""
from .optimize import fit
from .target import LOSSES, MODES, parse_background

__all__ = ["fit", "parse_background", "MODES", "LOSSES"]
