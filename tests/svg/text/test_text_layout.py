"""Text becomes Paths of glyph outlines (svg/text/): the outlines against fontTools' own
area and bounds, advances against hmtx, text-anchor, white space, positions, decorations,
clip paths, warnings and save_svg. Uses the shipped font only (no font folders)."""
import warnings

import numpy as np
import pytest
from fontTools.pens.areaPen import AreaPen
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

import diffvg_jax as dv
from diffvg_jax import scene as S
from diffvg_jax.svg import SVGWarning, to_svg_text
from diffvg_jax.svg.dom.xmlsafe import parse_document
from diffvg_jax.svg.text import DEFAULT_FONT, ENV_VAR
from diffvg_jax.svg.text.collect import collect

FONT = TTFont(DEFAULT_FONT)
UPEM = FONT["head"].unitsPerEm


@pytest.fixture(autouse=True)
def _no_font_folders(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def load(body, size=200):
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">{body}</svg>'
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SVGWarning)
        return dv.load_svg(svg)


def paths_of(scene):
    out = []
    for c in scene.children:
        out += paths_of(c) if isinstance(c, S.Group) else [c]
    return out


def bezier_polygons(path):
    """Dense polygons (one per subpath) of a Path's Bezier segments, float64."""
    pts = np.asarray(path.points, np.float64)
    polys, i, k = [], 0, 0
    for size, closed in zip(path.subpath_sizes, path.closed):
        start = pts[i]
        i += 1
        poly, p0 = [start], start
        for j, d in enumerate(path.degrees[k:k + size]):
            ctrl = list(pts[i:i + d]) if not (closed and j == size - 1) else list(pts[i:i + d - 1]) + [start]
            i += d if not (closed and j == size - 1) else d - 1
            c = np.array([p0] + ctrl)
            for t in np.linspace(0, 1, 200)[1:]:
                q = c.copy()
                while len(q) > 1:
                    q = (1 - t) * q[:-1] + t * q[1:]
                poly.append(q[0])
            p0 = c[-1]
        k += size
        polys.append(np.array(poly))
    return polys


def shoelace(poly):
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


@pytest.mark.parametrize("char", ["O", "g", "&amp;", "8"])
def test_glyph_area_and_bounds_match_fonttools(char):
    """The Path's filled area and bounds equal the font's own outline (fontTools' AreaPen /
    BoundsPen on the glyph), scaled by font-size / unitsPerEm and flipped to y down."""
    fs, x, y = 100.0, 20.0, 150.0
    (path,) = paths_of(load(f'<text x="{x}" y="{y}" font-size="{fs}">{char}</text>'))
    name = FONT.getBestCmap()[ord(char.replace("&amp;", "&"))]
    gs = FONT.getGlyphSet()
    area_pen, bounds_pen = AreaPen(gs), BoundsPen(gs)
    gs[name].draw(area_pen)
    gs[name].draw(bounds_pen)
    s = fs / UPEM
    expected_area = abs(area_pen.value) * s * s
    mine = abs(sum(shoelace(p) for p in bezier_polygons(path)))
    assert mine == pytest.approx(expected_area, rel=1e-3)
    x0, y0, x1, y1 = bounds_pen.bounds
    allp = np.concatenate(bezier_polygons(path))
    np.testing.assert_allclose([allp[:, 0].min(), allp[:, 1].min(), allp[:, 0].max(), allp[:, 1].max()],
                               [x + x0 * s, y - y1 * s, x + x1 * s, y - y0 * s], atol=2e-3)


def test_advances_come_from_hmtx():
    """Each glyph starts where the previous one's hmtx advance ends (H-H has no kerning);
    letter-spacing adds between clusters, not after the last."""
    fs = 50.0
    adv = FONT["hmtx"][FONT.getBestCmap()[ord("H")]][0] * fs / UPEM
    a, b = paths_of(load(f'<text x="10" y="100" font-size="{fs}">H<tspan fill="red">H</tspan></text>'))
    np.testing.assert_allclose(np.asarray(b.points) - np.asarray(a.points), np.tile([adv, 0.0], (len(a.points), 1)), atol=1e-4)
    a2, b2 = paths_of(load(f'<text x="10" y="100" font-size="{fs}" letter-spacing="7">H<tspan fill="red">H</tspan></text>'))
    np.testing.assert_allclose(np.asarray(b2.points)[:, 0] - np.asarray(a2.points)[:, 0], adv + 7.0, atol=1e-4)


@pytest.mark.parametrize("anchor, factor", [("middle", 0.5), ("end", 1.0)])
def test_text_anchor_shifts_by_the_advance_width(anchor, factor):
    """text-anchor middle / end move the chunk left by half / all of its advance width
    (the sum of hmtx advances and kerning that HarfBuzz applies: 'HIH' has none)."""
    fs = 40.0
    width = sum(FONT["hmtx"][FONT.getBestCmap()[ord(c)]][0] for c in "HIH") * fs / UPEM
    (start,) = paths_of(load(f'<text x="100" y="100" font-size="{fs}">HIH</text>'))
    (moved,) = paths_of(load(f'<text x="100" y="100" font-size="{fs}" text-anchor="{anchor}">HIH</text>'))
    np.testing.assert_allclose(np.asarray(moved.points)[:, 0], np.asarray(start.points)[:, 0] - factor * width, atol=1e-4)


def test_positions_dx_dy_and_rotate_lists():
    fs = 40.0
    (one,) = paths_of(load(f'<text x="10" y="50" font-size="{fs}">I</text>'))
    (two,) = paths_of(load(f'<text x="10 60" y="50 90" font-size="{fs}">II</text>'))
    p1, p2 = np.asarray(one.points), np.asarray(two.points)
    n = len(p1)
    np.testing.assert_allclose(p2[n:], p1 + [50.0, 40.0], atol=1e-4)     # the 2nd glyph at (60, 90)
    (shifted,) = paths_of(load(f'<text x="10" y="50" dx="3" dy="-4" font-size="{fs}">I</text>'))
    np.testing.assert_allclose(np.asarray(shifted.points), p1 + [3.0, -4.0], atol=1e-4)
    (turned,) = paths_of(load(f'<text x="10" y="50" rotate="90" font-size="{fs}">I</text>'))
    d = p1 - [10.0, 50.0]
    np.testing.assert_allclose(np.asarray(turned.points), np.stack([-d[:, 1], d[:, 0]], 1) + [10.0, 50.0], atol=1e-4)


def _chars(body):
    root = parse_document(f'<svg xmlns="http://www.w3.org/2000/svg">{body}</svg>', lambda *a, **k: None)
    style = {"white-space": "normal", "font-size": "16", "display": "inline"}
    return "".join(collect(root.children[0], style, lambda n, p: p, lambda n: None).chars)


def test_white_space_follows_xml_space():
    assert _chars("<text>\n   a \t  b\n  </text>") == "a b"
    assert _chars('<text xml:space="preserve">  a\tb  </text>') == "  a b  "
    assert _chars("<text> a <tspan> b </tspan> c </text>") == "a b c"
    assert _chars('<text>a <tspan xml:space="preserve">  b  </tspan> c</text>') == "a   b  c"


def test_decorations_are_rectangles_from_the_font_metrics():
    """An underline is a rectangle spanning the advance, at post.underlinePosition, as thick
    as post.underlineThickness (centred on the position), drawn before the glyphs."""
    fs = 100.0
    s = fs / UPEM
    paths = paths_of(load(f'<text x="10" y="100" font-size="{fs}" text-decoration="underline">H</text>'))
    line, glyph = paths
    adv = FONT["hmtx"]["H"][0] * s
    pos, th = FONT["post"].underlinePosition * s, FONT["post"].underlineThickness * s
    p = np.asarray(line.points)
    np.testing.assert_allclose([p[:, 0].min(), p[:, 0].max()], [10.0, 10.0 + adv], atol=1e-4)
    np.testing.assert_allclose([p[:, 1].min(), p[:, 1].max()], [100 - pos - th / 2, 100 - pos + th / 2], atol=1e-4)


def test_text_in_a_clip_path_clips_with_its_outlines():
    scene = load('<clipPath id="c"><text x="10" y="80" font-size="80">O</text></clipPath>'
                 '<rect width="100" height="100" clip-path="url(#c)"/>')
    (group,) = scene.children
    clip_paths = paths_of(S.Group(children=group.clip.children))
    assert len(clip_paths) == 1 and clip_paths[0].fill is None and len(clip_paths[0].subpath_sizes) == 2


def test_unsupported_features_warn_naming_the_feature_and_element():
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50">'
           '<text id="t1" y="20" unicode-bidi="bidi-override">Hi</text></svg>')
    with pytest.warns(SVGWarning, match=r"<text id='t1'>: unicode-bidi"):
        dv.load_svg(svg)


def test_save_svg_writes_the_text_as_paths_that_load_back():
    scene = load('<text x="5" y="40" font-size="30" fill="green" stroke="red">Ag<tspan fill="blue">!</tspan></text>')
    text = to_svg_text(scene)
    assert "<text" not in text and text.count("<path") == 2
    again = dv.load_svg(text)
    for a, b in zip(paths_of(scene), paths_of(again)):
        np.testing.assert_array_equal(np.asarray(a.points), np.asarray(b.points))
        assert a.degrees == b.degrees and a.subpath_sizes == b.subpath_sizes


def test_hostile_text_warns_instead_of_failing():
    """Outlines past float32 are dropped with a warning; empty, self-referencing and
    malformed text loads without error."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="50" height="50">'
           '<text id="big" font-size="1e37" x="3e38" y="10">Hi</text><text/><text>   </text>'
           '<text id="t"><tref xlink:href="#t"/><textPath xlink:href="#t">a</textPath></text>'
           '<text x="nan" y="1e999" dx="a b" rotate="inf" font-size="-5" textLength="-3">ab</text></svg>')
    with pytest.warns(SVGWarning) as record:
        scene = dv.load_svg(svg)
    assert any("<text id='big'>: the text's outlines are not finite" in str(w.message) for w in record)
    assert all(np.all(np.isfinite(np.asarray(p.points))) for p in paths_of(scene))
