"""The packed leaf vector's VJP inside a user's jit: both forms of the split (slices under
XLA:CPU's classic emitters, constant-index gathers under its fusion emitters) hand every
leaf its own cotangent. References: NumPy's split, and the eager gradient (split on the host).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.raster.leaves import split_traced
from diffvg_jax.runtime import cpu_fusion_emitters_enabled

EMITTER_SETTINGS = {"fusion emitters": "", "classic emitters": "--xla_cpu_use_fusion_emitters=false"}


@pytest.fixture(params=list(EMITTER_SETTINGS))
def emitters(request, monkeypatch):
    """XLA_FLAGS as the split reads it at trace time (the compiler keeps the suite's own
    setting: only the traced form changes)."""
    monkeypatch.setenv("XLA_FLAGS", EMITTER_SETTINGS[request.param])
    return request.param


def test_emitter_setting_is_read_from_xla_flags(monkeypatch):
    for flags, expected in [("", True), ("--xla_cpu_use_fusion_emitters=false", False),
                            ("--foo=1 --xla_cpu_use_fusion_emitters=False", False),
                            ("--xla_cpu_use_fusion_emitters=false --xla_cpu_use_fusion_emitters=true", True)]:
        monkeypatch.setenv("XLA_FLAGS", flags)
        assert cpu_fusion_emitters_enabled() is expected, flags


def test_traced_split_matches_numpy(emitters):
    shapes = [(), (4,), (3, 3), (), (12, 2), (1,)]
    ends = np.cumsum([int(np.prod(s)) for s in shapes])
    g = np.random.default_rng(0).normal(size=int(ends[-1]) + 5).astype(np.float32)   # + padding, dropped
    got = jax.jit(lambda v: split_traced(v, ends, shapes))(g)
    want = [p.reshape(s) for p, s in zip(np.split(g, ends), shapes)]
    assert len(got) == len(shapes)
    for a, b, s in zip(got, want, shapes):
        assert a.shape == s
        np.testing.assert_array_equal(np.asarray(a), b)


def test_gradient_inside_jit_matches_eager_gradient(emitters):
    rng = np.random.default_rng(3)
    scene = dv.Scene(children=tuple(
        dv.Path(points=rng.uniform(2, 22, (5, 2)), degrees=(3, 2), closed=True,
                fill=dv.Solid(color=rng.uniform(0.2, 1, 4)), stroke=dv.Solid(color=rng.uniform(0.2, 1, 4)),
                stroke_width=float(rng.uniform(0.5, 2)), fill_opacity=0.8)
        for _ in range(3)), background=[1, 1, 1, 1])
    target = jnp.asarray(rng.uniform(0, 1, (24, 24, 4)), jnp.float32)

    def loss(s):
        return jnp.sum((dv.render(s, width=24, height=24) - target) ** 2)

    eager = jax.grad(loss)(scene)
    inside = jax.jit(jax.grad(loss))(scene)
    pairs = list(zip(jax.tree_util.tree_leaves_with_path(inside), jax.tree_util.tree_leaves(eager)))
    assert len(pairs) == len(jax.tree_util.tree_leaves(scene))
    assert any(np.any(np.asarray(b) != 0) for _, b in pairs)
    for (path, a), b in pairs:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=2e-4, atol=2e-4,
                                   err_msg=jax.tree_util.keystr(path))
