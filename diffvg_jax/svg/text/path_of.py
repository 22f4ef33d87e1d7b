"""The path of a <textPath> (href to a <path>, or SVG 2's ``path`` attribute) and its
startOffset: the frame function layout places a chunk's glyphs with."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from .. import errors
from ..errors import describe
from ..read.coords import transform_of
from ..values import paths
from ..values.units import parse_length
from .textpath import PathSampler


def sampler_of(loader, text_path, viewport) -> Optional[PathSampler]:
    """The PathSampler of a <textPath>'s path, or None (missing / not a path: warned)."""
    d = text_path.attrs.get("path")
    matrix = np.eye(3)
    if d is None:
        target = loader.referenced(text_path)
        if target is None or target.tag != "path" or not target.is_svg:
            loader.warn(f"{describe(text_path)}: href {text_path.href()!r} names no <path> (text not drawn)",
                        key="textpath-href")
            return None
        d = target.attrs.get("d", "")
        matrix = transform_of(loader, target, None, viewport)
    try:
        subs = paths.parse_path_data(d, errors.MAX_POINTS, errors.MAX_PATH_SEGMENTS)
    except paths.PathDataError as e:
        subs = e.subpaths
    if not subs:
        return None
    return PathSampler(subs, matrix)


def path_frame_factory(loader, text_node, viewport) -> Callable:
    """(textPath node, chunk, anchor shift) -> (distance -> float64 (3, 3) frame or None),
    or None when the path is unusable (its glyphs are not drawn)."""
    cache = {}

    def factory(text_path, chunk, shift):
        key = id(text_path)
        if key not in cache:
            cache[key] = sampler_of(loader, text_path, viewport)
        sampler = cache[key]
        if sampler is None:
            return lambda d: None
        if text_path.attrs.get("side", "left").strip() == "right":
            loader.warn(f"{describe(text_path)}: side=\"right\" is not supported (drawn on the left)",
                        key="textpath-side")
        start = 0.0
        text = text_path.attrs.get("startOffset")
        if text is not None:
            try:
                start = parse_length(text, percent_of=sampler.length)
            except ValueError:
                start = 0.0
        return lambda d: sampler.frame(start + d)
    return factory
