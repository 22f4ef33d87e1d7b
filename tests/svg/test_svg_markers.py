"""SVG markers (diffvg_jax/svg/read/markers.py, outlines/vertices.py): placement, orientation, units, paint-order, bad input.

Independent references:
  * placement: hand-written SVG that draws the marker content at the expected vertices with
    explicit translate / rotate / scale transforms; the angles are worked out by hand from
    the path data (or from svgpathtools' arc tangents) and the scenes must agree numerically;
  * rendering: resvg's reference PNGs of the conformance paint-order cases (which use
    markers), compared with the conformance suite's own `compare`;
  * clipping: a clipped marker renders exactly like a plain rectangle of its viewport.
Canvases are small and the rendered structures few (each costs a JAX compilation).
"""
import math
import os
import warnings

import jax
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.svg import SVGWarning, load_svg, render_svg, to_svg_text
from diffvg_jax.svg import errors
from diffvg_jax.svg.outlines import vertex_count, vertices
from diffvg_jax.svg.read import markers
from diffvg_jax.svg.values import paths

from support.conformance_suite import ROOT as CONFORMANCE_ROOT, runner as conformance_runner

NS = 'xmlns="http://www.w3.org/2000/svg"'

# a marker in user units: reference point (1, 2), content a 4 x 3 blue rect inside its 6 x 6 viewport
MARK = ('<marker id="m" markerUnits="userSpaceOnUse" refX="1" refY="2" markerWidth="6" markerHeight="6" '
        'orient="{orient}"><rect width="4" height="3" fill="#00f"/></marker>')
CONTENT = '<rect width="4" height="3" fill="#00f"/>'
ALL = 'marker-start="url(#m)" marker-mid="url(#m)" marker-end="url(#m)"'


def svg(body, size=64):
    return f'<svg {NS} width="{size}" height="{size}">{body}</svg>'


def load(text):
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # these documents must load without repairs
        return load_svg(text)


def hand_written(shape, placements, content=CONTENT, base="translate(-1 -2)", group="p-markers"):
    """The expected scene: the shape, then a Group of the content at each (x, y, degrees)."""
    inst = "".join(f'<g transform="translate({x!r} {y!r}) rotate({a!r}) {base}">{content}</g>'
                   for x, y, a in placements)
    return load(svg(shape + f'<g id="{group}">{inst}</g>'))


def assert_scene_close(a, b, atol=1e-4):
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    assert ta == tb        # same classes, ids and static fields, same nesting
    for x, y in zip(la, lb):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol, rtol=0)


def instances(scene, index=-1):
    """The instance Groups of the markers Group at scene.children[index]."""
    g = scene.children[index]
    assert isinstance(g, dv.Group) and g.id and g.id.endswith("-markers"), g
    return g.children


# ------------------------------------------------------------------ positions and angles

def test_lines_and_subpaths_auto_orientation():
    d = "M 10 10 L 30 10 L 30 30 M 40 40 L 50 40"
    shape = f'<path id="p" d="{d}" fill="none" stroke="#000"/>'
    got = load(svg(MARK.format(orient="auto") + shape.replace("/>", f" {ALL}/>")))
    # start; mids: corner (bisector of 0 and 90), end of the first subpath (incoming only),
    # start of the second (outgoing only); end
    want = hand_written(shape, [(10, 10, 0), (30, 10, 45), (30, 30, 90), (40, 40, 0), (50, 40, 0)])
    assert_scene_close(got, want)


def test_cubics_with_coincident_control_points_and_auto_start_reverse():
    d = "M 10 50 C 10 50 30 30 50 50 C 70 50 70 70 70 70 Q 80 70 90 60"
    shape = f'<path id="p" d="{d}" fill="none" stroke="#000"/>'
    got = load(svg(MARK.format(orient="auto-start-reverse") + shape.replace("/>", f" {ALL}/>")))
    # As resvg: a cubic whose first control point is its start points at its end point.
    # start: towards (50, 50): 0, reversed 180. (50, 50): in 45, out 0. (70, 70): c2 = p3, so
    # the incoming direction comes from the start (50, 50): 45; out 0 -> 22.5. end: -45.
    want = hand_written(shape, [(10, 50, 180), (50, 50, 22.5), (70, 70, 22.5), (90, 60, -45)])
    assert_scene_close(got, want)


def _angle(z):
    return math.degrees(math.atan2(z.imag, z.real))


def test_arc_vertices_follow_resvgs_split():
    """resvg (our conformance reference) converts an arc to cubics first, kurbo's rule at
    tolerance 0.1: ceil(max((1.1163 r / 0.1)^(1/6), 4) x sweep / 360 degrees) pieces, and puts
    marker-mid on the joins. Positions and tangents come from svgpathtools' ellipse."""
    svgpathtools = pytest.importorskip("svgpathtools")
    d = "M 20 50 A 30 20 30 0 1 80 50 L 80 80"
    arc, line = svgpathtools.parse_path(d)
    r = max(arc.radius.real, arc.radius.imag)
    n = math.ceil(max((1.1163 * r / 0.1) ** (1 / 6), 3.999999) * abs(arc.delta) / 360.0)
    assert n == 2  # a join inside the arc, so the check below is not vacuous
    down = line.unit_tangent(0)
    joins = [(float(arc.point(j / n).real), float(arc.point(j / n).imag), _angle(arc.unit_tangent(j / n)))
             for j in range(1, n)]
    shape = f'<path id="p" d="{d}" fill="none" stroke="#000"/>'
    got = load(svg(MARK.format(orient="auto") + shape.replace("/>", f" {ALL}/>")))
    t0, t1 = arc.unit_tangent(0), arc.unit_tangent(1)
    want = hand_written(shape, [(20, 50, _angle(t0))] + joins + [(80, 50, _angle(t1 + down)), (80, 80, _angle(down))])
    assert_scene_close(got, want, atol=2e-3)


@pytest.mark.parametrize("d, placements", [
    # as resvg: the start of a closed subpath points along the first segment (0), its
    # closing vertex along the closing segment (225)
    ("M 10 10 L 50 10 L 50 50 Z", [(10, 10, 0), (50, 10, 45), (50, 50, 157.5), (10, 10, 225)]),
    # data already back at the start: the closepath is a zero-length segment, one more vertex
    ("M 10 10 L 50 10 L 50 50 L 10 10 Z",
     [(10, 10, 0), (50, 10, 45), (50, 50, 157.5), (10, 10, 225), (10, 10, 225)]),
    # two closed subpaths: the first one's closing vertex takes no marker-mid
    ("M 10 10 L 30 10 L 30 30 Z M 40 40 L 60 40 L 60 60 Z",
     [(10, 10, 0), (30, 10, 45), (30, 30, 157.5), (40, 40, 0), (60, 40, 45), (60, 60, 157.5), (40, 40, 225)]),
])
def test_closepath_vertices(d, placements):
    shape = f'<path id="p" d="{d}" fill="none" stroke="#000"/>'
    got = load(svg(MARK.format(orient="auto") + shape.replace("/>", f" {ALL}/>")))
    assert_scene_close(got, hand_written(shape, placements))


def test_polygon_polyline_and_line_vertices():
    body = ('<polygon id="p" points="10,10 50,10 50,50" fill="none" stroke="#000" {}/>'
            '<polyline id="q" points="5,60 25,60 25,40" fill="none" stroke="#000" {}/>'
            '<line id="r" x1="40" y1="60" x2="60" y2="40" stroke="#000" {}/>')
    got = load(svg(MARK.format(orient="auto") + body.format(ALL, ALL, ALL)))
    want = [[(10, 10, 0), (50, 10, 45), (50, 50, 157.5), (10, 10, 225)],
            [(5, 60, 0), (25, 60, -45), (25, 40, -90)],
            [(40, 60, -45), (60, 40, -45)]]
    assert [type(c).__name__ for c in got.children] == ["Polygon", "Group", "Polyline", "Group", "Polyline", "Group"]
    for k, placements in enumerate(want):
        ref = hand_written("", placements, group="x")
        assert_scene_close(dv.Scene(children=got.children[2 * k + 1].children),
                           dv.Scene(children=ref.children[0].children))


@pytest.mark.parametrize("text, degrees", [
    ("30", 30.0), ("-45", -45.0), ("30deg", 30.0), ("0.25turn", 90.0), ("1.5rad", math.degrees(1.5)),
    ("40grad", 36.0), ("9999", 9999.0), ("1e2", 100.0), ("bogus", 0.0), ("", 0.0), (None, 0.0),
    (" auto ", "auto"), ("auto-start-reverse", "auto-start-reverse"),
])
def test_orient_values(text, degrees):
    got = markers.parse_orient(text)
    assert got == pytest.approx(degrees) if isinstance(degrees, float) else got == degrees


def test_fixed_angle_ignores_the_path_direction():
    shape = '<path id="p" d="M 10 10 L 30 30 L 50 10" fill="none" stroke="#000"/>'
    got = load(svg(MARK.format(orient="0.25turn") + shape.replace("/>", f" {ALL}/>")))
    assert_scene_close(got, hand_written(shape, [(10, 10, 90), (30, 30, 90), (50, 10, 90)]))


# ------------------------------------------------------------------ units, viewBox, ref point

def test_marker_units_stroke_width_scales_and_zero_width_disables():
    mark = ('<marker id="m" refX="1" refY="2" markerWidth="6" markerHeight="6">' + CONTENT + '</marker>')
    shape = '<path id="p" d="M 10 10 L 40 10" fill="none" stroke="#000" stroke-width="3"/>'
    got = load(svg(mark + shape.replace("/>", f" {ALL}/>")))
    assert_scene_close(got, hand_written(shape, [(10, 10, 0), (40, 10, 0)], base="scale(3) translate(-1 -2)"))
    zero = load(svg(mark + '<path id="p" d="M 10 10 L 40 10" stroke-width="0" marker-end="url(#m)"/>'))
    assert [type(c).__name__ for c in zero.children] == ["Path"]
    user = load(svg(mark.replace('<marker ', '<marker markerUnits="userSpaceOnUse" ')
                    + '<path id="p" d="M 10 10 L 40 10" stroke-width="0" marker-end="url(#m)"/>'))
    assert len(instances(user)) == 1


@pytest.mark.parametrize("par, units, width, base, clip", [
    ("", "userSpaceOnUse", 1, "scale(2) translate(-5 -10)", None),         # meet: min(40/10, 40/20)
    ("none", "userSpaceOnUse", 1, "scale(4 2) translate(-5 -10)", None),
    # slice: scale 4, the 40 x 80 content overflows the 40 x 40 viewport and is clipped to
    # it: y in [5, 15] in content units (centred by xMidYMid)
    ("xMidYMid slice", "userSpaceOnUse", 1, "scale(4) translate(-5 -10)", (0, 5, 10, 15)),
    ("", "strokeWidth", 2, "scale(4) translate(-5 -10)", None),              # an 80 x 80 viewport
])
def test_viewbox_preserve_aspect_ratio_and_ref_point(par, units, width, base, clip):
    content = '<rect width="10" height="20" fill="#0f0"/>'
    mark = (f'<marker id="m" viewBox="0 0 10 20" preserveAspectRatio="{par}" refX="5" refY="10" '
            f'markerWidth="40" markerHeight="40" markerUnits="{units}">{content}</marker>')
    shape = f'<path id="p" d="M 10 10 L 40 10" fill="none" stroke="#000" stroke-width="{width}"/>'
    got = load(svg(mark + shape.replace("/>", ' marker-end="url(#m)"/>')))
    (inst,) = instances(got)
    if clip is None:
        assert inst.clip is None
    else:
        (box,) = inst.clip.children
        np.testing.assert_allclose(np.concatenate([box.p_min, box.p_max]), clip, atol=1e-6)
        got = dv.replace(got, children=(got.children[0], dv.replace(got.children[1], children=(
            dv.replace(inst, clip=None),))))
    assert_scene_close(got, hand_written(shape, [(40, 10, 0)], content=content, base=base))


def test_percentages_refer_to_the_shape_viewport():
    # resvg's percent-values case: 5% / 10% / 10% / 20% of a 200 x 100 viewBox = 10, 10, 20, 20
    mark = ('<marker id="m" refX="5%" refY="10%" markerWidth="10%" markerHeight="20%" markerUnits="userSpaceOnUse">'
            + CONTENT + '</marker>')
    body = mark + '<path id="p" d="M 100 15 L 150 75" marker-start="url(#m)"/>'
    got = load(f'<svg {NS} width="64" height="32" viewBox="0 0 200 100">{body}</svg>')
    (inst,) = got.children[0].children[-1].children
    np.testing.assert_allclose(inst.transform, [[1, 0, 90], [0, 1, 5], [0, 0, 1]], atol=1e-6)


# ------------------------------------------------------------------ style, paint-order, opacity

def test_content_style_inherits_from_the_marker_not_the_shape_and_display_none_still_draws():
    body = ('<g fill="#f00" stroke-width="7"><marker id="m" display="none" markerUnits="userSpaceOnUse">'
            '<rect width="2" height="2"/></marker></g>'
            '<path id="p" d="M 10 10 L 40 10" fill="#00f" stroke="#000" stroke-width="2" marker-end="url(#m)"/>')
    got = load(svg(body))
    (inst,) = instances(got)
    (rect,) = inst.children
    np.testing.assert_array_equal(rect.fill.color, [1, 0, 0, 1])
    assert rect.stroke is None and float(rect.stroke_width) == 7


def test_marker_shorthand_only_in_css_and_it_beats_the_longhand_attribute():
    mark = ('<marker id="m" markerUnits="userSpaceOnUse"><rect width="1" height="1" fill="#f00"/></marker>'
            '<marker id="n" markerUnits="userSpaceOnUse"><rect width="1" height="1" fill="#0f0"/></marker>')
    path = '<path id="p" d="M 10 10 L 40 10" stroke="#000" {}/>'
    colors = lambda sc: [tuple(np.asarray(i.children[0].fill.color)) for i in instances(sc)]
    # as an XML attribute `marker` is not a presentation attribute: ignored (resvg)
    assert [type(c).__name__ for c in load(svg(mark + path.format('marker="url(#m)"'))).children] == ["Path"]
    assert colors(load(svg(mark + path.format('style="marker: url(#m)"')))) == [(1, 0, 0, 1)] * 2
    # a sheet's shorthand outranks the marker-end presentation attribute
    sheet = load(svg('<style>path { marker: url(#m) }</style>' + mark + path.format('marker-end="url(#n)"')))
    assert colors(sheet) == [(1, 0, 0, 1)] * 2
    # and a longhand in style="" after the sheet's shorthand wins for its own property
    both = load(svg('<style>path { marker: url(#m) }</style>' + mark + path.format('style="marker-end: url(#n)"')))
    assert colors(both) == [(1, 0, 0, 1), (0, 1, 0, 1)]


@pytest.mark.parametrize("text, order", [
    ("normal", ("fill", "stroke", "markers")), ("", ("fill", "stroke", "markers")),
    ("stroke", ("stroke", "fill", "markers")), ("markers", ("markers", "fill", "stroke")),
    ("stroke markers", ("stroke", "markers", "fill")), ("  stroke\n", ("stroke", "fill", "markers")),
    ("stroke stroke", ("fill", "stroke", "markers")), ("stroke qwe", ("fill", "stroke", "markers")),
    ("stroke markers fill qwe", ("fill", "stroke", "markers")),
])
def test_paint_order_values(text, order):
    # svgtypes' (resvg's) PaintOrder tests
    assert markers.paint_order(text) == order


def test_paint_order_markers_between_splits_fill_and_stroke():
    body = MARK.format(orient="0") + ('<path id="p" d="M 10 10 L 40 10 L 40 40 Z" fill="#0f0" stroke="#000" '
                                      'paint-order="{}" marker-end="url(#m)"/>')
    kinds = lambda sc: [(type(c).__name__, getattr(c, "fill", 0) is not None, getattr(c, "stroke", 0) is not None,
                         c.id) for c in sc.children]
    assert kinds(load(svg(body.format("markers")))) == [
        ("Group", True, True, "p-markers"), ("Path", True, True, "p")]
    assert kinds(load(svg(body.format("stroke markers")))) == [
        ("Path", False, True, "p-stroke"), ("Group", True, True, "p-markers"), ("Path", True, False, "p")]
    assert kinds(load(svg(body.format("fill markers stroke")))) == [
        ("Path", True, False, "p"), ("Group", True, True, "p-markers"), ("Path", False, True, "p-stroke")]
    # dashes: the dash path is the stroke part
    dashed = load(svg(body.format("fill markers").replace("/>", ' stroke-dasharray="5 5"/>')))
    assert kinds(dashed) == [("Path", True, False, "p"), ("Group", True, True, "p-markers"),
                             ("Path", False, True, "p-dashes")]


def test_shape_opacity_is_one_layer_with_its_markers_and_other_shapes_get_none():
    body = MARK.format(orient="0") + ('<path id="p" d="M 10 10 L 40 10" stroke="#000" opacity="0.5" {}/>'
                                      '<rect x="1" y="1" width="5" height="5" {}/>').format(ALL, ALL)
    got = load(svg(body))
    layer, rect, rect_marks = got.children   # SVG 2: a rect takes markers too, without a layer
    assert isinstance(layer, dv.Group) and float(layer.opacity) == 0.5 and isinstance(rect, dv.Rect)
    assert [type(c).__name__ for c in layer.children] == ["Path", "Group"]
    assert isinstance(rect_marks, dv.Group) and rect_marks.opacity is None


# ------------------------------------------------------------------ bad input

def _warned(text, pattern):
    with pytest.warns(SVGWarning, match=pattern):
        return load_svg(text)


def test_missing_and_non_marker_references_are_ignored_with_a_warning():
    body = '<rect id="r" width="3" height="3"/><path id="p" d="M 10 10 L 40 10" stroke="#000" marker-end="{}"/>'
    got = _warned(svg(body.format("url(#nope)")), r"<path id='p'>: marker-end: url\(#nope\) names no element")
    assert [type(c).__name__ for c in got.children] == ["Rect", "Path"]
    got = _warned(svg(body.format("url(#r)")), r"<path id='p'>: marker-end: url\(#r\) is a <rect>, not a <marker>")
    assert [type(c).__name__ for c in got.children] == ["Rect", "Path"]


def test_zero_or_negative_marker_size_draws_nothing():
    for w in ("0", "-3"):
        body = MARK.format(orient="0").replace('markerWidth="6"', f'markerWidth="{w}"')
        got = load(svg(body + '<path id="p" d="M 10 10 L 40 10" stroke="#000" marker-end="url(#m)"/>'))
        assert [type(c).__name__ for c in got.children] == ["Path"]


def test_recursive_markers_are_cut_with_a_warning():
    self_ref = ('<marker id="m" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9">'
                '<path d="M 1 1 L 5 1" stroke="#000" marker-end="url(#m)"/></marker>'
                '<path id="p" d="M 10 10 L 40 10" stroke="#000" marker-end="url(#m)"/>')
    got = _warned(svg(self_ref), r"<marker id='m'>: recursive marker")
    (inst,) = instances(got)
    assert [type(c).__name__ for c in inst.children] == ["Path"]      # one level, then cut
    mutual = ('<marker id="a" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9">'
              '<path d="M 1 1 L 5 1" stroke="#000" marker-end="url(#b)"/></marker>'
              '<marker id="b" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9">'
              '<path d="M 1 1 L 5 1" stroke="#000" marker-end="url(#a)"/></marker>'
              '<path id="p" d="M 10 10 L 40 10" stroke="#000" marker-end="url(#a)"/>')
    got = _warned(svg(mutual), r"<marker id='a'>: recursive marker")
    (inst_a,) = instances(got)                 # a -> b -> (a cut)
    (inst_b,) = inst_a.children[1].children
    assert [type(c).__name__ for c in inst_b.children] == ["Path"]


def test_instances_stop_at_the_shape_limit():
    # 1000 shapes of content x 150 vertices would be 150k shapes: the limit is 100k
    content = "".join(f'<rect x="{i % 20 * 0.1}" width="0.05" height="0.05"/>' for i in range(1000))
    body = (f'<marker id="m" markerUnits="userSpaceOnUse" markerWidth="3" markerHeight="3">{content}</marker>'
            '<path id="p" d="M 0 0' + ' l 0.1 0' * 150 + '" stroke="#000" marker-mid="url(#m)"/>')
    got = _warned(svg(body), r"<path id='p'>: <marker id='m'>: marker instances stop at the 100000-shape")
    placed = len(instances(got))
    assert 90 <= placed < 149
    assert 1 + 1000 * placed <= errors.MAX_SHAPES


def test_vertices_are_produced_lazily_for_huge_paths():
    n = 200_000
    segs = [np.array([[float(i + 1), 0.0]]) for i in range(n)]
    sp = paths.Subpath(np.zeros(2), segs, False)
    assert vertex_count([sp]) == n + 1
    gen = vertices([sp], "mid")
    first = [next(gen) for _ in range(3)]
    np.testing.assert_array_equal([p for p, _ in first], [[1, 0], [2, 0], [3, 0]])
    (end,) = vertices([sp], "end")
    np.testing.assert_array_equal(end[0], [n, 0])


# ------------------------------------------------------------------ rendering and round trip

def test_overflowing_content_is_clipped_to_the_viewport():
    # a circle of radius 18 around the centre of a 20 x 20 viewport covers all of it: the
    # clipped marker is exactly that square, (6, 6) - (26, 26) for a vertex at (16, 16)
    clipped = svg('<marker id="m" markerUnits="userSpaceOnUse" refX="10" refY="10" markerWidth="20" '
                  'markerHeight="20"><circle cx="10" cy="10" r="18" fill="#00f"/></marker>'
                  '<path id="p" d="M 16 16 L 20 16" fill="none" marker-start="url(#m)"/>', size=32)
    square = svg('<rect x="6" y="6" width="20" height="20" fill="#00f"/>', size=32)
    scene = load(clipped)
    assert instances(scene)[0].clip is not None
    got = np.asarray(dv.render(scene, width=32, height=32))
    want = np.asarray(dv.render(load(square), width=32, height=32))
    np.testing.assert_allclose(got, want, atol=2e-3)


@pytest.mark.parametrize("case", ["normal", "duplicates", "stroke-markers-fill"])
def test_paint_order_conformance_cases_match_resvg(case):
    """resvg's 300 px reference, box-averaged to 60 px (premultiplied), against our 60 px
    render (both are box-filtered coverage), with the suite's own pass rule."""
    run = conformance_runner()
    path = os.path.join(CONFORMANCE_ROOT, "resvg", "painting", "paint-order", case)
    ref = run.to_premul_float(run._png_to_rgba(open(path + ".png", "rb").read()))
    ref = ref.reshape(60, 5, 60, 5, 4).mean(axis=(1, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SVGWarning)
        out = run.to_premul_float(render_svg(open(path + ".svg", encoding="utf-8").read(), 60, 60))
    ok, info = run.compare(out, ref)
    assert ok, f"{case}: {info}"


@pytest.mark.parametrize("overflow", ["visible", "hidden"])
def test_expanded_markers_round_trip(overflow):
    body = ('<marker id="m" markerWidth="3" markerHeight="3" refX="1" refY="1" orient="auto" '
            f'overflow="{overflow}"><circle cx="1" cy="1" r="2" fill="#f00"/></marker>'
            '<path id="p" d="M 10 10 Q 30 0 40 20 T 50 50" fill="#0f0" stroke="#000" stroke-width="2" '
            'paint-order="stroke markers" ' + ALL + '/>')
    scene = load(svg(body))
    assert (instances(scene, 1)[0].clip is None) == (overflow == "visible")
    back = load(to_svg_text(scene))
    la, ta = jax.tree_util.tree_flatten(scene)
    lb, tb = jax.tree_util.tree_flatten(back)
    assert ta == tb
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("shape, expected", [
    # a square rect is M H V H Z: start, three mids, the end back at the start
    ('<rect x="10" y="20" width="40" height="30"', [(10, 20), (50, 20), (50, 50), (10, 50), (10, 20)]),
    # a rounded rect: lines and corner arcs (SVG 2's equivalent path, as resvg draws it)
    ('<rect x="10" y="20" width="40" height="30" rx="5"',
     [(15, 20), (45, 20), (50, 25), (50, 45), (45, 50), (15, 50), (10, 45), (10, 25), (15, 20), (15, 20)]),
    # a circle: four quarter arcs from (cx + r, cy), clockwise, then the (zero-length) closepath
    ('<circle cx="30" cy="30" r="10"', [(40, 30), (30, 40), (20, 30), (30, 20), (40, 30), (40, 30)]),
    ('<ellipse cx="30" cy="30" rx="10" ry="5"', [(40, 30), (30, 35), (20, 30), (30, 25), (40, 30), (40, 30)]),
])
def test_markers_on_basic_shapes_follow_their_equivalent_path(shape, expected):
    """SVG 2: markers apply to every shape; a basic shape's vertices are those of its
    equivalent path. With orient 0 and userSpaceOnUse units each instance is a pure
    translation to its vertex."""
    text = (f'<svg {NS} width="100" height="100"><marker id="m" markerUnits="userSpaceOnUse" markerWidth="2" '
            f'markerHeight="2"><rect width="1" height="1"/></marker>'
            f'{shape} fill="none" stroke="black" marker-start="url(#m)" marker-mid="url(#m)" '
            f'marker-end="url(#m)"/></svg>')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scene = load_svg(text)
    _, group = scene.children
    got = [tuple(np.round(np.asarray(inst.transform)[:2, 2], 4)) for inst in group.children]
    start, *mids, end = got
    assert start == expected[0] and end == expected[-1]
    assert sorted(mids) == sorted(tuple(float(v) for v in p) for p in expected[1:-1])
