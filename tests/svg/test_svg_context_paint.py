"""context-fill / context-stroke (SVG 2 painting 13.3): markers take the marked shape's
paints, <use> content the (nearest) <use>'s, and a paint server keeps the context element's
coordinate system. Checked against the rule itself: the paint objects the loader builds,
and rendered colours against the gradient evaluated by hand at each pixel centre (one
render, one compilation).
"""
import warnings

import numpy as np

import diffvg_jax as dv
from diffvg_jax.svg import load_svg
from diffvg_jax.svg.read.context import group_bbox

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def svg(body, w=100, h=100):
    return f'<svg {NS} width="{w}" height="{h}">{body}</svg>'


def load(body, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # these documents need no repairs
        return load_svg(svg(body, **kw))


def shapes_of(obj):
    """Every shape below ``obj`` (a Scene or Group), in paint order."""
    out = []
    for c in obj.children:
        out += shapes_of(c) if isinstance(c, dv.Group) else [c]
    return out


def color(paint):
    assert isinstance(paint, dv.Solid), paint
    return tuple(np.round(np.asarray(paint.color), 4))


RED, BLUE, GREEN, YELLOW = (1, 0, 0, 1), (0, 0, 1, 1), (0, 0.502, 0, 1), (1, 1, 0, 1)


def test_marker_content_paints_with_the_marked_shapes_fill_and_stroke():
    scene = load('<marker id="m" markerUnits="userSpaceOnUse" markerWidth="4" markerHeight="4">'
                 '<rect width="2" height="2" fill="context-stroke" stroke="context-fill"/></marker>'
                 '<path d="M10 10 L50 10 L50 50" fill="red" stroke="blue" marker-start="url(#m)" '
                 'marker-mid="url(#m)" marker-end="url(#m)"/>')
    path, *marks = shapes_of(scene)
    assert len(marks) == 3
    for rect in marks:
        assert color(rect.fill) == BLUE and color(rect.stroke) == RED


def test_use_content_paints_with_the_nearest_use():
    # resvg's painting/context/in-nested-use: the path lies in use2, itself in use1
    scene = load('<defs><path id="p" d="M0 0 H10 V10 Z" fill="context-stroke" stroke="context-fill"/></defs>'
                 '<use id="use2" href="#p" stroke="green" fill="blue"/>'
                 '<use href="#use2" stroke="red" fill="yellow"/>')
    first, second = shapes_of(scene)
    assert color(first.fill) == GREEN and color(first.stroke) == BLUE
    assert color(second.fill) == GREEN and color(second.stroke) == BLUE


def test_a_use_whose_own_paint_is_context_paint_refers_to_the_enclosing_use():
    scene = load('<defs><rect id="r" width="5" height="5" fill="context-fill"/>'
                 '<use id="inner" href="#r" fill="context-stroke"/></defs>'
                 '<use href="#inner" fill="red" stroke="yellow"/>')
    (rect,) = shapes_of(scene)
    assert color(rect.fill) == YELLOW


def test_the_keyword_is_inherited_as_a_keyword():
    scene = load('<defs><g id="g" fill="context-fill"><rect width="5" height="5"/></g></defs>'
                 '<use href="#g" fill="red"/>')
    (rect,) = shapes_of(scene)
    assert color(rect.fill) == RED


def test_without_a_context_element_the_keywords_paint_nothing():
    scene = load('<pattern id="p" patternUnits="userSpaceOnUse" width="4" height="4">'
                 '<rect width="2" height="2" fill="context-fill" stroke="context-stroke"/>'
                 '<rect x="2" width="2" height="2"/></pattern>'
                 '<rect width="10" height="10" fill="context-fill" stroke="context-stroke"/>'
                 '<rect width="10" height="10" fill="url(#p)"/>')
    free, patterned = scene.children
    assert free.fill is None and free.stroke is None
    tile = patterned.fill.children    # inside a pattern tile there is no context element
    assert tile[0].fill is None and tile[0].stroke is None and tile[1].fill is not None


def test_the_use_bounding_box_is_resvgs_group_box():
    # a 10 x 10 square rotated by 45 degrees: its box mapped as a rectangle
    scene = load('<defs><g id="g" transform="rotate(45)"><rect width="10" height="10" fill="context-fill"/></g>'
                 '<linearGradient id="lg"><stop offset="0" stop-color="red"/><stop offset="1" stop-color="blue"/>'
                 '</linearGradient></defs><use href="#g" fill="url(#lg)"/>')
    (rect,) = shapes_of(scene)
    d = 10 / np.sqrt(2)
    box = (-d, 0.0, d, 2 * d)
    np.testing.assert_allclose(group_bbox(scene.children[0].children), box, atol=1e-9)
    # in the rect's space the gradient is the unit square -> box map seen through rotate(-45)
    rot = np.array([[np.cos(np.pi / 4), -np.sin(np.pi / 4), 0], [np.sin(np.pi / 4), np.cos(np.pi / 4), 0],
                    [0, 0, 1]])
    expected = np.linalg.inv(rot) @ np.array([[2 * d, 0, -d], [0, 2 * d, 0], [0, 0, 1]])
    np.testing.assert_allclose(np.asarray(rect.fill.transform, np.float64), expected, atol=1e-5)


def test_context_gradients_keep_the_context_coordinate_system_when_rendered():
    """Three bands of a 32 x 24 canvas, each coloured by a horizontal red -> blue gradient
    over x = 0 .. 32 of the canvas (red at 0, blue at 32) reached through context-fill:
    a use of a scaled, translated group (userSpaceOnUse), a use of two separate squares
    (objectBoundingBox: the box of the whole use content) and marker content on a path
    (the path's userSpaceOnUse gradient). Every fully covered pixel must show the gradient
    at its centre, lerp(red, blue, (x + 0.5) / 32)."""
    body = (
        '<defs><linearGradient id="u" gradientUnits="userSpaceOnUse" x1="0" x2="32">'
        '<stop offset="0" stop-color="#f00"/><stop offset="1" stop-color="#00f"/></linearGradient>'
        '<linearGradient id="b"><stop offset="0" stop-color="#f00"/><stop offset="1" stop-color="#00f"/>'
        '</linearGradient>'
        '<g id="scaled" transform="translate(2 1) scale(0.5 0.75)"><rect width="56" height="8" '
        'fill="context-fill"/></g>'
        '<g id="two"><rect y="8" width="12" height="8" fill="context-fill"/>'
        '<rect x="20" y="8" width="12" height="8" fill="context-fill"/></g>'
        '<marker id="m" markerUnits="userSpaceOnUse" markerWidth="8" markerHeight="8" refX="4" refY="4">'
        '<rect width="8" height="8" fill="context-fill"/></marker></defs>'
        '<use href="#scaled" fill="url(#u)"/><use href="#two" fill="url(#b)"/>'
        '<path d="M6 20 H26" fill="url(#u)" stroke="none" marker-start="url(#m)" marker-end="url(#m)"/>')
    img = np.asarray(dv.render(load(body, w=32, h=24), width=32, height=24))
    x = np.arange(32) + 0.5
    t = x / 32
    expected = np.stack([1 - t, np.zeros_like(t), t], axis=-1)          # (32, 3)
    covered = img[..., 3] > 0.999
    rows = {"scaled use": range(2, 7), "two squares": range(9, 15), "markers": range(17, 23)}
    for name, ys in rows.items():
        for y in ys:
            cols = np.nonzero(covered[y])[0]
            assert len(cols) >= 8, (name, y)
            np.testing.assert_allclose(img[y, cols, :3], expected[cols], atol=2e-3, err_msg=name)
