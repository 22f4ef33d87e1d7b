"""The coverage kernels' shared suite: every implementation (the dense XLA reference
``winding_integral`` and the tiled kernel ``tiled_winding``, see conftest.py) against an
exact reference, per-pixel polygon clipping in float64, with the same value and gradient
checks.

Sutherland-Hodgman clipping of the polygon to each pixel gives the exact box-filtered
signed area of a simple polygon; for self-intersecting ones it gives the exact winding
integral too (clipping preserves the signed area integral of the winding number).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from diffvg_jax.kernels import fill_rule_coverage, pieces_needed


def pixel_winding_reference(poly, height, width):
    """float64 (H, W) exact winding integral of a closed polygon (list of (x, y))."""
    def clip(points, inside):
        out = []
        for a, b in zip(points, points[1:] + points[:1]):
            fa, fb = inside(a), inside(b)
            if fa >= 0:
                out.append(a)
            if (fa >= 0) != (fb >= 0):
                t = fa / (fa - fb)
                out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
        return out

    ref = np.zeros((height, width))
    pts = [tuple(map(float, p)) for p in poly]
    for i in range(height):
        for j in range(width):
            p = pts
            for f in (lambda q: q[0] - j, lambda q: j + 1 - q[0], lambda q: q[1] - i, lambda q: i + 1 - q[1]):
                p = clip(p, f)
                if not p:
                    break
            if p:
                x = np.array([q[0] for q in p])
                y = np.array([q[1] for q in p])
                ref[i, j] = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    return ref


def polygon_edges(points):
    points = jnp.asarray(points)
    return jnp.stack([points, jnp.roll(points, -1, axis=0)], axis=1)


H, W = 12, 14
MAX_VERTICES = 8  # polygons are padded to this many vertices so that one compilation serves all


def padded(points):
    """Pad a polygon with copies of its last vertex: the extra edges have zero length."""
    pts = np.asarray(points, np.float64)
    return np.concatenate([pts, np.repeat(pts[-1:], MAX_VERTICES - len(pts), axis=0)])


class Kernel:
    """One implementation's single-polygon kernel: (H, W) winding of a closed polygon."""

    def __init__(self, impl):
        self.impl = impl
        self.fixed = jax.jit(self._fixed)   # one compilation for every polygon of <= MAX_VERTICES

    def _fixed(self, points):
        e = polygon_edges(points)
        return self.impl.winding(e, jnp.zeros(e.shape[0], jnp.int32), num_layers=1, height=H, width=W,
                                 max_pieces=512)[0]

    def __call__(self, points, budget=512, height=H, width=W):
        concrete = not isinstance(points, jax.core.Tracer)
        if concrete and budget == 512 and (height, width) == (H, W) and len(points) <= MAX_VERTICES:
            return self.fixed(jnp.asarray(padded(points)))
        e = polygon_edges(points)
        return self.impl.winding(e, jnp.zeros(e.shape[0], jnp.int32), num_layers=1, height=height, width=width,
                                 max_pieces=budget)[0]


@pytest.fixture(scope="module")
def kernel(implementation):
    return Kernel(implementation)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.floats(-4, W + 4), st.floats(-4, H + 4)), min_size=3, max_size=7))
def test_winding_matches_exact_clipping(kernel, points):
    pts = np.asarray(points, np.float32)
    got = np.asarray(kernel(pts))
    # Our orientation: y down, cover accumulates to the right -> the negative of the shoelace sign.
    ref = -pixel_winding_reference(pts.astype(np.float64), H, W)
    np.testing.assert_allclose(got, ref, atol=2e-4)


def test_integer_and_grid_aligned_coordinates(kernel):
    # Edges along grid lines and vertices on grid corners are where clipping has ties.
    pts = np.array([[2, 2], [9, 2], [9, 7], [5, 11], [2, 7]], np.float32)
    ref = -pixel_winding_reference(pts.astype(np.float64), H, W)
    np.testing.assert_allclose(np.asarray(kernel(pts)), ref, atol=2e-4)


def test_sum_is_signed_area(kernel):
    pts = np.array([[1.3, 2.1], [11.7, 1.2], [12.2, 10.9], [4.1, 8.4]])
    x, y = pts[:, 0], pts[:, 1]
    shoelace = 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)
    assert float(-kernel(pts).sum()) == pytest.approx(shoelace, rel=1e-5)


def _loss64(kernel, points, weights):
    return jnp.sum(kernel(points) * weights)


@pytest.mark.parametrize("points", [
    [[1.3, 2.1], [11.7, 1.2], [12.2, 10.9], [4.1, 8.4]],
    [[3.0, 4.0], [12.0, 2.0], [10.0, 11.0], [4.0, 9.0]],      # integer vertices (ties)
    [[-3.0, 5.5], [8.2, -2.0], [16.0, 6.0], [6.0, 14.0]],    # crosses every canvas border
])
def test_gradient_matches_float64_finite_differences(kernel, points):
    with jax.enable_x64(True):
        pts = jnp.asarray(points, jnp.float64)
        w = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (H, W)))
        g = np.asarray(jax.grad(_loss64, argnums=1)(kernel, pts, w))
        fd = np.zeros_like(g)
        h = 1e-6
        for idx in np.ndindex(*g.shape):
            e = np.zeros(g.shape)
            e[idx] = h
            fd[idx] = (_loss64(kernel, pts + e, w) - _loss64(kernel, pts - e, w)) / (2 * h)
    rel = np.abs(g - fd) / np.maximum(np.abs(fd), 1e-3)
    assert np.median(rel) <= 1e-3, (g, fd)
    assert rel.max() <= 1e-2, (g, fd)


def test_degenerate_edges_have_finite_gradients(kernel):
    cases = [
        np.zeros((4, 2)),                                      # all coincident
        np.array([[3.0, 3.0], [3.0, 3.0], [8.0, 6.0]]),       # zero-length edge
        np.array([[1e6, 1e6], [-1e6, 3.0], [2.0, 2.0]]),       # huge coordinates
        np.array([[2.0, 5.0], [9.0, 5.0], [5.0, 5.0]]),        # collinear, zero area
    ]
    grad = jax.jit(jax.grad(lambda p: jnp.sum(kernel.fixed(p) ** 2)))
    for pts in cases:
        p = jnp.asarray(padded(pts), jnp.float32)
        assert np.all(np.isfinite(np.asarray(grad(p)))), pts
        assert np.all(np.isfinite(np.asarray(kernel.fixed(p))))


def test_budget_counts_and_drops(kernel):
    pts = np.array([[1.0, 1.0], [12.0, 2.0], [6.0, 11.0]], np.float32)
    need = int(pieces_needed(polygon_edges(pts), height=H, width=W))
    full = np.asarray(kernel(pts, budget=need))
    np.testing.assert_allclose(np.asarray(kernel(pts, budget=need + 100)), full, atol=1e-6)
    assert np.abs(np.asarray(kernel(pts, budget=need // 2)) - full).max() > 0.1


def test_layers_are_independent_and_fill_rules(implementation):
    winding_integral = implementation.winding
    a = polygon_edges(np.array([[1.0, 1.0], [8.0, 1.5], [4.0, 9.0]], np.float32))
    b = polygon_edges(np.array([[5.0, 3.0], [13.0, 4.0], [9.0, 11.0]], np.float32))
    both = winding_integral(jnp.concatenate([a, b]), jnp.array([0, 0, 0, 1, 1, 1]), num_layers=2, height=H, width=W,
                            max_pieces=512)
    np.testing.assert_allclose(np.asarray(both[0]), np.asarray(winding_integral(a, jnp.zeros(3, jnp.int32), num_layers=1, height=H, width=W, max_pieces=512)[0]), atol=1e-6)
    w = jnp.array([-2.5, -1.0, 0.3, 1.7, 2.2])
    np.testing.assert_allclose(np.asarray(fill_rule_coverage(w, "nonzero")), [1, 1, 0.3, 1, 1], atol=1e-6)
    np.testing.assert_allclose(np.asarray(fill_rule_coverage(w, "evenodd")), [0.5, 1, 0.3, 0.3, 0.2], atol=1e-6)


def test_invalid_arguments_name_the_argument(implementation):
    winding_integral = implementation.winding
    e = polygon_edges(np.zeros((3, 2), np.float32))
    with pytest.raises(ValueError, match="edges"):
        winding_integral(jnp.zeros((3, 2)), jnp.zeros(3, jnp.int32), num_layers=1, height=4, width=4, max_pieces=8)
    with pytest.raises(ValueError, match="height"):
        winding_integral(e, jnp.zeros(3, jnp.int32), num_layers=1, height=-4, width=4, max_pieces=8)
    with pytest.raises(ValueError, match="layer_ids"):
        winding_integral(e, jnp.zeros(2, jnp.int32), num_layers=1, height=4, width=4, max_pieces=8)
