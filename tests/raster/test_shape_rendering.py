"""shape_rendering: 'crispEdges' / 'optimizeSpeed' shapes are drawn aliased.

Reference: point sampling at the pixel centres (an even-odd crossing test in NumPy
float64), on an axis-aligned and a slanted rectangle whose edges pass no pixel centre
closer than 0.05 px: where one straight edge crosses a pixel, aliased coverage >= 1/2 and
point sampling agree exactly (the slanted rectangle's corner pixels are left out; the
axis-aligned one's corners agree too).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv

W = H = 24


def point_sampled(poly, width=W, height=H):
    """float (H, W) 1 where the pixel centre is inside the polygon (N, 2), else 0."""
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    inside = np.zeros((height, width), bool)
    for (x0, y0), (x1, y1) in zip(poly, np.roll(poly, -1, axis=0)):
        crosses = (y0 > ys) != (y1 > ys)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x0 + (ys - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (xs < xc)
    return inside.astype(np.float64)


def _edge_distance(poly):
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    best = np.inf
    for a, b in zip(poly, np.roll(poly, -1, axis=0)):
        d = b - a
        t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / (d @ d), 0, 1)
        best = min(best, np.min(np.hypot(xs - a[0] - t * d[0], ys - a[1] - t * d[1])))
    return best


def away_from_corners(poly, width=W, height=H):
    """bool (H, W): pixels whose centre is over 1.5 px from every vertex of ``poly``."""
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    return np.all([np.hypot(xs - x, ys - y) > 1.5 for x, y in poly], axis=0)


AXIS = np.array([[3.3, 4.7], [20.6, 4.7], [20.6, 17.2], [3.3, 17.2]])
_c, _s = np.cos(0.465), np.sin(0.465)
SLANT = np.array([[12.3, 11.9]]) + np.array([[-8.3, -4.6], [8.3, -4.6], [8.3, 4.6], [-8.3, 4.6]]) @ np.array(
    [[_c, _s], [-_s, _c]])


def scene(mode):
    red = dv.rgba(1.0, 0.0, 0.0, 1.0)
    return dv.Scene(children=(
        dv.Rect(p_min=AXIS[0].tolist(), p_max=AXIS[2].tolist(), fill=red, shape_rendering=mode),
        dv.Polygon(points=SLANT.tolist(), fill=dv.rgba(0.0, 0.0, 1.0, 1.0), shape_rendering=mode,
                   transform=[[1, 0, 30.0], [0, 1, 0], [0, 0, 1]])))


def test_reference_edges_avoid_pixel_centres():
    assert _edge_distance(AXIS) > 0.05 and _edge_distance(SLANT) > 0.05


@pytest.mark.parametrize("mode", ["crispEdges", "optimizeSpeed"])
def test_aliased_shapes_equal_point_sampled_centres(mode):
    img = np.asarray(dv.render(scene(mode), width=2 * W + 8, height=H, premultiplied=True))
    np.testing.assert_array_equal(img[:, :W, 3], point_sampled(AXIS))
    far = away_from_corners(SLANT)    # a pixel holding a corner is crossed by two edges
    assert far.sum() > 0.9 * far.size
    np.testing.assert_array_equal(img[:, 30:30 + W, 3][far], point_sampled(SLANT)[far])
    assert set(np.unique(img[..., 3])) <= {0.0, 1.0}


def test_anti_aliased_modes_are_the_default():
    auto = np.asarray(dv.render(scene("auto"), width=2 * W + 8, height=H))
    precise = np.asarray(dv.render(scene("geometricPrecision"), width=2 * W + 8, height=H))
    assert np.array_equal(auto, precise)
    assert len(np.unique(auto[..., 3])) > 2


def test_aliased_coverage_has_zero_finite_gradients_and_colour_gradients():
    loss = lambda s: jnp.sum(dv.render(s, width=2 * W + 8, height=H) * jnp.arange(1.0, 5.0))
    g = jax.grad(loss)(scene("crispEdges"))
    for leaf in jax.tree_util.tree_leaves(g):
        assert np.all(np.isfinite(np.asarray(leaf)))
    assert np.abs(np.asarray(g.children[0].p_min)).max() == 0.0
    assert np.abs(np.asarray(g.children[1].points)).max() == 0.0
    assert np.abs(np.asarray(g.children[0].fill.color)).max() > 0.0


def test_aliased_scenes_take_the_layered_pipeline():
    enc = dv.encode(scene("crispEdges"), width=8, height=8)
    assert enc.compositing is not None and bool(enc.compositing.aliased.any())
    assert dv.encode(scene("auto"), width=8, height=8).compositing is None
    with pytest.raises(ValueError, match="shape_rendering"):
        dv.Rect(p_min=[0, 0], p_max=[1, 1], shape_rendering="crisp")
