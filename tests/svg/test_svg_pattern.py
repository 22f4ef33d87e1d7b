"""<pattern> in load_svg / save_svg: units, viewBox, href, degenerate cases, cycles, limits,
the save -> load round trip, and the resvg conformance cases that use patterns.

Independent references: matrices and sizes computed by hand from the SVG spec's definitions
(patternUnits, patternContentUnits, viewBox); the conformance PNGs (resvg's renderings).
Only the conformance tests render."""
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import diffvg_jax as dv
from diffvg_jax.svg import SVGWarning, load_svg, to_svg_text
from diffvg_jax.svg import errors as svg_errors
from diffvg_jax.svg.dom.xmlsafe import DV_NS

from test_svg_roundtrip import assert_same_scene, pos, shapes, transforms

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def svg(body):
    return f'<svg {NS} width="100" height="100">{body}</svg>'


def fill_of(text, index=0):
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # these documents need no repairs
        return load_svg(svg(text)).children[index].fill


def assert_matrix(m, expected):
    np.testing.assert_allclose(np.asarray(m, np.float64), np.asarray(expected, np.float64), rtol=1e-6, atol=1e-5)


RECT = '<rect id="r" x="10" y="20" width="40" height="20" fill="url(#p)"/>'   # bbox (10, 20)-(50, 40)


def test_user_space_units_size_and_transform():
    p = fill_of('<pattern id="p" patternUnits="userSpaceOnUse" x="3" y="4" width="8" height="6" '
                'patternTransform="rotate(90)"><circle cx="2" cy="2" r="1"/></pattern>' + RECT)
    assert isinstance(p, dv.Pattern)
    np.testing.assert_array_equal(np.asarray(p.size), [8.0, 6.0])
    # tile -> user = rotate(90) @ translate(3, 4): tile origin at R (3, 4) = (-4, 3)
    assert_matrix(p.transform, [[0, -1, -4], [1, 0, 3], [0, 0, 1]])
    assert isinstance(p.children[0], dv.Circle) and p.resolution is None


def test_object_bounding_box_units_are_fractions_of_the_bbox():
    p = fill_of('<pattern id="p" x="0.1" y="0" width="0.25" height="50%"><rect width="5" height="5"/></pattern>'
                + RECT)
    np.testing.assert_allclose(np.asarray(p.size), [10.0, 10.0])          # 0.25 x 40, 0.5 x 20
    assert_matrix(p.transform, [[1, 0, 14], [0, 1, 20], [0, 0, 1]])       # (10 + 0.1 x 40, 20 + 0)
    assert isinstance(p.children[0], dv.Rect)                              # content: user units, no Group


def test_object_bounding_box_x_and_y_default_to_the_bbox_corner():
    # x = y = 0 in objectBoundingBox units is the bbox's corner (10, 20), not the origin
    p = fill_of('<pattern id="p" width="0.25" height="0.5"><rect width="5" height="5"/></pattern>' + RECT)
    assert_matrix(p.transform, [[1, 0, 10], [0, 1, 20], [0, 0, 1]])
    p = fill_of('<pattern id="p" x="bad" width="0.25" height="0.5"><rect width="5" height="5"/></pattern>' + RECT)
    assert_matrix(p.transform, [[1, 0, 10], [0, 1, 20], [0, 0, 1]])


def test_singular_pattern_transform_is_ignored():
    # like a singular gradientTransform: invalid, so the pattern is drawn untransformed
    p = fill_of('<pattern id="p" patternUnits="userSpaceOnUse" x="2" width="8" height="8" '
                'patternTransform="matrix(0 0 0 0 0 0)"><rect width="4" height="4"/></pattern>' + RECT)
    assert isinstance(p, dv.Pattern)
    assert_matrix(p.transform, [[1, 0, 2], [0, 1, 0], [0, 0, 1]])


def test_content_units_object_bounding_box_scales_the_content():
    p = fill_of('<pattern id="p" patternUnits="userSpaceOnUse" width="10" height="10" '
                'patternContentUnits="objectBoundingBox"><rect width="0.1" height="0.2"/></pattern>' + RECT)
    (g,) = p.children
    assert isinstance(g, dv.Group)
    assert_matrix(g.transform, np.diag([40.0, 20.0, 1.0]))


def test_viewbox_takes_precedence_over_content_units():
    p = fill_of('<pattern id="p" patternUnits="userSpaceOnUse" width="20" height="10" viewBox="0 0 4 4" '
                'preserveAspectRatio="xMinYMid meet" patternContentUnits="objectBoundingBox">'
                '<rect width="4" height="4"/></pattern>' + RECT)
    (g,) = p.children
    # meet: scale min(20/4, 10/4) = 2.5; xMin: tx 0; yMid: ty (10 - 4 x 2.5) / 2 = 0
    assert_matrix(g.transform, [[2.5, 0, 0], [0, 2.5, 0], [0, 0, 1]])
    p = fill_of('<pattern id="p" patternUnits="userSpaceOnUse" width="20" height="10" viewBox="0 0 4 4" '
                'preserveAspectRatio="xMaxYMax slice"><rect width="4" height="4"/></pattern>' + RECT)
    # slice: scale 5; xMax: tx = 20 - 20 = 0; yMax: ty = 10 - 20 = -10
    assert_matrix(p.children[0].transform, [[5, 0, 0], [0, 5, -10], [0, 0, 1]])


def test_href_inherits_attributes_and_children():
    p = fill_of('<pattern id="base" patternUnits="userSpaceOnUse" width="7" height="9" x="1">'
                '<rect width="2" height="2" fill="green"/><circle cx="1" cy="1" r="1"/></pattern>'
                '<pattern id="p" xlink:href="#base" width="5"/>' + RECT)
    np.testing.assert_array_equal(np.asarray(p.size), [5.0, 9.0])    # own width, inherited height
    assert_matrix(p.transform, [[1, 0, 1], [0, 1, 0], [0, 0, 1]])    # inherited x, userSpaceOnUse
    assert [type(c) for c in p.children] == [dv.Rect, dv.Circle]
    own = fill_of('<pattern id="base" patternUnits="userSpaceOnUse" width="7" height="9"><rect width="2" '
                  'height="2"/></pattern><pattern id="p" href="#base"><circle cx="1" cy="1" r="1"/></pattern>'
                  + RECT)
    assert [type(c) for c in own.children] == [dv.Circle]              # own children win


def test_content_styles_inherit_from_the_patterns_ancestors():
    scene = load_svg(svg('<g fill="rgb(0,128,0)" stroke="blue"><pattern id="p" patternUnits="userSpaceOnUse" '
                         'width="4" height="4"><rect width="2" height="2"/></pattern></g>'
                         '<g fill="red"><rect x="0" y="0" width="10" height="10" fill="url(#p)" stroke="none"/></g>'))
    p = scene.children[0].children[0].fill
    (rect,) = p.children
    np.testing.assert_allclose(np.asarray(rect.fill.color), [0, 128 / 255, 0, 1], atol=1e-6)
    assert isinstance(rect.stroke, dv.Solid)


def test_zero_size_tile_is_paint_none():
    for size in ('width="0" height="5"', 'width="5"'):
        assert fill_of(f'<pattern id="p" patternUnits="userSpaceOnUse" {size}><rect width="2" height="2"/>'
                       '</pattern>' + RECT) is None


def test_zero_bbox_with_object_bounding_box_uses_the_fallback():
    body = ('<pattern id="p" width="0.5" height="0.5"><rect width="2" height="2"/></pattern>'
            '<line x1="0" y1="5" x2="50" y2="5" stroke="url(#p) rgb(0, 0, 255)"/>'
            '<line x1="0" y1="5" x2="50" y2="5" stroke="url(#p)"/>')
    scene = load_svg(svg(body))
    np.testing.assert_array_equal(np.asarray(scene.children[0].stroke.color), [0, 0, 1, 1])
    assert scene.children[1].stroke is None   # no fallback: stroke none


def test_self_reference_and_cycles_are_cut_with_a_warning():
    body = ('<pattern id="p" patternUnits="userSpaceOnUse" width="4" height="4">'
            '<rect width="2" height="2" fill="url(#p)"/><circle cx="3" cy="3" r="1" fill="url(#q)"/></pattern>'
            '<pattern id="q" patternUnits="userSpaceOnUse" width="4" height="4">'
            '<rect width="2" height="2" fill="url(#p)"/></pattern>' + RECT)
    with pytest.warns(SVGWarning, match="used inside its own content"):
        scene = load_svg(svg(body))
    p = scene.children[0].fill
    assert p.children[0].fill is None                      # p inside p: cut
    inner = p.children[1].fill                             # q inside p: a nested pattern...
    assert isinstance(inner, dv.Pattern)
    assert inner.children[0].fill is None                  # ... whose p reference is cut


def test_href_cycle_between_patterns_is_cut():
    body = ('<pattern id="p" href="#q" patternUnits="userSpaceOnUse" width="4" height="4">'
            '<rect width="2" height="2"/></pattern><pattern id="q" href="#p"/>' + RECT)
    with pytest.warns(SVGWarning, match="href cycle"):
        assert isinstance(load_svg(svg(body)).children[0].fill, dv.Pattern)


def test_content_counts_towards_the_shape_limit(monkeypatch):
    monkeypatch.setattr(svg_errors, "MAX_SHAPES", 50)
    content = "".join(f'<rect x="{i}" width="1" height="1"/>' for i in range(10))
    uses = "".join(f'<rect x="{i}" width="10" height="10" fill="url(#p)"/>' for i in range(6))
    with pytest.raises(ValueError, match="more than 50 shapes"):
        load_svg(svg(f'<pattern id="p" patternUnits="userSpaceOnUse" width="4" height="4">{content}</pattern>'
                     + uses))


def test_pattern_element_itself_draws_nothing_and_is_not_unsupported():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scene = load_svg(svg('<pattern id="p" width="1" height="1"><rect width="2" height="2"/></pattern>'))
    assert scene.children == ()


def test_resolution_attribute():
    p = fill_of('<pattern id="p" patternUnits="userSpaceOnUse" width="4" height="4" '
                f'xmlns:dv="{DV_NS}" dv:resolution="12 7"><rect width="2" height="2"/></pattern>'
                + RECT)
    assert p.resolution == (12, 7)


# ---------------------------------------------------------------------------------------
# save -> load round trip
# ---------------------------------------------------------------------------------------


def patterns(depth=1):
    content = shapes() if depth == 0 else st.one_of(
        shapes(), st.builds(lambda s, p: dv.replace(s, fill=p), shapes(), patterns(depth - 1)))
    return st.builds(
        lambda kids, size, t, res: dv.Pattern(children=tuple(kids), size=size, transform=t, resolution=res),
        st.lists(content, min_size=1, max_size=3),
        st.tuples(pos, pos).map(lambda v: np.array(v, np.float32)), transforms(),
        st.one_of(st.none(), st.tuples(st.integers(1, 300), st.integers(1, 300))))


pattern_scenes = st.builds(
    lambda kids: dv.Scene(children=tuple(kids), width=64, height=64),
    st.lists(st.builds(lambda s, f, k: dv.replace(s, fill=f, stroke=k), shapes(), patterns(),
                       st.one_of(st.none(), patterns(0))), min_size=1, max_size=2))


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(pattern_scenes)
def test_patterns_round_trip(scene):
    text = to_svg_text(scene)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = load_svg(text)
    assert_same_scene(scene, back)


def test_round_trip_checks_patterns():
    """The round trip compares pattern leaves: a changed tile size is detected."""
    p = dv.Pattern(children=(dv.Circle(center=[1, 1], radius=1.0, fill=dv.rgba(1, 0, 0, 1)),), size=[4, 4])
    scene = dv.Scene(children=(dv.Rect(p_min=[0, 0], p_max=[9, 9], fill=p),), width=9, height=9)
    back = load_svg(to_svg_text(scene))
    assert_same_scene(scene, back)
    moved = dv.replace(scene, children=(dv.replace(scene.children[0], fill=dv.replace(p, size=np.array(
        [4, np.nextafter(np.float32(4), np.float32(5))], np.float32))),))
    with pytest.raises(AssertionError):
        assert_same_scene(moved, back)


# ---------------------------------------------------------------------------------------
# conformance cases (resvg reference images)
# ---------------------------------------------------------------------------------------

CONFORMANCE = ["structure/transform-origin/on-pattern-user-space-on-use", "painting/stroke-opacity/with-pattern",
               "painting/stroke/pattern-with-objectBoundingBox-fallback-on-zero-bbox-shape",
               "painting/stroke/pattern",
               # resvg's device tile (raster/patterns.device_tile): a translated tile at a
               # fractional offset (nearest texels), a 37.5 px tile repeated every 38 px,
               # cancelling rotations drawn bicubic, a rotated context pattern (bicubic)
               "paint-servers/pattern/patternUnits=userSpaceOnUse-with-percent",
               "paint-servers/pattern/self-recursive-on-child",
               "paint-servers/pattern/transform-and-patternTransform",
               "painting/context/with-pattern-and-transform-in-use"]


@pytest.fixture(scope="module")
def run():
    from support.conformance_suite import runner
    return runner()


@pytest.mark.parametrize("case", CONFORMANCE)
def test_conformance_case_passes(run, case):
    from diffvg_jax.svg import render_svg
    path = os.path.join(run.HERE, "resvg", case + ".svg")
    ref = run.to_premul_float(run._png_to_rgba(open(path[:-4] + ".png", "rb").read()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = run.to_premul_float(render_svg(open(path, encoding="utf-8").read(), run.SIZE, run.SIZE))
    ok, info = run.compare(out, ref)
    assert ok, f"{case}: {info}"
