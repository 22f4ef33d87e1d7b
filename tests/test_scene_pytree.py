"""The scene classes as pytrees: unflattening keeps what construction guarantees (float32
leaves, checked options), whichever of its two paths it takes (a ready float array or
tracer skips ``__post_init__``; anything else goes through the constructor)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv


def _scene():
    blob = dv.Path(points=np.array([[2, 2], [10, 1], [14, 8], [8, 14], [3, 12], [1, 6]], np.float32), closed=True,
                   fill=dv.rgba(0.9, 0.2, 0.1, 0.8), stroke=dv.rgba(0.1, 0.3, 0.9, 1.0), stroke_width=1.5,
                   line_join="round", fill_rule="evenodd")
    disc = dv.Circle(center=(9.0, 9.0), radius=4.0, fill=dv.rgba(0.2, 0.8, 0.3, 0.6))
    return dv.Scene(children=(blob, dv.Group(children=(disc,), opacity=0.5)))


def test_round_trip_keeps_leaves_and_options():
    scene = _scene()
    leaves, treedef = jax.tree_util.tree_flatten(scene)
    back = jax.tree_util.tree_unflatten(treedef, leaves)
    assert jax.tree_util.tree_structure(back) == treedef
    for a, b in zip(leaves, jax.tree_util.tree_leaves(back)):
        assert a is b   # float arrays pass through untouched
    blob = back.children[0]
    assert (blob.line_join, blob.fill_rule, blob.degrees, blob.closed) == ("round", "evenodd", (3, 3), (True,))
    np.testing.assert_array_equal(np.asarray(dv.render(back, width=16, height=16)),
                                  np.asarray(dv.render(scene, width=16, height=16)))


@pytest.mark.parametrize("make", [lambda x: np.asarray(x, np.float64), lambda x: jnp.round(x).astype(jnp.int32),
                                  lambda x: np.asarray(x).tolist()])
def test_other_leaves_are_converted_as_by_the_constructor(make):
    """NumPy, integer arrays and lists become float32 JAX arrays, as when the scene is built."""
    mapped = jax.tree.map(make, _scene())
    for leaf in jax.tree_util.tree_leaves(mapped):
        assert isinstance(leaf, jax.Array) and leaf.dtype == jnp.float32


def test_gradient_is_a_scene_with_named_paths():
    scene = _scene()
    grads = jax.grad(lambda s: jnp.sum(dv.render(s, width=16, height=16)))(scene)
    assert jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(scene)
    paths = [jax.tree_util.keystr(k) for k, _ in jax.tree_util.tree_flatten_with_path(grads)[0]]
    assert ".children[0].points" in paths and ".children[1].children[0].radius" in paths
    assert np.abs(np.asarray(grads.children[0].points)).sum() > 0


def test_tracers_inside_jit_and_vmap():
    """Premultiplied: the straight colour of a pixel with alpha ~1e-7 is float noise."""
    scene = _scene()
    batch = jax.tree.map(lambda x: jnp.stack([x, x]), scene)
    images = jax.jit(jax.vmap(lambda s: dv.render(s, width=16, height=16, premultiplied=True)))(batch)
    want = np.asarray(dv.render(scene, width=16, height=16, premultiplied=True))
    assert want[..., 3].max() > 0.5
    np.testing.assert_allclose(np.asarray(images[1]), want, atol=1e-6)
