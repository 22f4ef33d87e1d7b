"""CLIPDraw: strokes optimised so that CLIP scores the drawing as a caption
(``diffvg-clipdraw``). The CLIP network itself is ``clipnet`` (named apart from geometric
clipping, ``diffvg_jax.ClipPath``); it is also reachable as ``diffvg_jax.clip``."""
from .clipdraw import clipdraw
