"""Property tests of dv.render (hypothesis, few examples, fixed scene structures so that each
property compiles once): translation, contour reversal, coverage range, fill-rule agreement
on simple shapes, jit == no jit, vmap == loop, straight vs premultiplied output."""
import functools
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings, strategies as st

import diffvg_jax as dv

W = H = 24
SETTINGS = settings(max_examples=4, deadline=None, derandomize=True)
seeds = st.integers(0, 2 ** 31 - 1)


def _scene(poly_pts, centre, radius, fill_rule="nonzero", width=1.5):
    poly = dv.Polygon(points=poly_pts, fill=dv.rgba(0.9, 0.2, 0.1, 0.8), stroke=dv.rgba(0.1, 0.3, 0.9, 0.9),
                      stroke_width=width, fill_rule=fill_rule, line_join="round")
    circ = dv.Circle(center=centre, radius=radius, fill=dv.rgba(0.2, 0.8, 0.3, 0.6))
    return dv.Scene(children=(poly, circ))


def _random(seed, lo=3.0, hi=15.0, convex=False):
    rng = np.random.default_rng(seed)
    if convex:
        ang = np.sort(rng.uniform(0, 2 * np.pi, 5))
        r = rng.uniform(3.0, 6.0)
        pts = np.stack([9 + r * np.cos(ang), 9 + r * np.sin(ang)], -1)
    else:
        pts = rng.uniform(lo, hi, (5, 2))
    return pts.astype(np.float32), rng.uniform(6, 12, 2).astype(np.float32), np.float32(rng.uniform(1.5, 4.0))


def render(scene, **kw):
    return np.asarray(dv.render(scene, width=W, height=H, **kw), np.float64)


@SETTINGS
@given(seeds, st.integers(0, 6), st.integers(0, 6))
def test_integer_translation_shifts_the_image(seed, dx, dy):
    pts, c, r = _random(seed)
    a = render(_scene(pts, c, r), premultiplied=True)
    b = render(_scene(pts + [dx, dy], c + [dx, dy], r), premultiplied=True)
    np.testing.assert_allclose(b[dy:, dx:], a[:H - dy, :W - dx], atol=3e-5)


@SETTINGS
@given(seeds)
def test_reversing_contours_keeps_nonzero_coverage(seed):
    pts, c, r = _random(seed)
    a = render(_scene(pts, c, r), premultiplied=True)
    b = render(_scene(pts[::-1].copy(), c, r), premultiplied=True)
    np.testing.assert_allclose(a, b, atol=3e-5)


@SETTINGS
@given(seeds)
def test_coverage_in_unit_interval(seed):
    pts, c, r = _random(seed, -4.0, 28.0)   # self-intersecting, partly off canvas
    img = render(_scene(pts, c, r), premultiplied=True)
    assert img.min() >= -1e-6 and img.max() <= 1 + 1e-6
    assert np.all(img[..., :3] <= img[..., 3:] + 1e-6)  # premultiplied: rgb <= alpha


@SETTINGS
@given(seeds)
def test_evenodd_equals_nonzero_on_convex_shapes(seed):
    pts, c, r = _random(seed, convex=True)
    a = render(_scene(pts, c, r, "nonzero"), premultiplied=True)
    b = render(_scene(pts, c, r, "evenodd"), premultiplied=True)
    np.testing.assert_allclose(a, b, atol=1e-6)


# jit and eager runs compile the geometry in different programs, so edges agree to float32
# rounding (1 ulp), not bit for bit; the comparisons below are premultiplied, where the
# image is well conditioned (straight alpha divides by alpha, 1000x near alpha = 1e-4).
@functools.lru_cache(maxsize=None)
def _jitted():
    return jax.jit(lambda s: dv.render(s, width=W, height=H, max_pieces=4096, premultiplied=True))


@SETTINGS
@given(seeds)
def test_jit_equals_no_jit(seed):
    scene = _scene(*_random(seed))
    np.testing.assert_allclose(np.asarray(_jitted()(scene)), render(scene, premultiplied=True), atol=1e-5)


def test_vmap_equals_loop():
    scenes = [_scene(*_random(s)) for s in range(3)]
    stacked = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *scenes)
    batched = np.asarray(jax.jit(jax.vmap(lambda s: dv.render(s, width=W, height=H, max_pieces=4096,
                                                              premultiplied=True)))(stacked))
    for k, s in enumerate(scenes):
        np.testing.assert_allclose(batched[k], render(s, premultiplied=True), atol=1e-5)


@SETTINGS
@given(seeds)
def test_straight_and_premultiplied_agree(seed):
    scene = _scene(*_random(seed, -4.0, 28.0))
    straight = render(scene)
    pre = render(scene, premultiplied=True)
    np.testing.assert_allclose(straight[..., 3], pre[..., 3], atol=1e-6)
    # below alpha 1e-4 render divides by 1e-4 instead of alpha (documented): compare above it
    visible = pre[..., 3:] >= 1e-4
    np.testing.assert_allclose(np.where(visible, straight[..., :3] * straight[..., 3:], pre[..., :3]),
                               pre[..., :3], atol=1e-5)
    assert visible.any()


def test_float64_after_float32_in_one_process():
    """Switching x64 on after a float32 render used to fail with an MLIR verifier error (a
    cached float32 copy of a float64 constant). Run in a fresh interpreter: x64 must not
    leak into the other tests."""
    code = """
import jax, jax.numpy as jnp, numpy as np
import diffvg_jax as dv
kids = (dv.Circle(center=[8.0, 8.0], radius=5.0, fill=dv.rgba(1, 0, 0, 0.8)),
        dv.Rect(p_min=[1.0, 1.0], p_max=[9.0, 7.0], corner_radius=[1.0, 2.0], stroke=dv.rgba(0, 1, 0, 1),
                stroke_width=1.5, line_join="round"),
        dv.Ellipse(center=[9.0, 10.0], radius=[4.0, 2.0], fill=dv.rgba(0, 0, 1, 0.5)))
s = dv.Scene(children=kids)
a = np.asarray(dv.render(s, width=16, height=16))
jax.config.update("jax_enable_x64", True)
s64 = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), s)
b = dv.render(s64, width=16, height=16)
g = jax.grad(lambda s: jnp.sum(dv.render(s, width=16, height=16)))(s64)
assert b.dtype == jnp.float64, b.dtype
assert np.abs(a - np.asarray(b)).max() < 3e-3, np.abs(a - np.asarray(b)).max()
assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(g))
"""
    subprocess.run([sys.executable, "-c", code], check=True)
