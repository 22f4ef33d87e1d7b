"""Sum of rendered coverage == exact area (Green's formula), for shapes inside the canvas.

Fills without self-intersections have coverage == |winding|, and box-filtered coverage
integrates to the area exactly, so the only error the renderer may add is its geometry
(flattening): the tolerance is 1e-4 relative. The images are the tiled renders of
test_render_oracle (shared, so no extra compilation).
"""
import math

import numpy as np
import pytest

import diffvg_jax as dv

from support import oracle
from test_render_oracle import CASES, H, W, rendered_tiles

_GL_T, _GL_W = np.polynomial.legendre.leggauss(4)   # exact for polynomials of degree <= 7
_GL_T, _GL_W = 0.5 * (_GL_T + 1.0), 0.5 * _GL_W


def _bezier(ctrl, t):
    d = len(ctrl) - 1
    return sum(math.comb(d, k) * ((1 - t) ** (d - k) * t ** k)[:, None] * ctrl[k] for k in range(d + 1))


def _bezier_d(ctrl, t):
    d = len(ctrl) - 1
    return d * _bezier(np.diff(ctrl, axis=0), t)


def green_area(shape) -> float:
    """Signed area 1/2 * closed integral of (x dy - y dx) over all subpaths (each closed by a
    line), in user space, times det of the transform: exact for polynomial curves."""
    total = 0.0
    for sub in oracle.shape_subpaths(shape):
        ctrls = [s.data[0] for s in sub.segs]
        start, end = ctrls[0][0], ctrls[-1][-1]
        if not np.allclose(start, end):
            ctrls.append(np.array([end, start]))
        for c in ctrls:
            p, dp = _bezier(c, _GL_T), _bezier_d(c, _GL_T)
            total += 0.5 * np.sum(_GL_W * (p[:, 0] * dp[:, 1] - p[:, 1] * dp[:, 0]))
    return total * np.linalg.det(np.asarray(shape.transform, np.float64)[:2, :2])


def exact_area(shape) -> float:
    det = abs(np.linalg.det(np.asarray(shape.transform, np.float64)[:2, :2]))
    if isinstance(shape, dv.Circle):
        return math.pi * float(shape.radius) ** 2 * det
    if isinstance(shape, dv.Ellipse):
        rx, ry = np.asarray(shape.radius, np.float64)
        return math.pi * rx * ry * det
    if isinstance(shape, dv.Rect):
        lo, hi = np.asarray(shape.p_min, np.float64), np.asarray(shape.p_max, np.float64)
        rx, ry = np.minimum(np.asarray(shape.corner_radius, np.float64), 0.5 * (hi - lo))
        return (np.prod(hi - lo) - (4 - math.pi) * rx * ry) * det
    return abs(green_area(shape))


FILLS = ["circle", "circle-mirrored", "ellipse-transformed", "rect-rounded", "rect-radius-clamped",
         "rect-square-transformed", "path-quads-closed", "path-transformed"]


@pytest.mark.parametrize("name", FILLS)
def test_fill_area_is_exact(name):
    shape = CASES[name][0]
    got = rendered_tiles("fill")[name].sum()
    want = exact_area(shape)
    assert abs(got - want) <= 1e-4 * want, f"{name}: rendered {got:.5f}, exact {want:.5f}"


def test_green_area_matches_closed_forms():
    """Green's formula on Bezier control points vs a polygon and a closed form."""
    sq = dv.Polygon(points=[[1.0, 1.0], [5.0, 1.0], [5.0, 4.0], [1.0, 4.0]])
    assert abs(abs(green_area(sq)) - 12.0) < 1e-12
    # a quadratic arch over [0, 4] with apex height 2 * 3: area 2/3 * base * height
    arch = dv.Path(points=[[0.0, 0.0], [2.0, 6.0], [4.0, 0.0]], degrees=(2,), closed=False)
    assert abs(abs(green_area(arch)) - 2.0 / 3.0 * 4.0 * 3.0) < 1e-12


@pytest.mark.parametrize("name", FILLS)
def test_oracle_area(name):
    """The oracle itself integrates to the exact area (within its scanline quantisation)."""
    cov = oracle.fill_coverage(CASES[name][0], W, H, rows_per_pixel=64).coverage
    want = exact_area(CASES[name][0])
    assert abs(cov.sum() - want) <= 1e-3 * want


def test_stroke_areas():
    """Straight strokes are polygons: exact to 1e-4. A circle's stroke (annulus 2 pi r w)
    goes through flattening of the centre line: 2e-3 (measured 6e-4)."""
    tiles = rendered_tiles("stroke")
    rect = CASES["rect-stroke-square"][0]
    lo, hi, w = np.asarray(rect.p_min), np.asarray(rect.p_max), float(rect.stroke_width)
    size = hi - lo
    want = (size[0] + w) * (size[1] + w) - (size[0] - w) * (size[1] - w)
    assert abs(tiles["rect-stroke-square"].sum() - want) <= 1e-4 * want
    circ = CASES["circle-stroke"][0]
    want = 2 * math.pi * float(circ.radius) * float(circ.stroke_width)
    assert abs(tiles["circle-stroke"].sum() - want) <= 2e-3 * want
