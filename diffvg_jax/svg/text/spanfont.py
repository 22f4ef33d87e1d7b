"""The font of a span: the matched face, size, spacing and baseline offset, resolved from
its computed style (user units, y down)."""
from __future__ import annotations

import unicodedata
from dataclasses import replace
from typing import NamedTuple, Optional

from ..values.units import parse_length, viewport_diagonal
from .fonts import Face, FontLibrary, parse_families
from .shaping import font_data, variations_of

STRETCH = {"ultra-condensed": 1, "extra-condensed": 2, "condensed": 3, "semi-condensed": 4, "normal": 5,
           "semi-expanded": 6, "expanded": 7, "extra-expanded": 8, "ultra-expanded": 9}
STRETCH_PCT = (50.0, 62.5, 75.0, 87.5, 100.0, 112.5, 125.0, 150.0, 200.0)
WEIGHTS = {"normal": 400, "bold": 700}
JOINERS = {"\u200d", "\u200c", "\ufe0e", "\ufe0f"}


class SpanFont(NamedTuple):
    """Face, font size (user units), scale (user units per font unit), letter / word
    spacing (user units), baseline offset (user units, y down, added to the glyphs' y),
    whether the family list matched a font, and the shaping features."""

    face: Face
    size: float
    scale: float
    letter_spacing: float
    word_spacing: float
    baseline: float
    found: bool
    features: tuple


def resolve_weight(text: str, parent_weight: int) -> int:
    """Numeric font-weight of a value given the parent's (bolder / lighter: CSS Fonts 4)."""
    text = text.strip()
    if text in WEIGHTS:
        return WEIGHTS[text]
    if text == "bolder":
        return 400 if parent_weight < 350 else (700 if parent_weight < 550 else 900)
    if text == "lighter":
        return 100 if parent_weight < 550 else (400 if parent_weight < 750 else 700)
    try:
        w = float(text)
        return int(w) if 1 <= w <= 1000 else parent_weight
    except ValueError:
        return parent_weight


def stretch_of(text: str) -> int:
    """font-stretch as 1..9 (keywords; percentages 50%..200% mapped to the nearest)."""
    text = text.strip()
    if text in STRETCH:
        return STRETCH[text]
    if text.endswith("%"):
        try:
            pct = float(text[:-1])
        except ValueError:
            return 5
        return 1 + min(range(9), key=lambda i: abs(STRETCH_PCT[i] - pct))
    return 5


def _spacing(text: str, fs: float, diagonal: float) -> float:
    """letter- / word-spacing in user units (% of the viewport diagonal, as resvg)."""
    if text in ("normal", ""):
        return 0.0
    try:
        return parse_length(text, font_size=fs, percent_of=diagonal)
    except ValueError:
        return 0.0


def _baseline_kind(style: dict) -> str:
    ab = style["alignment-baseline"]
    if ab not in ("auto", "baseline"):
        return ab
    return style["dominant-baseline"]


def baseline_offset(face: Face, fs: float, kind: str) -> float:
    """y offset (user units, down) that puts the given baseline at the text's y."""
    fd = font_data(face)
    s = fs / fd.upem
    table = {"hanging": 0.8 * fd.ascent, "mathematical": 0.5 * fd.ascent, "central": (fd.ascent + fd.descent) / 2,
             "middle": fd.x_height / 2, "text-before-edge": fd.ascent, "before-edge": fd.ascent,
             "text-top": fd.ascent, "text-after-edge": fd.descent, "after-edge": fd.descent,
             "text-bottom": fd.descent, "ideographic": fd.descent}
    return table.get(kind, 0.0) * s


def shift_of(text: str, face: Face, fs: float) -> float:
    """A baseline-shift value in user units, up positive (sub / super from OS/2)."""
    text = text.strip()
    fd = font_data(face)
    os2 = fd.tt["OS/2"] if "OS/2" in fd.tt else None
    if text == "sub":
        return -(float(os2.ySubscriptYOffset) if os2 is not None else 0.2 * fd.upem) * fs / fd.upem
    if text == "super":
        return (float(os2.ySuperscriptYOffset) if os2 is not None else 0.4 * fd.upem) * fs / fd.upem
    if text == "baseline":
        return 0.0
    try:
        return parse_length(text, font_size=fs, percent_of=fs)
    except ValueError:
        return 0.0


def span_font(library: FontLibrary, span, chain_styles) -> SpanFont:
    """The SpanFont of a span (collect.Span); ``chain_styles`` the computed styles of its
    chain (text element first), for baseline-shift, which adds up through the nesting."""
    st = span.style
    fs = float(st["font-size"])
    weight, stretch = int(st.get("_weight", 400)), stretch_of(st["font-stretch"])
    face, found = library.match(parse_families(st["font-family"]), weight, st["font-style"].strip(), stretch)
    axes = variations_of(face, weight, STRETCH_PCT[stretch - 1], st["font-style"].strip(), fs,
                         st["font-variation-settings"])
    face = replace(face, variations=axes) if axes else face
    scale = fs / font_data(face).upem
    shift = sum(shift_of(cs["baseline-shift"], face, float(cs["font-size"])) for cs in chain_styles[1:])
    base = baseline_offset(face, fs, _baseline_kind(st)) - shift
    diag = viewport_diagonal(*st.get("_viewport", (100.0, 100.0)))
    ls = _spacing(st["letter-spacing"], fs, diag)
    feats = []
    if ls != 0:
        feats += [("liga", False), ("clig", False), ("dlig", False), ("hlig", False)]
    if st["font-kerning"] == "none" or st["kerning"].strip() == "0":
        feats.append(("kern", False))
    if st["font-variant"].strip() == "small-caps":
        feats.append(("smcp", True))
    return SpanFont(face, fs, scale, ls, _spacing(st["word-spacing"], fs, diag), base, found, tuple(feats))


def char_face(library: FontLibrary, ch: str, primary: Face, prev: Optional[Face]) -> Face:
    """The face that draws ``ch``: the span's, the previous character's for marks and
    joiners, else the first face of the library that has it (per-character fallback)."""
    if ch in JOINERS or unicodedata.category(ch).startswith("M"):
        return prev or primary
    if ord(ch) in primary.codepoints or ch in " \u00a0" or unicodedata.category(ch).startswith("C"):
        return primary
    return library.fallback_for(ord(ch), primary) or primary
