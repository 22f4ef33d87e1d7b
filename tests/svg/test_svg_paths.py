"""Path geometry: arcs -> cubics against the analytic ellipse, dashes against
svgpathtools' independent arc lengths, bounding boxes against dense sampling."""
import math

import numpy as np
import pytest
import svgpathtools

from diffvg_jax.svg.outlines import bbox_subpaths, dash_subpaths, ellipse_subpath, rect_subpath
from diffvg_jax.svg.values import paths


def bezier(ctrl, t):
    t = np.asarray(t)[:, None]
    n = len(ctrl) - 1
    return sum(math.comb(n, k) * (1 - t) ** (n - k) * t ** k * ctrl[k] for k in range(n + 1))


def curves(sp):
    p0 = sp.start
    for seg in sp.segments:
        yield np.concatenate([p0[None], seg])
        p0 = seg[-1]


@pytest.mark.parametrize("rx,ry,rot,large,sweep", [
    (400, 150, 30, 0, 1), (400, 150, 30, 1, 0), (5, 5, 0, 1, 1), (2000, 900, -70, 0, 0)])
def test_arc_cubics_stay_within_0_01_px_of_the_ellipse(rx, ry, rot, large, sweep):
    p0, p1 = np.array([10.0, 20.0]), np.array([300.0, 140.0]) * (1 if rx > 10 else 0.02)
    segs = paths.arc_to_cubics(p0, rx, ry, rot, large, sweep, p1)
    sp = paths.Subpath(p0, segs)
    # independent reference: svgpathtools' own endpoint -> centre conversion
    arc = svgpathtools.Arc(complex(*p0), complex(rx, ry), rot, bool(large), bool(sweep), complex(*p1))
    c, phi = np.array([arc.center.real, arc.center.imag]), math.radians(arc.rotation)
    R = np.array([[math.cos(phi), math.sin(phi)], [-math.sin(phi), math.cos(phi)]])
    rr = np.array([arc.radius.real, arc.radius.imag])
    worst = 0.0
    for ctrl in curves(sp):
        q = (bezier(ctrl, np.linspace(0, 1, 64)) - c) @ R.T / rr   # unit circle if exact
        # radial distance in px ~ |1 - |q|| * radius
        worst = max(worst, float(np.max(np.abs(np.linalg.norm(q, axis=1) - 1) * rr.max())))
    assert worst < 0.01
    np.testing.assert_allclose(sp.end(), p1)


def test_dashes_follow_arc_length():
    d = "M 10 10 C 60 -20 120 90 180 30 Q 200 0 150 150 L 20 160"
    sub = paths.parse_path_data(d)
    ref = svgpathtools.parse_path(d)
    total = ref.length()
    pattern, offset = [17.0, 9.0], 4.0
    dashes = dash_subpaths(sub, pattern, offset, keep_zero=False, max_dashes=1000)
    # expected dash intervals along the path, from the pattern alone
    want, s, i = [], -offset, 0
    while s < total:
        if i % 2 == 0:
            want.append((max(s, 0), min(s + pattern[0], total)))
        s += pattern[i % 2]
        i += 1
    assert len(dashes) == len(want)
    for dash, (a, b) in zip(dashes, want):
        start = ref.point(ref.ilength(a, s_tol=1e-9)) if a > 0 else ref.start
        end = ref.point(ref.ilength(b, s_tol=1e-9)) if b < total else ref.end
        np.testing.assert_allclose(dash.start, [start.real, start.imag], atol=2e-3)
        np.testing.assert_allclose(dash.end(), [end.real, end.imag], atol=2e-3)
        # each dash's own length is the pattern's
        length = sum(svgpathtools.parse_path(
            "M {} {} ".format(*c[0]) + {2: "L", 3: "Q", 4: "C"}[len(c)] + " " + " ".join(
                f"{x} {y}" for x, y in c[1:])).length() for c in curves(dash))
        assert abs(length - (b - a)) < 2e-3


def test_closed_shapes_dash_from_their_svg_start_points():
    e = ellipse_subpath(50, 50, 20, 10)
    np.testing.assert_allclose(e.start, [70, 50])
    first = dash_subpaths([e], [5, 100], 0, False, 10)[0]
    assert first.end()[1] > 50      # clockwise on screen: towards +y first
    r = rect_subpath(0, 0, 40, 20, 5, 5)
    np.testing.assert_allclose(r.start, [5, 0])
    np.testing.assert_allclose(r.end(), [5, 0])


def test_curve_bounding_box_is_exact():
    sub = paths.parse_path_data("M 0 0 C 100 -50 -30 80 60 40 Q 90 120 10 30")
    box = bbox_subpaths(sub)
    pts = np.concatenate([bezier(c, np.linspace(0, 1, 20001)) for c in curves(sub[0])])
    np.testing.assert_allclose(box, [*pts.min(0), *pts.max(0)], atol=1e-4)
