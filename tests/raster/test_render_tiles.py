"""The tiled render path against the dense one, on scenes with more layers than a tile holds.

``render`` composites flat scenes tile by tile (only the layers present in each tile) and
scenes with group opacity densely. A group with opacity 1 changes nothing in the image, so
wrapping a scene in one forces the dense path on the same content: images and gradients
must agree. The dense path is itself checked against the oracle and finite differences.
"""
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv

W, H = 48, 40   # 3 x 3 tiles of 16 px, the last row partly off the canvas


def busy_scene(seed=0, n=20):
    """n small blobs (one structure), strokes, an even-odd star, a gradient-filled circle and
    a large rectangle under everything: more layers than any tile holds."""
    rng = np.random.default_rng(seed)
    blobs = []
    for _ in range(n):
        c = rng.uniform([0, 0], [W, H])
        ang = np.sort(rng.uniform(0, 2 * np.pi, 9))
        rad = rng.uniform(2, 7) * rng.uniform(0.6, 1.2, 9)
        pts = np.stack([c[0] + rad * np.cos(ang), c[1] + rad * np.sin(ang)], 1)
        blobs.append(dv.Path(points=pts, degrees=(3, 3, 2, 1), closed=True,
                             fill=dv.Solid(color=rng.uniform(0.1, 1.0, 4))))
    strokes = [dv.Path(points=rng.uniform([0, 0], [W, H], (4, 2)), degrees=(3,), closed=False,
                       stroke=dv.Solid(color=rng.uniform(0.2, 1.0, 4)), stroke_width=float(rng.uniform(1, 3)),
                       line_cap="round") for _ in range(4)]
    star = dv.Polygon(points=np.array([[24, 4], [31, 30], [8, 14], [40, 14], [17, 30]], np.float32),
                      fill=dv.rgba(0.9, 0.8, 0.1, 0.7), fill_rule="evenodd")
    grad = dv.Circle(center=np.array([30.0, 22.0]), radius=9.0,
                     fill=dv.LinearGradient(start=np.array([21.0, 22.0]), end=np.array([39.0, 22.0]),
                                            offsets=np.array([0.0, 1.0]),
                                            colors=np.array([[1, 0, 0, 1], [0, 0, 1, 0.5]], np.float32)))
    base = dv.Rect(p_min=np.array([-5.0, -5.0]), p_max=np.array([W + 5.0, H + 5.0]), fill=dv.rgba(0.3, 0.6, 0.9, 1.0))
    return dv.Scene(children=(base, *blobs[: n // 2], star, *strokes, grad, *blobs[n // 2:]))


def dense_version(scene):
    return scene.replace(children=(dv.Group(children=scene.children, opacity=1.0),))


def test_depth_counts_and_tiled_image_equals_dense():
    scene = busy_scene()
    depth = dv.depth_needed(scene, width=W, height=H)
    layers = len(scene.children)
    assert 1 < depth < layers
    tiled = np.asarray(dv.render(scene, width=W, height=H, premultiplied=True))
    dense = np.asarray(dv.render(dense_version(scene), width=W, height=H, premultiplied=True))
    np.testing.assert_allclose(tiled, dense, atol=2e-6)
    # The background rectangle covers every tile without a boundary inside most of them:
    # without it (its tiles dropped) the image would change everywhere.
    assert np.all(tiled[..., 3] > 0.999)


def test_tiled_gradients_equal_dense_gradients():
    """The tiled pipeline's gradient in small chunks (many piece chunks, one slot per depth
    chunk: its custom VJP's loops in reverse) against the dense route's autodiff."""
    scene = busy_scene(seed=1, n=18)
    target = jnp.asarray(np.random.default_rng(2).uniform(0, 1, (H, W, 4)), jnp.float32)
    pieces = dv.pieces_needed(scene, width=W, height=H) * 2
    assert pieces > 4 * 256 and dv.depth_needed(scene, width=W, height=H) > 2

    def loss(s, wrap):
        if wrap:   # the layered route: max_pieces is a budget there
            img = dv.render(dense_version(s), width=W, height=H, max_pieces=pieces, check_budget=False)
        else:      # the tiled route: chunk sizes
            img = dv.render(s, width=W, height=H, max_pieces=256, max_depth=1)
        return jnp.mean((img - target) ** 2)

    g_tiled = jax.tree.leaves(jax.jit(jax.grad(lambda s: loss(s, False)))(scene))
    g_dense = jax.tree.leaves(jax.jit(jax.grad(lambda s: loss(s, True)))(scene))
    scale = max(float(jnp.max(jnp.abs(g))) for g in g_dense)
    assert scale > 1e-4
    for a, b in zip(g_tiled, g_dense):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5 * scale)


@pytest.mark.parametrize("chunks", [dict(max_depth=2), dict(max_depth=1, max_pieces=256), dict(max_depth=5)])
def test_small_chunks_draw_the_same_image(chunks):
    """max_depth and max_pieces are chunk sizes: any value is exact (more chunks, the same
    image, no warning), also inside a caller's jit."""
    scene = busy_scene(seed=2)
    full = np.asarray(dv.render(scene, width=W, height=H, premultiplied=True))
    assert dv.depth_needed(scene, width=W, height=H) > chunks["max_depth"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small = np.asarray(jax.block_until_ready(jax.jit(
            lambda s: dv.render(s, width=W, height=H, premultiplied=True, **chunks))(scene)))
    np.testing.assert_allclose(small, full, atol=2e-6)


def test_plain_jit_needs_no_budget_arguments():
    """Inside a caller's jit nothing about the scene is known: the image is still exact."""
    scene = busy_scene(seed=4, n=24)
    concrete = np.asarray(dv.render(scene, width=W, height=H))
    traced = np.asarray(jax.jit(lambda s: dv.render(s, width=W, height=H))(scene))
    np.testing.assert_allclose(traced, concrete, atol=2e-6)
    dense = np.asarray(dv.render(dense_version(scene), width=W, height=H))
    np.testing.assert_allclose(traced, dense, atol=2e-6)


def test_bad_depth_is_named():
    with pytest.raises(ValueError, match="max_depth"):
        dv.render(busy_scene(n=2), width=W, height=H, max_depth=0)
