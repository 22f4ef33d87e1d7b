"""Font discovery and matching (svg/text/fonts.py): family lists, generic families, CSS
weight / style matching, DIFFVG_FONT_DIRS, and the shipped fallback font."""
import os
import warnings

import pytest

import diffvg_jax as dv
from diffvg_jax.svg import SVGWarning
from diffvg_jax.svg.text import DEFAULT_FONT, ENV_VAR, library, search_dirs
from diffvg_jax.svg.text.fonts import default_face, parse_families
from support.conformance_suite import fonts_dir


def _file(face):
    return os.path.basename(face.path)


def test_the_default_font_is_shipped_small_and_licensed():
    assert os.path.getsize(DEFAULT_FONT) < 100_000
    assert os.path.exists(os.path.join(os.path.dirname(DEFAULT_FONT), "Noto-LICENSE-OFL.txt"))
    face = default_face()
    assert face.families == ("noto sans",) and face.weight == 400
    assert all(ord(c) in face.codepoints for c in "Hello, World! éü")


def test_family_lists_are_parsed_like_css():
    assert parse_families("'Source Sans Pro', \"Noto  Sans\", serif") == ["source sans pro", "noto sans", "serif"]


@pytest.mark.parametrize("families, weight, style, expected", [
    (["noto sans"], 400, "normal", "NotoSans-Regular.ttf"),
    (["noto sans"], 700, "normal", "NotoSans-Bold.ttf"),
    (["noto sans"], 600, "normal", "NotoSans-Bold.ttf"),      # > 500: the next heavier first
    (["noto sans"], 900, "normal", "NotoSans-Black.ttf"),
    (["noto sans"], 350, "normal", "NotoSans-Light.ttf"),     # < 400: the next lighter first
    (["noto sans"], 50, "normal", "NotoSans-Thin.ttf"),
    (["noto sans"], 400, "italic", "NotoSans-Italic.ttf"),
    (["noto sans"], 400, "oblique", "NotoSans-Italic.ttf"),   # oblique falls back to italic
    (["invalid", "noto serif"], 400, "normal", "NotoSerif-Regular.ttf"),
    (["serif"], 400, "normal", "NotoSerif-Regular.ttf"),
    (["monospace"], 400, "normal", "NotoMono-Regular.ttf"),
    (["mplus 1p"], 400, "normal", "MPLUS1p-Regular.ttf"),
])
def test_css_font_matching(families, weight, style, expected):
    lib = library((fonts_dir(),))
    face, found = lib.match(families, weight, style, 5)
    assert found and _file(face) == expected


def test_environment_folders_are_searched(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, os.pathsep.join([str(tmp_path), "/nowhere"]))
    assert search_dirs(["/a"]) == ("/a", str(tmp_path), "/nowhere")
    assert search_dirs("/b")[0] == "/b"
    monkeypatch.delenv(ENV_VAR)
    assert search_dirs(None) == ()


def test_a_missing_family_falls_back_to_the_shipped_font_with_a_warning(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><text y="20" font-family="Nope">Hi</text></svg>'
    with pytest.warns(SVGWarning, match=r"<text>: font-family 'Nope' not found"):
        scene = dv.load_svg(svg)
    paths = [c for c in scene.children[0].children]
    assert len(paths) == 1 and len(paths[0].points) > 10


def test_a_family_is_found_through_font_dirs():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
           '<text y="20" font-family="Noto Serif">Hi</text></svg>')
    with warnings.catch_warnings():
        warnings.simplefilter("error", SVGWarning)
        serif = dv.load_svg(svg, font_dirs=fonts_dir())
    with pytest.warns(SVGWarning, match="not found"):
        fallback = dv.load_svg(svg, font_dirs=[])
    a, b = serif.children[0].children[0], fallback.children[0].children[0]
    assert a.points.shape != b.points.shape   # a different font drew it


def test_colour_glyphs_warn_and_draw_nothing():
    """A bitmap-only colour font (CBDT, no outlines) loads; its glyphs warn and draw nothing."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
           '<text id="e" y="20" font-family="Noto Color Emoji">\U0001F600</text></svg>')
    with pytest.warns(SVGWarning, match=r"<text id='e'>: colour glyphs"):
        scene = dv.load_svg(svg, font_dirs=fonts_dir())
    assert not scene.children
