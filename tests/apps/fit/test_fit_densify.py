"""Densification on constructed cases: which paths count as collapsed, where they re-seed,
and that their Adam moments are reset (no rendering needed)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.apps.common.labels import clamp_limits, make_clamp, parameter_labels
from diffvg_jax.apps.fit.densify import find_collapsed, reseed_paths
from diffvg_jax.apps.fit.params import child_mask, make_optimizer, reset_moments
from diffvg_jax.apps.fit.target import parse_background

W = H = 32


def blob(cx, cy, r, alpha=1.0):
    t = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], -1)
    return dv.Path(points=pts, degrees=(3,) * 4, closed=True, fill=dv.rgba(0.3, 0.3, 0.3, alpha))


def stroke(x0, y0, length, alpha=1.0):
    pts = np.stack([x0 + np.linspace(0, length, 4), np.full(4, y0)], -1)
    return dv.Path(points=pts, degrees=(3,), closed=False, stroke=dv.rgba(0.3, 0.3, 0.3, alpha), stroke_width=1.0)


@pytest.fixture
def scene():
    return dv.Scene(children=(
        blob(8, 8, 4),              # 0 healthy fill
        blob(20, 20, 4, alpha=0.01),  # 1 transparent
        blob(10, 25, 0.2),          # 2 area ~0.1 px^2: collapsed
        stroke(2, 2, 10),           # 3 healthy stroke
        stroke(5, 5, 0.3),          # 4 length 0.3 px: collapsed
        stroke(40, 40, 5),          # 5 off canvas
        dv.Circle(center=[5, 5], radius=0.0, fill=dv.rgba(1, 0, 0, 0)),  # 6 not a Path: never touched
    ), background=[1, 1, 1, 1], width=W, height=H)


def test_find_collapsed_marks_exactly_the_dead_paths(scene):
    got = find_collapsed(scene, width=W, height=H)
    np.testing.assert_array_equal(got, [False, True, True, False, True, True, False])


def test_relative_ink_marks_faint_paths_too(scene):
    # ink (px^2): blob 0 ~ 45, stroke 3 = 10; a faint copy of blob 0 at alpha 0.06 has ~2.7
    faint = blob(8, 8, 4, alpha=0.06)
    s = scene.replace(children=scene.children + (faint,))
    base = find_collapsed(s, width=W, height=H)
    assert not base[7]  # alpha above min_alpha: not collapsed in the strict sense
    rel = find_collapsed(s, width=W, height=H, min_relative=0.5)
    np.testing.assert_array_equal(rel, list(base[:7]) + [True])
    assert not rel[0] and not rel[3]


def test_reseed_moves_dead_paths_to_the_error_and_keeps_the_rest(scene):
    which = find_collapsed(scene, width=W, height=H)
    target = np.ones((H, W, 3), np.float32)
    target[20:28, 4:12] = [0.9, 0.1, 0.2]  # the only error: an 8x8 red block
    rgb = np.ones((H, W, 3), np.float32)
    out = reseed_paths(scene, which, rgb=rgb, target=target, rng=np.random.default_rng(0), radius=0.1)
    assert jax.tree.structure(out) == jax.tree.structure(scene)  # no recompilation
    for i, (old, new) in enumerate(zip(scene.children, out.children)):
        if not which[i]:
            assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(old), jax.tree.leaves(new)))
            continue
        centre = np.asarray(new.points).mean(0)
        # blur radius is 2 px, so centres are drawn from the block grown by 2 px
        assert 2 <= centre[0] <= 14 and 18 <= centre[1] <= 30, (i, centre)
        paint = new.fill if new.fill is not None else new.stroke
        np.testing.assert_allclose(np.asarray(paint.color)[:3], [0.9, 0.1, 0.2], atol=0.02)
        assert np.asarray(paint.color)[3] == pytest.approx(0.8)
    # after re-seeding nothing is collapsed any more
    assert not find_collapsed(out, width=W, height=H)[:6].any()


def test_reseed_is_deterministic(scene):
    which = find_collapsed(scene, width=W, height=H)
    target = np.random.default_rng(1).random((H, W, 3)).astype(np.float32)
    a = reseed_paths(scene, which, rgb=np.zeros_like(target), target=target, rng=np.random.default_rng(5))
    b = reseed_paths(scene, which, rgb=np.zeros_like(target), target=target, rng=np.random.default_rng(5))
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)


def test_labels_clamp_and_moment_reset(scene):
    labels = parameter_labels(scene)
    assert labels.children[0].points == "points" and labels.children[0].fill.color == "color"
    assert labels.children[3].stroke_width == "width" and labels.children[0].transform == "frozen"
    assert labels.background == "frozen" and labels.children[0].fill_opacity == "opacity"
    opt = make_optimizer(labels, lr_points=1.0, lr_width=0.1, lr_color=0.01)
    state = opt.init(scene)
    grads = jax.tree.map(jnp.ones_like, scene)
    updates, state = opt.update(grads, state, scene)
    # Adam's first step moves every trainable leaf by its learning rate, frozen ones not at all
    np.testing.assert_allclose(updates.children[0].points, -1.0, rtol=1e-5)
    np.testing.assert_allclose(updates.children[3].stroke_width, -0.1, rtol=1e-5)
    np.testing.assert_allclose(updates.children[0].fill.color, -0.01, rtol=1e-5)
    assert not np.any(updates.children[0].transform) and not np.any(updates.background)
    clamp = make_clamp(labels)
    wild = jax.tree.map(lambda x: x * 0 + 100.0, scene)
    c = clamp(wild, clamp_limits(width=W, height=H, min_width=1.0, max_width=2.0, point_margin=4.0))
    assert float(c.children[3].stroke_width) == 2.0 and float(c.children[0].fill.color[0]) == 1.0
    np.testing.assert_array_equal(c.children[0].points[0], [W + 4.0, H + 4.0])
    assert float(c.children[0].transform[0, 0]) == 100.0  # frozen leaves are not clamped
    free = clamp(wild, clamp_limits(width=W, height=H))  # refining: only colours are bounded
    assert float(free.children[3].stroke_width) == 100.0 and float(free.children[0].points[0, 0]) == 100.0
    assert float(free.children[0].fill_opacity) == 1.0
    # resetting the moments of child 1 zeroes exactly its entries
    mask = child_mask(scene, [False, True] + [False] * 5)
    reset = reset_moments(state, mask)
    adam = reset.inner_states["points"].inner_state[0]
    before = state.inner_states["points"].inner_state[0]
    leaves0 = len(jax.tree.leaves(scene.children[0]))
    pts1 = leaves0 + [k for k, v in enumerate(jax.tree.leaves(scene.children[1])) if v.shape == (12, 2)][0]
    assert not np.any(adam.mu[pts1]) and np.any(before.mu[pts1])
    np.testing.assert_array_equal(adam.mu[leaves0 - 1 - 0], before.mu[leaves0 - 1 - 0])


def test_parse_background():
    np.testing.assert_array_equal(parse_background("white"), [1, 1, 1])
    np.testing.assert_allclose(parse_background("#ff8000"), [1, 128 / 255, 0])
    t = np.zeros((5, 5, 3), np.float32)
    t[0] = 1.0  # top row white, the other three borders black
    np.testing.assert_array_equal(parse_background("estimate", t), [0, 0, 0])
    with pytest.raises(ValueError, match="background"):
        parse_background("purple")


def test_non_solid_paints_are_measured_but_never_reseeded():
    """A collapsed path with a gradient or pattern paint keeps its paint (re-seeding it with
    a Solid would change the scene's structure and recompile the step)."""
    tile = dv.Pattern(children=(dv.Rect(p_min=[0, 0], p_max=[2, 2], fill=dv.rgba(1, 0, 0, 1)),), size=[4.0, 4.0])
    grad = dv.LinearGradient(start=[0, 0], end=[4, 0], offsets=[0, 1], colors=[[0, 0, 0, 0.01], [1, 1, 1, 0.01]])
    tiny_pattern = dv.replace(blob(10, 25, 0.2), fill=tile)
    faint_gradient = dv.replace(blob(20, 20, 4), fill=grad)
    s = dv.Scene(children=(blob(8, 8, 4), tiny_pattern, faint_gradient), width=W, height=H)
    which = find_collapsed(s, width=W, height=H)
    np.testing.assert_array_equal(which, [False, True, True])  # tiny by area, faint by alpha
    target = np.zeros((H, W, 3), np.float32)
    out = reseed_paths(s, which, rgb=np.ones_like(target), target=target, rng=np.random.default_rng(0))
    assert jax.tree.structure(out) == jax.tree.structure(s)
    for old, new in zip(s.children[1:], out.children[1:]):
        assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(old), jax.tree.leaves(new)))
