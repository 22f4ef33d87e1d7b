"""CLIPDraw: strokes optimised so that CLIP scores the drawing as a caption
(``diffvg-clipdraw``). The CLIP network itself is ``clipnet`` (named apart from geometric
clipping, ``diffvg_jax.ClipPath``); it is also reachable as ``diffvg_jax.clip``.

Modules: ``draw`` (:func:`clipdraw`, the loop), ``step`` (the jitted CLIP-loss step),
``augment`` (the differentiable augmentations), ``clipnet`` (CLIP in flax), ``cli``."""
from .draw import DEFAULTS, clipdraw

__all__ = ["clipdraw", "DEFAULTS"]
