"""load_svg: scene structure, numbers, colours, transforms, units, CSS cascade, bad input.

Independent references: hand-computed matrices and colours, the SVG / CSS specs' numbers.
No rendering here (fast)."""
import io
import warnings

import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.svg import SVGWarning, load_svg
from diffvg_jax.svg.values.colors import parse_color
from diffvg_jax.svg.values.transforms import parse_transform
from support.scene_nodes import shapes

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def svg(body, attrs='width="100" height="50"'):
    return f'<svg {NS} {attrs}>{body}</svg>'


def only(scene):
    s = shapes(scene)
    assert len(s) == 1, s
    return s[0]


# ------------------------------------------------------------------- structure, numbers

def test_rect_numbers_are_float32_leaves_and_ids_static():
    sc = load_svg(svg('<rect id="r1" x="1.5" y="2" width="10" height="4" rx="1" fill="#ff0000"/>'))
    assert (sc.width, sc.height) == (100, 50)
    r = only(sc)
    assert isinstance(r, dv.Rect) and r.id == "r1"
    np.testing.assert_array_equal(r.p_min, [1.5, 2.0])
    np.testing.assert_array_equal(r.p_max, [11.5, 6.0])
    np.testing.assert_array_equal(r.corner_radius, [1.0, 1.0])   # ry defaults to rx
    np.testing.assert_array_equal(r.fill.color, [1, 0, 0, 1])
    leaves = __import__("jax").tree_util.tree_leaves(sc)
    assert leaves and all(l.dtype == np.float32 for l in leaves)


def test_every_shape_kind():
    sc = load_svg(svg('<circle cx="5" cy="6" r="3"/><ellipse cx="1" cy="2" rx="3" ry="4"/>'
                      '<line x1="0" y1="1" x2="2" y2="3" stroke="red"/><polyline points="0,0 1,1 2,0"/>'
                      '<polygon points="0 0 4 0 4 4"/><path d="M0 0 L10 0 Q 10 10 0 10 C 0 5 1 1 0 0 Z"/>'))
    c, e, l, pl, pg, p = shapes(sc)
    assert isinstance(c, dv.Circle) and float(c.radius) == 3 and list(c.center) == [5, 6]
    assert isinstance(e, dv.Ellipse) and list(e.radius) == [3, 4]
    assert isinstance(l, dv.Polyline) and l.fill is None and l.points.shape == (2, 2)
    assert isinstance(pl, dv.Polyline) and pl.points.shape == (3, 2) and pl.fill is not None
    assert isinstance(pg, dv.Polygon) and pg.points.shape == (3, 2)
    assert isinstance(p, dv.Path) and p.degrees == (1, 2, 3) and p.closed == (True,)
    # closed: the final end point (== start) is omitted, as the Path contract says
    np.testing.assert_array_equal(p.points, [[0, 0], [10, 0], [10, 10], [0, 10], [0, 5], [1, 1]])


def test_path_commands_relative_implicit_and_smooth():
    sc = load_svg(svg('<path d="m10 10 20 0 0 20 h -5 v -5 H 0 V 0 M 50 50 s 10 10 20 0 t 10 0 z"/>'))
    p = only(sc)
    assert p.subpath_sizes == (6, 3) and p.closed == (False, True)
    assert p.degrees == (1,) * 6 + (3, 2, 1)
    np.testing.assert_allclose(p.points[:7], [[10, 10], [30, 10], [30, 30], [25, 30], [25, 25], [0, 25], [0, 0]])
    # S after M: first control point is the current point; T after S: no reflection
    np.testing.assert_allclose(p.points[7:], [[50, 50], [50, 50], [60, 60], [70, 50], [70, 50], [80, 50]])


def test_broken_path_renders_up_to_the_error_and_warns():
    with pytest.warns(SVGWarning, match=r"<path id='p'>.*d:"):
        sc = load_svg(svg('<path id="p" d="M 10 10 L 20 10 L 20 20 L 30 x 40"/>'))
    np.testing.assert_array_equal(only(sc).points, [[10, 10], [20, 10], [20, 20]])


def test_arc_becomes_cubics_within_tolerance():
    sc = load_svg(svg('<path d="M 0 50 A 50 50 0 0 1 100 50"/>', 'width="100" height="100"'))
    p = only(sc)
    assert set(p.degrees) == {3}
    pts = np.asarray(p.points, np.float64)
    t = np.linspace(0, 1, 50)[:, None]
    for k in range(len(p.degrees)):
        c = pts[3 * k:3 * k + 4]
        b = ((1 - t) ** 3) * c[0] + 3 * ((1 - t) ** 2) * t * c[1] + 3 * (1 - t) * t * t * c[2] + t ** 3 * c[3]
        r = np.linalg.norm(b - [50, 50], axis=1)
        assert np.abs(r - 50).max() < 0.01
        assert np.all(b[:, 1] <= 50 + 1e-3)   # sweep=1 from the left goes over the top (y up)


def test_root_display_none_and_negative_radial_radius():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hidden = load_svg(svg('<rect width="10" height="10"/>', 'width="20" height="20" display="none"'))
        grad = load_svg(svg('<radialGradient id="g" r="-1"><stop offset="0" stop-color="red"/>'
                            '<stop offset="1" stop-color="#008000"/></radialGradient>'
                            '<rect width="10" height="10" fill="url(#g)"/>'))
    assert hidden.children == () and (hidden.width, hidden.height) == (20, 20)
    # SVG calls r < 0 an error; resvg paints it as r = 0: the last stop's colour
    (rect,) = shapes(grad)
    assert isinstance(rect.fill, dv.Solid)
    np.testing.assert_allclose(rect.fill.color, [0, 128 / 255, 0, 1], atol=1e-6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_svg(svg('<radialGradient id="g" r="-1"><stop offset="0" stop-color="red"/><stop offset="1"/></radialGradient>'
                     '<rect width="1" height="1" fill="url(#g)"/>'))
    assert any("negative r" in str(w.message) for w in caught), [str(w.message) for w in caught]


def test_bounding_box_gradient_on_a_straight_line_uses_the_fallback():
    grads = ('<linearGradient id="g"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue"/>'
             '</linearGradient>')
    sc = load_svg(svg(grads + '<line x1="1" y1="5" x2="9" y2="5" stroke="url(#g) #008000"/>'
                      '<line x1="1" y1="5" x2="9" y2="5" stroke="url(#g)"/>'))
    with_fallback, without = shapes(sc)
    np.testing.assert_allclose(with_fallback.stroke.color, [0, 128 / 255, 0, 1], atol=1e-6)
    assert without.stroke is None   # no fallback: not painted


def test_viewbox_becomes_root_group_transform():
    sc = load_svg(svg('<rect width="10" height="10"/>', 'width="200" height="100" viewBox="10 0 100 100"'))
    (root,) = sc.children
    assert isinstance(root, dv.Group)
    # meet, xMidYMid: scale 1, centred horizontally: tx = -10 + (200 - 100) / 2
    np.testing.assert_allclose(root.transform, [[1, 0, 40], [0, 1, 0], [0, 0, 1]])
    sc = load_svg(svg('<rect width="10" height="10"/>', 'width="200" height="100" viewBox="0 0 100 100" '
                      'preserveAspectRatio="xMaxYMax slice"'))
    np.testing.assert_allclose(sc.children[0].transform, [[2, 0, 0], [0, 2, -100], [0, 0, 1]])
    sc = load_svg(svg('<rect width="1" height="1"/>', 'viewBox="0 0 40 20"'))
    assert (sc.width, sc.height) == (40, 20)


def test_root_opacity_is_a_group_layer_and_empty_documents_have_no_root_group():
    sc = load_svg(svg('<rect width="10" height="10"/>', 'width="100" height="50" opacity="0.5"'))
    (root,) = sc.children
    assert isinstance(root, dv.Group) and float(root.opacity) == 0.5
    np.testing.assert_array_equal(root.transform, np.eye(3))
    sc = load_svg(svg('<rect width="10" height="10"/>', 'width="100" height="50" viewBox="0 0 50 25" opacity="0.25"'))
    assert float(sc.children[0].opacity) == 0.25 and float(sc.children[0].transform[0, 0]) == 2.0
    # Nothing to draw: no root group, so the saved file loads back as the same empty tree.
    empty = load_svg(svg('<g/>', 'viewBox="0 0 10 10"'))
    assert empty.children == ()
    buf = io.StringIO()
    dv.save_svg(empty, buf)
    assert load_svg(buf.getvalue()).children == ()


def test_units_resolve_like_resvg():
    sc = load_svg(svg('<g font-size="20"><rect x="1in" y="2pt" width="1em" height="50%" stroke-width="1mm"/></g>',
                      'width="100" height="80"'))
    r = only(sc)
    np.testing.assert_allclose(r.p_min, [96, 8 / 3], rtol=1e-6)
    np.testing.assert_allclose(r.p_max, [96 + 20, 8 / 3 + 40], rtol=1e-6)
    np.testing.assert_allclose(r.stroke_width, 96 / 25.4, rtol=1e-6)


@pytest.mark.parametrize("text,rgba", [
    ("red", (1, 0, 0, 1)), ("#0f08", (0, 1, 0, 0x88 / 255)), ("#00800080", (0, 128 / 255, 0, 128 / 255)),
    ("rgb(0, 127, 0)", (0, 127 / 255, 0, 1)), ("rgba(0%, 50%, 0%, 0.5)", (0, .5, 0, .5)),
    ("hsl(120, 100%, 25%)", (0, .5, 0, 1)), ("hsla(120, 100%, 25%, 50%)", (0, .5, 0, .5)),
    ("ReD", (1, 0, 0, 1)), ("transparent", (0, 0, 0, 0)), ("rgb(300, -5, 0)", (1, 0, 0, 1)),
])
def test_css_colours(text, rgba):
    np.testing.assert_allclose(parse_color(text), rgba, atol=1e-9)


def test_transform_lists_compose_left_to_right():
    m = parse_transform("translate(10, 20) rotate(90) scale(2 3) skewX(45)")
    c, s = 0.0, 1.0
    expect = (np.array([[1, 0, 10], [0, 1, 20], [0, 0, 1]]) @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
              @ np.diag([2, 3, 1]) @ np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]]))
    np.testing.assert_allclose(m, expect, atol=1e-12)
    np.testing.assert_allclose(parse_transform("rotate(90 10 10)") @ [20, 10, 1], [10, 20, 1], atol=1e-12)


def test_transform_origin_and_css_transform():
    sc = load_svg(svg('<style>#b { transform: scale(2) }</style><rect id="a" width="4" height="4" '
                      'transform="rotate(90)" transform-origin="10 10"/><rect id="b" width="1" height="1" '
                      'transform="scale(5)"/>'))
    a, b = shapes(sc)
    np.testing.assert_allclose(np.asarray(a.transform) @ [10, 10, 1], [10, 10, 1], atol=1e-5)
    np.testing.assert_allclose(np.asarray(a.transform) @ [20, 10, 1], [10, 20, 1], atol=1e-5)
    np.testing.assert_allclose(b.transform, np.diag([2, 2, 1]))


def test_css_cascade_order_inheritance_current_color():
    doc = svg('<style>rect { fill: blue } .c { fill: green } #x { stroke: red !important } '
              'g > .k { stroke-width: 7 }</style>'
              '<g color="#00ff00" fill-opacity="0.5">'
              '<rect id="x" class="c k" style="stroke: blue; fill: currentColor" width="1" height="1"/>'
              '<rect class="c" fill="red" width="1" height="1"/>'
              '<rect width="1" height="1" fill-opacity="inherit"/></g>')
    x, c, plain = shapes(load_svg(doc))
    np.testing.assert_allclose(x.fill.color, [0, 1, 0, 1])        # style attr beats sheet; currentColor
    np.testing.assert_allclose(x.stroke.color, [1, 0, 0, 1])      # !important beats style attr
    assert float(x.stroke_width) == 7 and float(x.fill_opacity) == 0.5
    np.testing.assert_allclose(c.fill.color, [0, 128 / 255, 0, 1], atol=1e-7)  # sheet beats attribute
    np.testing.assert_allclose(plain.fill.color, [0, 0, 1, 1])
    assert float(plain.fill_opacity) == 0.5


def test_use_group_opacity_display_visibility_paint_order():
    doc = svg('<defs><rect id="r" width="2" height="2"/></defs>'
              '<use id="u" href="#r" x="3" y="4" fill="red"/>'
              '<g opacity="0.5"><circle r="1" opacity="0.25" paint-order="stroke markers"/></g>'
              '<rect width="1" height="1" display="none"/><rect width="1" height="1" visibility="hidden"/>')
    sc = load_svg(doc)
    u, g = sc.children
    assert isinstance(u, dv.Group) and u.id == "u"
    np.testing.assert_allclose(u.transform, [[1, 0, 3], [0, 1, 4], [0, 0, 1]])
    np.testing.assert_allclose(u.children[0].fill.color, [1, 0, 0, 1])   # style inherited from <use>
    assert float(g.opacity) == 0.5 and float(g.children[0].opacity) == 0.25
    assert g.children[0].paint_order == "stroke"


def test_object_bounding_box_gradient_becomes_transform():
    doc = svg('<linearGradient id="g" x2="0.5" gradientTransform="translate(0.1 0)" spreadMethod="reflect">'
              '<stop offset="0" stop-color="red"/><stop offset="50%" stop-color="blue" stop-opacity="0.5"/>'
              '</linearGradient><rect x="10" y="20" width="40" height="10" fill="url(#g)"/>')
    g = only(load_svg(doc)).fill
    assert isinstance(g, dv.LinearGradient) and g.spread == "reflect"
    np.testing.assert_allclose(g.transform, [[40, 0, 10 + 4], [0, 10, 20], [0, 0, 1]], rtol=1e-6)
    np.testing.assert_allclose(g.end, [0.5, 0])
    np.testing.assert_allclose(g.offsets, [0, 0.5])
    np.testing.assert_allclose(g.colors, [[1, 0, 0, 1], [0, 0, 1, 0.5]])


def test_radial_gradient_href_inheritance():
    doc = svg('<radialGradient id="a"><stop offset="0" stop-color="red"/><stop offset="1"/></radialGradient>'
              '<radialGradient id="b" href="#a" gradientUnits="userSpaceOnUse" cx="5" cy="6" r="7" fx="4" fr="1"/>'
              '<rect width="10" height="10" fill="url(#b)"/>')
    g = only(load_svg(doc)).fill
    assert isinstance(g, dv.RadialGradient)
    np.testing.assert_allclose([*g.center, g.radius, *g.focal, g.focal_radius], [5, 6, 7, 4, 6, 1])
    np.testing.assert_allclose(g.colors[:, :3], [[1, 0, 0], [0, 0, 0]])


def test_dasharray_splits_stroke_into_dash_subpaths():
    sc = load_svg(svg('<path id="p" d="M 0 10 L 100 10" stroke="black" fill="red" stroke-dasharray="10 5" '
                      'stroke-dashoffset="5"/>'))
    fill, dashes = shapes(sc)
    assert fill.stroke is None and dashes.fill is None and dashes.id == "p-dashes"
    # offset 5: dashes [0,5], [10,20], [25,35], ... [85,95], [100,100)
    starts = np.asarray(dashes.points)[0::2, 0]
    ends = np.asarray(dashes.points)[1::2, 0]
    np.testing.assert_allclose(starts, [0, 10, 25, 40, 55, 70, 85], atol=1e-4)
    np.testing.assert_allclose(ends, [5, 20, 35, 50, 65, 80, 95], atol=1e-4)


# ------------------------------------------------------------------- unsupported / bad input

def test_unsupported_features_warn_once_naming_element():
    doc = svg('<foreignObject id="t1"/><foreignObject id="t2"/><rect width="1" height="1" filter="url(#f)"/>')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        sc = load_svg(doc)
    msgs = [str(x.message) for x in w if issubclass(x.category, SVGWarning)]
    assert sum("<foreignObject" in m for m in msgs) == 1 and "t1" in msgs[0]
    assert any("filter" in m for m in msgs)
    assert len(shapes(sc)) == 1


@pytest.mark.parametrize("doc,match", [
    ("<svg", "malformed XML"),
    (f'<svg {NS} width="0" height="10"/>', "canvas size"),
    (f'<svg {NS} width="1e9" height="10"/>', "exceeds"),
    ('<html/>', "not an SVG"),
])
def test_bad_documents_raise_value_error(doc, match):
    with pytest.raises(ValueError, match=match):
        load_svg(doc)


def test_entity_bomb_and_external_entity_are_refused(tmp_path):
    bomb = ('<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
            + "".join(f'<!ENTITY {c} "&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};&{p};">'
                      for p, c in zip("abcdefgh", "bcdefghi"))
            + f']><svg {NS}><desc>&i;</desc></svg>')
    with pytest.raises(ValueError, match="entity"):
        load_svg(bomb)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    ext = (f'<!DOCTYPE svg [<!ENTITY x SYSTEM "file://{secret}">]><svg {NS}><rect id="&x;" width="1" '
           'height="1"/></svg>')
    with pytest.warns(SVGWarning, match="external entity"):
        sc = load_svg(ext)
    assert "TOPSECRET" not in repr(only(sc).id)
    ok = f'<!DOCTYPE svg [<!ENTITY c "green">]><svg {NS}><rect fill="&c;" width="1" height="1"/></svg>'
    np.testing.assert_allclose(only(load_svg(ok)).fill.color, [0, 128 / 255, 0, 1], atol=1e-7)


def test_use_cycles_deep_nesting_and_use_bombs(monkeypatch):
    with pytest.warns(SVGWarning, match="cycle"):
        sc = load_svg(svg('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/><rect width="1" height="1"/></g>'))
    assert len(shapes(sc)) == 1   # as resvg: every <use> that leads into the cycle is dropped
    deep = svg("<g>" * 400 + "</g>" * 400)
    with pytest.raises(ValueError, match="deeper"):
        load_svg(deep)
    # each level doubles: 2^30 shapes if expanded blindly. A lower cap keeps the test fast;
    # the mechanism is the same one that enforces the real MAX_SHAPES.
    monkeypatch.setattr("diffvg_jax.svg.errors.MAX_SHAPES", 2000)
    levels = '<rect id="l0" width="1" height="1"/>' + "".join(
        f'<g id="l{i}"><use href="#l{i - 1}"/><use href="#l{i - 1}"/></g>' for i in range(1, 31))
    with pytest.raises(ValueError, match="more than"):
        load_svg(svg(levels))


def test_nan_and_missing_references():
    with pytest.warns(SVGWarning):
        sc = load_svg(svg('<rect width="NaN" height="1"/><path d="M 0 0 L inf 1"/>'
                          '<rect width="1" height="1" fill="url(#nope)"/><use href="#nope"/>'))
    for s in shapes(sc):
        for leaf in __import__("jax").tree_util.tree_leaves(s):
            assert np.all(np.isfinite(leaf))


def test_sources_path_stream_bytes(tmp_path):
    doc = svg('<circle r="2"/>')
    p = tmp_path / "a.svg"
    p.write_text(doc)
    for src in (str(p), p, io.StringIO(doc), doc.encode(), io.BytesIO(doc.encode())):
        assert isinstance(only(load_svg(src)), dv.Circle)
    with pytest.raises(ValueError, match="cannot read"):
        load_svg(str(tmp_path / "missing.svg"))
