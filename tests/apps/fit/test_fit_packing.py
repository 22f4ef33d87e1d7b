"""fit's packed parameters: one vector per group must behave exactly like the scene's leaves
(round trip, clamp, Adam updates, moment reset), checked against the scene-level versions."""
import jax
import jax.numpy as jnp
import numpy as np

import diffvg_jax as dv
from diffvg_jax.apps.common.labels import clamp_limits, make_clamp, parameter_labels
from diffvg_jax.apps.fit.params import (child_mask, make_optimizer, make_packed_clamp, make_packed_optimizer,
                                        reset_moments, reset_packed_moments)
from diffvg_jax.apps.fit.packing import Packing

W = H = 32


def mixed_scene():
    rng = np.random.default_rng(0)
    grad = dv.LinearGradient(start=np.array([0.0, 0.0]), end=np.array([9.0, 3.0]), offsets=np.array([0.0, 1.0]),
                             colors=rng.uniform(0, 1, (2, 4)))
    return dv.Scene(children=(
        dv.Path(points=rng.uniform(-5, 40, (7, 2)), degrees=(3, 3), closed=False,
                stroke=dv.Solid(color=rng.uniform(0, 1, 4)), stroke_width=rng.uniform(0.5, 3, 7)),
        dv.Group(children=(dv.Circle(center=np.array([5.0, 6.0]), radius=3.0, fill=grad),), opacity=0.7),
        dv.Rect(p_min=np.array([1.0, 2.0]), p_max=np.array([9.0, 8.0]), corner_radius=np.array([1.0, 2.0]),
                fill=dv.rgba(0.2, 0.3, 0.4, 0.5), fill_opacity=0.9),
    ), background=[1, 1, 1, 1], width=W, height=H)


def leaves_equal(a, b):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(np.asarray(x, np.float32), np.asarray(y, np.float32))


def test_pack_unpack_round_trip_and_group_sizes():
    scene = mixed_scene()
    labels = parameter_labels(scene)
    packing = Packing(labels, scene)
    packed = packing.pack(scene)
    assert set(packed) == set(jax.tree.leaves(labels))
    for g, v in packed.items():
        want = sum(np.size(x) for x, r in zip(jax.tree.leaves(scene), jax.tree.leaves(labels)) if r == g)
        assert v.shape == (want,) == (packing.sizes[g],)
    leaves_equal(packing.unpack(packed), scene)
    leaves_equal(packing.unpack({g: np.asarray(v) for g, v in packed.items()}), scene)  # host path


def test_packed_clamp_equals_scene_clamp():
    scene = mixed_scene()
    labels = parameter_labels(scene)
    packing = Packing(labels, scene)
    wild = jax.tree.map(lambda x: jnp.asarray(np.random.default_rng(1).uniform(-60, 60, np.shape(x)), jnp.float32),
                        scene)
    for limits in (clamp_limits(width=W, height=H, min_width=1.0, max_width=2.0, point_margin=4.0),
                   clamp_limits(width=W, height=H)):
        want = make_clamp(labels)(wild, limits)
        got = packing.unpack(make_packed_clamp(labels, packing)(packing.pack(wild), limits))
        leaves_equal(got, want)


def test_packed_adam_equals_scene_adam_and_reset_hits_the_same_entries():
    scene = mixed_scene()
    labels = parameter_labels(scene)
    packing = Packing(labels, scene)
    kw = dict(lr_points=1.0, lr_width=0.1, lr_color=0.01)
    opt, popt = make_optimizer(labels, **kw), make_packed_optimizer(packing.groups, **kw)
    state, pstate = opt.init(scene), popt.init(packing.pack(scene))
    rng = np.random.default_rng(2)
    for _ in range(3):
        grads = jax.tree.map(lambda x: jnp.asarray(rng.normal(size=np.shape(x)), jnp.float32), scene)
        upd, state = opt.update(grads, state, scene)
        pupd, pstate = popt.update(packing.pack(grads), pstate, packing.pack(scene))
        for x, y in zip(jax.tree.leaves(packing.unpack(pupd)), jax.tree.leaves(upd)):
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-6, atol=1e-7)
    # Reset the moments of child 0 in both: the same entries must be zeroed.
    mask = child_mask(scene, [True, False, False])
    mu = reset_moments(state, mask).inner_states["points"].inner_state[0].mu          # list over leaves
    pmu = reset_packed_moments(pstate, packing.element_mask(mask)).inner_states["points"].inner_state[0].mu
    want = np.concatenate([np.ravel(m) for m, r in zip(mu, jax.tree.leaves(labels)) if r == "points"])
    np.testing.assert_allclose(np.asarray(pmu["points"]), want, rtol=1e-6, atol=1e-7)
    first = np.size(scene.children[0].points)  # child 0's points come first in the 'points' group
    assert not np.any(want[:first]) and np.all(want[first:] != 0)
