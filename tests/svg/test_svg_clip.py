"""load_svg: clip-path / <clipPath>, mask / <mask> and nested-viewport clipping.

References: hand-computed matrices and regions from the SVG / CSS Masking definitions (and
resvg's choices where SVG leaves room, see diffvg_jax/svg/read/clipmask.py). No rendering here;
tests/test_render_clip.py checks the renderer and the conformance suite whole documents.
"""
import warnings

import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.svg import SVGWarning, load_svg

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def svg(body, attrs='width="100" height="100"'):
    return f'<svg {NS} {attrs}>{body}</svg>'


def load(body, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no warning unless the test expects one
        return load_svg(svg(body, **kw))


def load_warn(body, match):
    with pytest.warns(SVGWarning, match=match):
        return load_svg(svg(body))


def m(x):
    return np.asarray(x, np.float64)


CIRCLE_CLIP = '<clipPath id="c"><circle cx="50" cy="40" r="20"/></clipPath>'


def test_shape_clip_path_user_space():
    sc = load(CIRCLE_CLIP + '<rect id="r" x="10" y="10" width="80" height="60" fill="red" '
              'transform="translate(5 6)" clip-path="url(#c)"/>')
    (g,) = sc.children
    assert isinstance(g, dv.Group) and g.id is None
    np.testing.assert_array_equal(g.transform, m([[1, 0, 5], [0, 1, 6], [0, 0, 1]]))  # the shape's transform
    (rect,) = g.children
    assert rect.id == "r" and rect.fill is not None
    np.testing.assert_array_equal(rect.transform, np.eye(3))
    (circle,) = g.clip.children
    assert isinstance(circle, dv.Circle) and circle.fill is None and circle.stroke is None
    np.testing.assert_array_equal(circle.center, [50, 40])
    np.testing.assert_array_equal(g.clip.transform, np.eye(3))
    assert g.clip.clip is None and g.mask is None


def test_clip_rule_is_inherited_from_the_clip_path_and_overridable():
    sc = load('<clipPath id="c" clip-rule="evenodd" fill-rule="nonzero"><path d="M0 0 H10 V10 Z"/>'
              '<rect width="5" height="5" clip-rule="nonzero" fill-rule="evenodd"/></clipPath>'
              '<g clip-path="url(#c)"><rect width="9" height="9"/></g>')
    path, rect = sc.children[0].clip.children
    assert path.fill_rule == "evenodd" and rect.fill_rule == "nonzero"


def test_object_bounding_box_units_with_transform():
    # the group's fill box: union of the two rects (strokes do not count) = (10, 20)-(70, 60)
    sc = load('<clipPath id="c" clipPathUnits="objectBoundingBox" transform="translate(0.1 0)">'
              '<rect x="0" y="0" width="0.5" height="1"/></clipPath>'
              '<g clip-path="url(#c)" transform="scale(2)"><rect x="10" y="20" width="20" height="10" '
              'stroke="black" stroke-width="8"/><rect x="50" y="50" width="20" height="10"/></g>')
    (g,) = sc.children
    np.testing.assert_array_equal(g.transform, m([[2, 0, 0], [0, 2, 0], [0, 0, 1]]))
    bbox = m([[60, 0, 10], [0, 40, 20], [0, 0, 1]])
    np.testing.assert_allclose(g.clip.transform, m([[1, 0, 0.1], [0, 1, 0], [0, 0, 1]]) @ bbox, rtol=1e-6)


def test_object_bounding_box_of_curves_is_exact():
    # a circle's box is the circle's, not its Bezier control points' (which bulge out)
    sc = load('<clipPath id="c" clipPathUnits="objectBoundingBox"><rect width="1" height="1"/></clipPath>'
              '<circle cx="30" cy="40" r="10" clip-path="url(#c)"/>')
    np.testing.assert_allclose(sc.children[0].clip.transform, m([[20, 0, 20], [0, 20, 30], [0, 0, 1]]), atol=1e-4)


def test_object_bounding_box_on_an_empty_box_is_not_rendered():
    sc = load_warn('<clipPath id="c" clipPathUnits="objectBoundingBox"><rect width="1" height="1"/></clipPath>'
                   '<line x1="0" y1="5" x2="50" y2="5" stroke="black" clip-path="url(#c)"/><rect width="2" height="2"/>',
                   "empty bounding box")
    assert [type(c) for c in sc.children] == [dv.Rect]


def test_clip_path_on_clip_path_and_on_its_children():
    sc = load('<clipPath id="inner"><rect x="0" y="0" width="30" height="30"/></clipPath>'
              '<clipPath id="child"><circle cx="5" cy="5" r="5"/></clipPath>'
              '<clipPath id="c" clip-path="url(#inner)" transform="translate(1 2)">'
              '<rect x="10" y="10" width="40" height="40" transform="rotate(10)" clip-path="url(#child)"/>'
              '<circle cx="60" cy="60" r="9"/></clipPath>'
              '<rect width="100" height="100" clip-path="url(#c)"/>')
    clip = sc.children[0].clip
    np.testing.assert_array_equal(clip.transform, m([[1, 0, 1], [0, 1, 2], [0, 0, 1]]))
    assert isinstance(clip.clip.children[0], dv.Rect)
    g, circle = clip.children
    assert isinstance(g, dv.Group) and isinstance(circle, dv.Circle)
    rot = np.deg2rad(10)
    np.testing.assert_allclose(g.transform, [[np.cos(rot), -np.sin(rot), 0], [np.sin(rot), np.cos(rot), 0], [0, 0, 1]],
                               atol=1e-7)
    (rect,) = g.children
    np.testing.assert_array_equal(rect.transform, np.eye(3))
    assert isinstance(g.clip.children[0], dv.Circle)


def test_use_inside_clip_path_and_invalid_children():
    body = ('<defs><rect id="r" x="1" y="2" width="3" height="4" transform="scale(2)"/>'
            '<g id="grp"><rect width="1" height="1"/></g></defs>'
            '<clipPath id="c"><use href="#r" x="10" y="20" transform="translate(5 0)"/>'
            '<use href="#grp"/><g><rect width="5" height="5"/></g><text>hi</text><line x2="5" y2="5"/>'
            '<rect width="5" height="5" display="none"/></clipPath>'
            '<rect width="100" height="100" clip-path="url(#c)"/>')
    with pytest.warns(SVGWarning) as record:
        sc = load_svg(svg(body))
    messages = " | ".join(str(w.message) for w in record)
    assert "must reference a shape" in messages and "not a valid <clipPath> child" in messages
    assert "<text> is not supported" not in messages   # text in a clipPath: its glyph outlines (svg/text/)
    rect, text = sc.children[0].clip.children
    assert isinstance(text, dv.Group) and isinstance(text.children[0], dv.Path) and text.children[0].fill is None
    np.testing.assert_array_equal(rect.p_min, [1, 2])
    np.testing.assert_allclose(rect.transform, m([[2, 0, 15], [0, 2, 20], [0, 0, 1]]))


def test_missing_reference_draws_unclipped_and_wrong_kind_hides():
    sc = load_warn('<rect x="1" y="2" width="3" height="4" transform="translate(7 8)" clip-path="url(#nope)"/>',
                   "names no element")
    (rect,) = sc.children
    assert isinstance(rect, dv.Rect)
    np.testing.assert_array_equal(rect.transform, m([[1, 0, 7], [0, 1, 8], [0, 0, 1]]))
    sc = load_warn('<linearGradient id="lg"/><rect width="3" height="4" clip-path="url(#lg)"/>'
                   '<g mask="url(#lg)"><rect width="3" height="4"/></g><circle r="2"/>', "not a <(clipPath|mask)>")
    assert [type(c) for c in sc.children] == [dv.Circle]


def test_unsupported_clip_path_values_warn():
    sc = load_warn('<rect width="3" height="4" clip-path="circle(10px)"/>', "is not supported")
    assert isinstance(sc.children[0], dv.Rect)


@pytest.mark.parametrize("body", [
    '<clipPath id="a" clip-path="url(#a)"><rect width="5" height="5"/></clipPath>',
    '<clipPath id="a"><rect width="5" height="5" clip-path="url(#a)"/></clipPath>',
    '<clipPath id="a" clip-path="url(#b)"><rect width="5" height="5"/></clipPath>'
    '<clipPath id="b" clip-path="url(#a)"><rect width="5" height="5"/></clipPath>',
])
def test_clip_reference_cycles_warn_and_terminate(body):
    sc = load_warn(body + '<rect width="9" height="9" clip-path="url(#a)"/>', "reference cycle")
    assert sc.children[0].clip is not None


def test_deep_clip_chains_raise_a_clear_error():
    chain = "".join(f'<clipPath id="c{i}" clip-path="url(#c{i + 1})"><rect width="9" height="9"/></clipPath>'
                    for i in range(400))
    with pytest.raises(ValueError, match="clip-path references nested deeper than"):
        load_svg(svg(chain + '<rect width="9" height="9" clip-path="url(#c0)"/>'))


def test_mask_cycle_through_content_warns():
    sc = load_warn('<mask id="m"><rect width="9" height="9" fill="white" mask="url(#m)"/></mask>'
                   '<rect width="9" height="9" mask="url(#m)"/>', "reference cycle")
    (g,) = sc.children
    assert isinstance(g.mask.children[0], dv.Rect)   # the inner reference was dropped


def test_empty_clip_path_keeps_an_empty_clip():
    sc = load('<clipPath id="c"/><rect width="9" height="9" clip-path="url(#c)"/>')
    assert sc.children[0].clip.children == ()


def test_mask_default_region_is_the_bounding_box_plus_ten_percent():
    sc = load('<mask id="k"><rect width="100" height="100" fill="white"/></mask>'
              '<rect x="10" y="20" width="50" height="40" mask="url(#k)"/>')
    mask = sc.children[0].mask
    np.testing.assert_allclose(mask.region, [5, 16, 60, 48], rtol=1e-6)
    np.testing.assert_array_equal(mask.transform, np.eye(3))
    assert mask.mask_type == "luminance" and mask.mask is None
    assert isinstance(mask.children[0], dv.Rect) and mask.children[0].fill is not None


def test_mask_units_content_units_and_type():
    sc = load('<mask id="k" maskUnits="userSpaceOnUse" x="10%" y="5" width="50%" height="30" '
              'maskContentUnits="objectBoundingBox" style="mask-type: alpha">'
              '<rect width="0.5" height="1"/></mask>'
              '<mask id="k2" mask-type="alpha" mask="url(#k)" x="0.25" y="25%" width="0.5" height="0.5">'
              '<circle cx="5" cy="5" r="5"/></mask>'
              '<g mask="url(#k2)"><rect x="20" y="40" width="40" height="20"/></g>', attrs='width="200" height="100"')
    mask = sc.children[0].mask
    assert mask.mask_type == "alpha"
    np.testing.assert_allclose(mask.region, [30, 45, 20, 10], rtol=1e-6)    # fractions of the box
    inner = mask.mask
    assert inner.mask_type == "alpha"
    np.testing.assert_allclose(inner.region, [20, 5, 100, 30], rtol=1e-6)   # % of the 200 x 100 viewport
    np.testing.assert_allclose(inner.transform, m([[40, 0, 20], [0, 20, 40], [0, 0, 1]]))


def test_mask_with_zero_region_or_on_an_empty_box_is_not_rendered():
    sc = load_warn('<mask id="k" width="0"><rect width="9" height="9"/></mask>'
                   '<rect width="9" height="9" mask="url(#k)"/><circle r="2"/>', "mask region")
    assert [type(c) for c in sc.children] == [dv.Circle]
    sc = load('<mask id="k"><rect width="9" height="9"/></mask>'
              '<line x2="9" stroke="black" mask="url(#k)"/><circle r="2"/>')
    assert [type(c) for c in sc.children] == [dv.Circle]


def test_use_carries_clip_in_its_translated_space():
    sc = load(CIRCLE_CLIP + '<defs><rect id="r" width="10" height="10"/></defs>'
              '<use href="#r" x="30" y="40" clip-path="url(#c)"/>')
    (g,) = sc.children
    np.testing.assert_array_equal(g.transform, m([[1, 0, 30], [0, 1, 40], [0, 0, 1]]))
    assert isinstance(g.clip.children[0], dv.Circle)


# ------------------------------------------------------------------- nested viewports

def test_nested_svg_with_size_is_clipped_to_its_viewport():
    sc = load('<svg x="10" y="20" width="40" height="30" viewBox="0 0 20 10" preserveAspectRatio="none" '
              'transform="translate(1 2)"><rect width="50" height="50"/></svg>')
    (g,) = sc.children
    inner = m([[1, 0, 10], [0, 1, 20], [0, 0, 1]]) @ m([[2, 0, 0], [0, 3, 0], [0, 0, 1]])
    np.testing.assert_allclose(g.transform, m([[1, 0, 1], [0, 1, 2], [0, 0, 1]]) @ inner)
    (box,) = g.clip.children
    np.testing.assert_array_equal(box.p_min, [10, 20])
    np.testing.assert_array_equal(box.p_max, [50, 50])
    # the clip rectangle, through the clip and group transforms, is the viewport in the parent
    np.testing.assert_allclose(np.asarray(g.clip.transform, np.float64), np.linalg.inv(inner), rtol=1e-6)


@pytest.mark.parametrize("attrs", ['width="40" height="30" overflow="visible"', 'width="40" height="30" '
                                   'style="overflow: auto"', 'viewBox="0 0 10 10"', 'width="40"'])
def test_nested_svg_without_clipping(attrs):
    sc = load(f'<svg {attrs}><rect width="50" height="50"/></svg>')
    assert sc.children[0].clip is None


def test_use_of_svg_and_symbol_clips_to_the_use_size():
    sc = load('<defs><svg id="s" viewBox="0 0 10 10"><rect width="20" height="20"/></svg>'
              '<symbol id="y"><rect width="20" height="20"/></symbol></defs>'
              '<use href="#s" width="30" x="5"/><use href="#y" width="8" height="9" x="2" y="3"/>')
    use_svg, use_symbol = sc.children
    (box,) = use_svg.children[0].clip.children
    np.testing.assert_array_equal(box.p_max, [30, 100])     # width from the use, height 100%
    (box,) = use_symbol.children[0].clip.children
    np.testing.assert_array_equal(np.concatenate([box.p_min, box.p_max]), [0, 0, 8, 9])
    np.testing.assert_array_equal(use_symbol.transform, m([[1, 0, 2], [0, 1, 3], [0, 0, 1]]))


def test_nested_svg_with_clip_path_wraps_the_viewport_group():
    sc = load(CIRCLE_CLIP + '<svg width="40" height="30" transform="translate(3 4)" clip-path="url(#c)">'
              '<rect width="50" height="50"/></svg>')
    (outer,) = sc.children
    np.testing.assert_array_equal(outer.transform, m([[1, 0, 3], [0, 1, 4], [0, 0, 1]]))
    assert isinstance(outer.clip.children[0], dv.Circle)
    (viewport,) = outer.children
    assert isinstance(viewport.clip.children[0], dv.Rect)


def test_clip_path_and_mask_on_the_root_svg_apply_inside_the_viewbox():
    text = (f'<svg {NS} width="100" height="50" viewBox="0 0 20 10" clip-path="url(#c)" mask="url(#k)">'
            '<clipPath id="c"><rect x="2" y="1" width="5" height="4"/></clipPath>'
            '<mask id="k" maskUnits="userSpaceOnUse" x="0" y="0" width="20" height="10">'
            '<rect width="20" height="10" fill="white"/></mask>'
            '<rect width="20" height="10" fill="green"/><rect width="3" height="3"/></svg>')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scene = load_svg(text)
    (root,) = scene.children
    m(root.transform)   # the viewBox mapping, scale 5
    np.testing.assert_allclose(np.asarray(root.transform)[0, 0], 5.0)
    (clipped,) = root.children
    assert len(clipped.children) == 2 and clipped.mask is not None
    (box,) = clipped.clip.children
    np.testing.assert_allclose(np.asarray(box.p_min), [2, 1])   # in viewBox units: under the mapping
    # a clip-path naming something that is not a clipPath: nothing is rendered
    bad = text.replace('clip-path="url(#c)"', 'clip-path="url(#k)"')
    with pytest.warns(SVGWarning):
        assert load_svg(bad).children == ()


def test_mask_cycles_drop_the_link_resvg_drops():
    """Which link of a mask cycle is dropped is undefined in SVG; resvg walks the masks in
    document order and drops, for each, the links leading back to it from the element it
    links to. Two masks masking each other: the second mask's link goes, so an element
    masked by the second gets its content alone, one masked by the first gets both."""
    grad = ('<linearGradient id="g"><stop offset="0" stop-color="white"/><stop offset="1" stop-color="black"/>'
            '</linearGradient>')
    body = (grad + '<mask id="m1" mask="url(#m2)"><rect width="10" height="10" fill="url(#g)"/></mask>'
            '<mask id="m2" mask="url(#m1)"><rect width="10" height="10" fill="url(#g)"/></mask>'
            '<rect id="a" width="10" height="10" mask="url(#m2)"/><rect id="b" width="10" height="10" '
            'mask="url(#m1)"/>')
    with pytest.warns(SVGWarning, match="cycle"):
        a, b = load_svg(svg(body)).children
    assert a.mask is not None and a.mask.mask is None
    assert b.mask.mask is not None and b.mask.mask.mask is None
    on_child = (grad + '<mask id="m1"><rect id="r1" width="10" height="10" fill="url(#g)" mask="url(#m2)"/></mask>'
                '<mask id="m2"><rect id="r2" width="10" height="10" fill="url(#g)" mask="url(#m1)"/></mask>'
                '<rect width="10" height="10" mask="url(#m1)"/><rect width="10" height="10" mask="url(#m2)"/>')
    with pytest.warns(SVGWarning, match="cycle"):
        first, second = load_svg(svg(on_child)).children
    (inner,) = first.mask.children          # r1, masked by m2 whose r2 is unmasked
    assert isinstance(inner, dv.Group) and inner.mask is not None
    assert not isinstance(inner.mask.children[0], dv.Group)
    assert not isinstance(second.mask.children[0], dv.Group)   # r2's link back to m1 is gone
