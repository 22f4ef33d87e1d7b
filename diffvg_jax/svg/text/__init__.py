"""Text as outlines (see notes/text.md): <text>, <tspan>, <textPath>, <tref> become
ordinary Paths of glyph outlines at load time (fontTools outlines, HarfBuzz shaping).

  text_objects(loader, node, style, viewport) -> list of scene Paths
  FontLibrary / library(dirs) / search_dirs(font_dirs): font discovery and matching
"""
from .element import text_objects
from .fonts import DEFAULT_FONT, ENV_VAR, Face, FontLibrary, library, search_dirs

__all__ = ["text_objects", "DEFAULT_FONT", "ENV_VAR", "Face", "FontLibrary", "library", "search_dirs"]
