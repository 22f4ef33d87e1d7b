"""mix-blend-mode, isolation and shape-rendering in load_svg and save_svg.

As resvg reads them: ``mix-blend-mode`` and ``isolation`` are CSS properties (the style
attribute and style sheets), not presentation attributes; neither is inherited; an
unknown mode (``xor``) is ignored. ``shape-rendering`` is an inherited presentation
attribute, set on each shape.
"""
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.svg import load_svg, render_svg, to_svg_text
from support.scene_nodes import groups, shapes

NS = 'xmlns="http://www.w3.org/2000/svg"'


def svg(body):
    return f'<svg {NS} width="20" height="20">{body}</svg>'


def blend_groups(scene):
    return [(g.blend_mode, g.isolation) for g in groups(scene) if (g.blend_mode, g.isolation) != ("normal", "auto")]


def test_blend_mode_on_a_shape_wraps_it_in_a_group():
    sc = load_svg(svg('<rect width="5" height="5"/><rect x="2" width="5" height="5" fill="red" '
                      'style="mix-blend-mode:multiply"/>'))
    (g,) = [g for g in groups(sc) if g.blend_mode != "normal"]
    assert g.blend_mode == "multiply" and len(g.children) == 1 and isinstance(g.children[0], dv.Rect)


def test_blend_mode_and_isolation_are_css_properties_only():
    body = ('<style>g.i { isolation: isolate }</style>'
            '<g class="i" style="mix-blend-mode:screen"><rect width="5" height="5"/></g>'
            '<g mix-blend-mode="screen" isolation="isolate"><rect width="5" height="5"/></g>'
            '<rect width="5" height="5" style="mix-blend-mode:xor"/>')
    assert blend_groups(load_svg(svg(body))) == [("screen", "isolate")]


def test_blend_mode_is_not_inherited():
    sc = load_svg(svg('<g style="mix-blend-mode:difference"><g><rect width="5" height="5"/></g></g>'))
    assert blend_groups(sc) == [("difference", "auto")]


def test_shape_rendering_is_inherited_per_shape():
    sc = load_svg(svg('<g shape-rendering="crispEdges"><rect width="5" height="5"/>'
                      '<circle r="3" shape-rendering="geometricPrecision"/></g>'
                      '<rect width="5" height="5" style="shape-rendering:optimizeSpeed"/>'
                      '<rect width="5" height="5" shape-rendering="bogus"/>'))
    assert [s.shape_rendering for s in shapes(sc)] == ["crispEdges", "geometricPrecision", "optimizeSpeed", "auto"]


@pytest.mark.parametrize("mode", ["multiply", "color-dodge", "luminosity"])
def test_round_trip_keeps_blend_isolation_and_shape_rendering(mode):
    rect = dv.Rect(p_min=[1.0, 1.0], p_max=[9.0, 9.0], fill=dv.rgba(0.2, 0.4, 0.6, 1.0),
                   shape_rendering="crispEdges")
    scene = dv.Scene(children=(
        rect, dv.Group(children=(dv.Group(children=(rect,), blend_mode=mode),), isolation="isolate")),
        width=20, height=20)
    back = load_svg(to_svg_text(scene))
    assert blend_groups(back) == [("normal", "isolate"), (mode, "auto")]
    assert [s.shape_rendering for s in shapes(back)] == ["crispEdges", "crispEdges"]


def test_render_svg_keeps_blend_groups():
    """render_svg flattens groups for compilation reuse: blended groups must survive."""
    body = ('<rect width="20" height="20" fill="#ff0000"/>'
            '<rect x="5" y="5" width="10" height="10" fill="#00ff00" style="mix-blend-mode:multiply"/>')
    img = render_svg(svg(body), 20, 20)
    np.testing.assert_allclose(img[10, 10], [0.0, 0.0, 0.0, 1.0], atol=1e-5)   # red x green = black
    np.testing.assert_allclose(img[2, 2], [1.0, 0.0, 0.0, 1.0], atol=1e-5)
