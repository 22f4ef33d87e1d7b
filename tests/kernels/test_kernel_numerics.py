"""The shared numerical helpers: ``safe_div`` keeps values and gradients finite where it
falls back, and ``components`` takes a short last axis apart like slicing does, with the same
gradient, but transposes to one concatenation instead of one full-size pad per component."""
import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.kernels.numerics import components, safe_div


def test_components_match_slices_in_value_and_gradient():
    rng = np.random.default_rng(0)
    a = jnp.asarray(rng.normal(size=(5, 7, 4)), jnp.float32)
    w = jnp.asarray(rng.normal(size=(5, 7)), jnp.float32)
    parts = components(a)
    assert len(parts) == 4
    for i, part in enumerate(parts):
        np.testing.assert_array_equal(part, a[..., i])

    def loss(a_, split):   # a nonlinear mix of the components, so each gets its own cotangent
        x, y, z, t = split(a_)
        return jnp.sum(w * (x * y + jnp.sin(z) - t ** 3))

    slices = lambda b: tuple(b[..., i] for i in range(4))
    g_split = jax.grad(loss)(a, components)
    g_slice = jax.grad(loss)(a, slices)
    np.testing.assert_allclose(g_split, g_slice, rtol=1e-6, atol=1e-6)


def test_components_transpose_to_one_concatenation():
    a = jnp.ones((8, 2), jnp.float32)
    jaxpr = str(jax.make_jaxpr(jax.grad(lambda b: jnp.sum(components(b)[0] * components(b)[1] ** 2)))(a))
    assert "pad" not in jaxpr
    assert "concatenate" in jaxpr


def test_safe_div_falls_back_with_finite_gradients():
    num = jnp.array([1.0, 2.0, 3.0])
    den = jnp.array([2.0, 0.0, 1e-30])
    ok = jnp.abs(den) > 1e-12
    np.testing.assert_array_equal(safe_div(num, den, ok, -1.0), [0.5, -1.0, -1.0])
    g_num, g_den = jax.grad(lambda n, d: jnp.sum(safe_div(n, d, jnp.abs(d) > 1e-12)), argnums=(0, 1))(num, den)
    assert np.all(np.isfinite(g_num)) and np.all(np.isfinite(g_den))
    np.testing.assert_allclose(g_num, [0.5, 0.0, 0.0])
    np.testing.assert_allclose(g_den, [-0.25, 0.0, 0.0])
