"""load_svg: SVG document -> diffvg_jax.Scene (see document.py for the mapping).

Modules: document (the root, load_svg), loader (the state of one load), tree (containers,
<use>, nested viewports), shapes, paint_servers, patterns, clipmask, images, markers, and
coords / styles (lengths, transforms, the CSS cascade) that all of them use.
"""
from .document import document_size, load_svg, read_scene
from .loader import Loader
