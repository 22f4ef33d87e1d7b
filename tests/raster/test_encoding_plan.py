"""Reused encoding plans (raster/encoding_plan): a structure seen before is drawn from its
kept plan, with the new scene's values.

Reference: the same scene encoded with no plan kept (``PLANS`` cleared), which walks and
plans it afresh; images and eager gradients must agree bit for bit (the same programs run
on the same numbers). Bad values on a reused structure must still raise the checks' named
errors, and scenes whose leaves cannot be named by position must never be kept.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.raster import DEFAULT_CURVE_PIECES
from diffvg_jax.raster.encoding_plan import PLANS, structure_key
from test_encoding import SIZE, random_flat_scene, random_layered_scene


def _render(scene):
    return np.asarray(dv.render(scene, width=SIZE, height=SIZE))


def _grad(scene):
    loss = lambda s: jnp.sum(dv.render(s, width=SIZE, height=SIZE) * jnp.linspace(0.5, 1.5, 4))
    return jax.tree_util.tree_leaves(jax.grad(loss)(scene))


def _fresh(fn, scene):
    PLANS.clear()
    try:
        return fn(scene)
    finally:
        PLANS.clear()


def _scaled(scene, factor=0.9):
    """The same structure with other values (colours, offsets and opacities stay valid)."""
    return jax.tree_util.tree_map(lambda x: x * factor, scene)


@pytest.mark.parametrize("seed", range(4))
def test_a_kept_plan_draws_the_new_values(seed):
    scene = random_flat_scene(seed)
    other = _scaled(scene)
    want, want_grad = _fresh(_render, other), _fresh(_grad, other)
    _render(scene)
    assert len(PLANS) == 1                     # the flat scene's plan is kept ...
    got, got_grad = _render(other), _grad(other)
    assert len(PLANS) == 1                     # ... and reused, not planned again
    assert np.abs(got - _render(scene)).max() > 1e-3
    np.testing.assert_array_equal(got, want)
    for g, w in zip(got_grad, want_grad):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


@pytest.mark.parametrize("seed", range(2))
def test_layered_scenes_draw_the_same_through_the_cache(seed):
    """Masks with a region read a polygon made from the region (not a scene leaf): such
    scenes are planned on every call; either way the image is the fresh one."""
    scene = random_layered_scene(seed)
    other = _scaled(scene)
    want = _fresh(_render, other)
    _render(scene)
    np.testing.assert_array_equal(_render(other), want)


def _with_nan(scene, name):
    """``scene`` with NaN in the first leaf whose key path ends with ``name``."""
    paths, treedef = jax.tree_util.tree_flatten_with_path(scene)
    leaves = [x for _, x in paths]
    k = next(i for i, (p, _) in enumerate(paths) if jax.tree_util.keystr(p).endswith(name))
    leaves[k] = jnp.full_like(leaves[k], jnp.nan)
    return jax.tree_util.tree_unflatten(treedef, leaves)


@pytest.mark.parametrize("name, message", [(".background", r"scene \(Scene\)\.background contains NaN or inf"),
                                           (".fill.colors", r"\.fill \(LinearGradient\)\.colors contains NaN or inf")])
def test_bad_values_on_a_kept_structure_raise_the_named_error(name, message):
    """A packed leaf (the background) and one read apart from the packed vector (a
    gradient's stop colours) are both checked."""
    scene = next(s for s in map(random_flat_scene, range(40))
                 if any(isinstance(getattr(c, "fill", None), dv.LinearGradient) for c in jax.tree_util.tree_leaves(
                     s, is_leaf=lambda x: isinstance(x, dv.Circle))))
    _render(scene)
    assert len(PLANS) >= 1
    with pytest.raises(ValueError, match=message):
        dv.render(_with_nan(scene, name), width=SIZE, height=SIZE)


def _two_paths(points_a, points_b):
    common = dict(degrees=(3,), closed=False, stroke=dv.rgba(0.1, 0.2, 0.9, 1.0), stroke_width=2.0)
    return dv.Scene(children=(dv.Path(points=points_a, **common), dv.Path(points=points_b, **common)))


def test_a_scene_sharing_one_array_between_fields_is_not_kept():
    """Two paths holding the same array object: its leaf has two positions, so a plan made
    from it could not tell which one a later scene's values belong to."""
    shared = jnp.array([[2.0, 2.0], [10.0, 28.0], [20.0, 4.0], [30.0, 30.0]])
    PLANS.clear()
    _render(_two_paths(shared, shared))
    assert len(PLANS) == 0
    distinct = _two_paths(shared, jnp.array([[30.0, 2.0], [2.0, 10.0], [28.0, 20.0], [4.0, 30.0]]))
    np.testing.assert_array_equal(_render(distinct), _fresh(_render, distinct))


def test_pattern_scenes_are_not_kept():
    """A pattern's tile resolution follows the values of the transforms above it."""
    tile = dv.Pattern(children=(dv.Circle(center=[2.0, 2.0], radius=1.5, fill=dv.rgba(1, 0, 0, 1)),), size=[4.0, 4.0])
    scene = dv.Scene(children=(dv.Rect(p_min=[2.0, 2.0], p_max=[30.0, 30.0], fill=tile),))
    PLANS.clear()
    image = _render(scene)
    leaves, treedef = jax.tree_util.tree_flatten(scene)
    assert structure_key(treedef, leaves, DEFAULT_CURVE_PIECES) not in PLANS     # (the tile's content is)
    assert image[..., 3].max() > 0.5


def test_leaf_shapes_are_part_of_the_structure():
    """Polygons have no static point count: 4 and 5 points are two structures."""
    square = dv.Scene(children=(dv.Polygon(points=[[4.0, 4.0], [28.0, 4.0], [28.0, 28.0], [4.0, 28.0]],
                                           fill=dv.rgba(0, 0, 0, 1)),))
    house = dv.Scene(children=(dv.Polygon(points=[[4.0, 12.0], [16.0, 2.0], [28.0, 12.0], [28.0, 28.0], [4.0, 28.0]],
                                          fill=dv.rgba(0, 0, 0, 1)),))
    want = _fresh(_render, house)
    _render(square)
    np.testing.assert_array_equal(_render(house), want)
    assert abs(want[..., 3].sum() - (24 * 16 + 24 * 10 / 2)) < 0.5     # the house's area, px


def test_a_plan_made_inside_jit_serves_eager_calls():
    """Plans made while tracing hold device arrays, not the trace's tracers."""
    scene = random_flat_scene(7)
    want = _fresh(_render, scene)
    PLANS.clear()
    jax.block_until_ready(jax.jit(lambda s: dv.render(s, width=SIZE, height=SIZE))(scene))
    assert len(PLANS) == 1
    np.testing.assert_array_equal(_render(scene), want)
