"""Font discovery and CSS font matching for text outlines (see notes/text.md).

Fonts are found by family name in folders: the ``font_dirs`` given to load_svg, then the
folders of the ``DIFFVG_FONT_DIRS`` environment variable (os.pathsep-separated), then the
default font shipped in ``fonts/`` beside this file (a Latin subset of Noto Sans, OFL).
Generic families (serif, sans-serif, ...) map to a preference list of family names.
Matching follows CSS Fonts 3 section 5.2: family, then font-stretch, font-style, font-weight.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

from fontTools.ttLib import TTCollection, TTFont, TTLibError

ENV_VAR = "DIFFVG_FONT_DIRS"
DEFAULT_FONT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fonts", "NotoSans-Latin.ttf")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
MAX_FONT_FILES = 2000          # files scanned per folder (hostile folders)
MAX_FONT_BYTES = 64 * 1024 * 1024
# Generic families -> families tried in order (resvg's test configuration comes first).
GENERIC = {
    "serif": ("Noto Serif", "DejaVu Serif", "Times New Roman", "Liberation Serif"),
    "sans-serif": ("Noto Sans", "DejaVu Sans", "Arial", "Liberation Sans"),
    "monospace": ("Noto Mono", "DejaVu Sans Mono", "Courier New", "Liberation Mono"),
    "cursive": ("Yellowtail", "Comic Sans MS"),
    "fantasy": ("Sedgwick Ave Display", "Impact"),
}
STYLES = {"normal": 0, "italic": 1, "oblique": 2}


@dataclass(frozen=True)
class Face:
    """One font face in a file: path, index in a collection, lower-case family names,
    weight (100..900), style ('normal' / 'italic' / 'oblique'), stretch (1..9, 5 normal),
    and for a variable font the axis values it is used at."""

    path: str
    index: int
    families: Tuple[str, ...]
    weight: int = 400
    style: str = "normal"
    stretch: int = 5
    codepoints: frozenset = field(default=frozenset(), compare=False, hash=False, repr=False)
    variations: Tuple[Tuple[str, float], ...] = ()   # variable-font axis values (tag, value)


def env_dirs() -> Tuple[str, ...]:
    """The folders named by DIFFVG_FONT_DIRS (os.pathsep-separated), in order."""
    return tuple(d for d in os.environ.get(ENV_VAR, "").split(os.pathsep) if d.strip())


def search_dirs(font_dirs: Optional[Sequence[str]]) -> Tuple[str, ...]:
    """load_svg's ``font_dirs`` (a folder or a sequence of them) then DIFFVG_FONT_DIRS."""
    if font_dirs is None:
        given: Tuple[str, ...] = ()
    elif isinstance(font_dirs, (str, os.PathLike)):
        given = (os.fspath(font_dirs),)
    else:
        given = tuple(os.fspath(d) for d in font_dirs)
    return given + env_dirs()


def _face_of(font: TTFont, path: str, index: int) -> Face:
    names = set()
    name = font["name"] if "name" in font else None
    if name is not None:
        for rec in name.names:
            if rec.nameID in (1, 16):
                try:
                    names.add(rec.toUnicode().strip().lower())
                except UnicodeDecodeError:
                    continue
    os2 = font["OS/2"] if "OS/2" in font else None
    weight = int(os2.usWeightClass) if os2 is not None else 400
    stretch = int(os2.usWidthClass) if os2 is not None else 5
    italic = bool(os2.fsSelection & 1) if os2 is not None else bool(font["head"].macStyle & 2)
    oblique = bool(os2 is not None and os2.fsSelection & (1 << 9))
    cmap = font.getBestCmap() or {}
    return Face(path, index, tuple(sorted(names)), min(max(weight, 1), 1000),
                "italic" if italic else ("oblique" if oblique else "normal"), min(max(stretch, 1), 9),
                frozenset(cmap))


@lru_cache(maxsize=64)
def faces_in(folder: str) -> Tuple[Face, ...]:
    """Every readable font face in a folder (not recursive), sorted by file name; unreadable
    files are skipped. Cached per folder for the process."""
    try:
        names = sorted(os.listdir(folder))[:MAX_FONT_FILES]
    except OSError:
        return ()
    out = []
    for n in names:
        path = os.path.join(folder, n)
        if not n.lower().endswith(FONT_SUFFIXES) or not os.path.isfile(path):
            continue
        if os.path.getsize(path) > MAX_FONT_BYTES:
            continue
        out += faces_of_file(path)
    return tuple(out)


@lru_cache(maxsize=256)
def faces_of_file(path: str) -> Tuple[Face, ...]:
    """The faces of one font file (several for a collection), () if it cannot be read."""
    try:
        if path.lower().endswith((".ttc", ".otc")):
            with TTCollection(path, lazy=True) as coll:
                return tuple(_face_of(f, path, i) for i, f in enumerate(coll.fonts))
        with TTFont(path, lazy=True) as font:
            return (_face_of(font, path, 0),)
    except (TTLibError, OSError, KeyError, ValueError, AssertionError, AttributeError, IndexError):
        return ()


def default_face() -> Face:
    """The shipped fallback face (Noto Sans, Latin subset)."""
    return faces_of_file(DEFAULT_FONT)[0]


def parse_families(text: str) -> List[str]:
    """The font-family list as lower-case names (quotes removed, generic keywords kept)."""
    out = []
    for part in text.split(","):
        name = part.strip()
        if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
            name = name[1:-1]
        name = " ".join(name.split())
        if name:
            out.append(name.lower())
    return out


def _weight_order(faces: List[Face], want: int) -> List[Face]:
    """CSS weight matching: the order in which faces of one family are preferred."""
    def key(f: Face):
        w = f.weight
        if w == want:
            return (0, 0)
        if 400 <= want <= 500:
            if want < w <= 500:
                return (1, w - want)
            if w < want:
                return (2, want - w)
            return (3, w - want)
        if want < 400:
            return (1, want - w) if w < want else (2, w - want)
        return (1, w - want) if w > want else (2, want - w)
    return sorted(faces, key=key)


def best_face(faces: List[Face], weight: int, style: str, stretch: int) -> Face:
    """The face of one family CSS matching picks for weight / style / stretch."""
    best_st = min(faces, key=lambda f: (abs(f.stretch - stretch), f.stretch > stretch if stretch <= 5 else f.stretch < stretch)).stretch
    faces = [f for f in faces if f.stretch == best_st]
    prefs = {"italic": ("italic", "oblique", "normal"), "oblique": ("oblique", "italic", "normal"),
             "normal": ("normal", "oblique", "italic")}[style if style in STYLES else "normal"]
    for s in prefs:
        got = [f for f in faces if f.style == s]
        if got:
            faces = got
            break
    return _weight_order(faces, weight)[0]


class FontLibrary:
    """The faces of a list of folders plus the shipped default, with matching by family."""

    def __init__(self, dirs: Sequence[str] = ()):
        self.dirs = tuple(dirs)
        self.faces: List[Face] = [f for d in self.dirs for f in faces_in(d)]
        self.by_family: Dict[str, List[Face]] = {}
        for f in self.faces + [default_face()]:
            for fam in f.families:
                self.by_family.setdefault(fam, []).append(f)

    def match(self, families: Sequence[str], weight: int, style: str, stretch: int) -> Tuple[Optional[Face], bool]:
        """(face, found): the first family of the list present (generic names expanded),
        matched on weight / style / stretch. None present: (a serif face of the folders,
        as browsers and resvg default to serif, else the shipped default face, False)."""
        for fam in families:
            for name in GENERIC.get(fam, (fam,)):
                faces = self.by_family.get(name.lower())
                if faces:
                    return best_face(faces, weight, style, stretch), True
        for name in GENERIC["serif"]:   # the UA default family is serif (browsers, resvg)
            if name.lower() in self.by_family and self.faces:
                return best_face(self.by_family[name.lower()], weight, style, stretch), False
        return best_face([default_face()], weight, style, stretch), False

    def fallback_for(self, char: int, like: Face) -> Optional[Face]:
        """A face that has ``char`` (a code point), preferring ``like``'s style and weight."""
        have = [f for f in self.faces + [default_face()] if char in f.codepoints]
        if not have:
            return None
        return min(have, key=lambda f: (f.style != like.style, abs(f.weight - like.weight), f.stretch != like.stretch))


@lru_cache(maxsize=16)
def library(dirs: Tuple[str, ...]) -> FontLibrary:
    """The FontLibrary of a tuple of folders (cached for the process)."""
    return FontLibrary(dirs)
