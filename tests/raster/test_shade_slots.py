"""``shade_slots``, the tiled pipeline's per-tile "over" of a chunk of slots, against a
plain reference written here: its image, its transmittance and their gradients (its solid
paints have a hand-written VJP)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffvg_jax.raster.composite import shade_slots, slot_paint


def reference(winding, slot_layer, evenodd, rgb, scale):
    """(colour (B, T, T, 4), prod(1 - a) (B, T, T)): slot by slot, bottom first, over
    transparent black, with the fill rules of the design notes."""
    out = jnp.zeros(winding.shape[1:] + (4,), winding.dtype)
    trans = jnp.ones(winding.shape[1:], winding.dtype)
    for k in range(winding.shape[0]):
        w, lay = winding[k], slot_layer[k]
        eo = evenodd[lay][:, None, None]
        cov = jnp.where(eo, jnp.abs(w - 2.0 * jnp.round(0.5 * w)), jnp.minimum(jnp.abs(w), 1.0))
        a = cov * scale[lay][:, None, None]
        src = jnp.concatenate([rgb[lay][:, None, None, :] * a[..., None], a[..., None]], -1)
        out = src + out * (1.0 - a)[..., None]
        trans = trans * (1.0 - a)
    return out, trans


@pytest.mark.parametrize("K", [1, 5])
def test_solid_slots_and_gradients_match_the_reference(K):
    rng = np.random.default_rng(K)
    L, B, T = 6, 3, 4
    winding = jnp.asarray(rng.uniform(-2.2, 2.2, (K, B, T, T)), jnp.float32)
    slot_layer = jnp.asarray(rng.integers(0, L + 1, (K, B)), jnp.int32)       # L: an empty slot
    evenodd = jnp.asarray(rng.uniform(size=L) < 0.5)
    colour = jnp.asarray(rng.uniform(0.1, 1, (L, 4)), jnp.float32)
    alpha = jnp.asarray(rng.uniform(0.2, 1, L), jnp.float32)
    g_out = jnp.asarray(rng.normal(size=(B, T, T, 4)), jnp.float32)
    g_trans = jnp.asarray(rng.normal(size=(B, T, T)), jnp.float32)
    tiles = jnp.arange(B, dtype=jnp.int32)

    def loss(fn, w, c, a):
        aux, (rgb, scale, _) = slot_paint(evenodd, c, a, None, None)
        img, trans = fn(w, aux, rgb, scale)
        return jnp.sum(img * g_out) + jnp.sum(trans * g_trans)

    ours = lambda w, aux, rgb, scale: shade_slots(w, slot_layer, tiles, aux, (rgb, scale, None))
    ref = lambda w, aux, rgb, scale: reference(w, slot_layer, aux[0], rgb, scale)
    aux, (rgb, scale, _) = slot_paint(evenodd, colour, alpha, None, None)
    for got, want in zip(ours(winding, aux, rgb, scale), ref(winding, aux, rgb, scale)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)
    got = jax.grad(lambda *a: loss(ours, *a), argnums=(0, 1, 2))(winding, colour, alpha)
    want = jax.grad(lambda *a: loss(ref, *a), argnums=(0, 1, 2))(winding, colour, alpha)
    for name, g, w in zip(("winding", "colour", "alpha"), got, want):
        assert np.abs(np.asarray(w)).max() > 1e-2, name
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), atol=2e-5 * (1 + np.abs(np.asarray(w)).max()),
                                   err_msg=name)


def test_raster_paint_slots_and_gradients_match_the_reference():
    """Slots whose layers read a paint raster (gradients, patterns, images): colour and
    alpha per pixel (their own hand-written VJP)."""
    rng = np.random.default_rng(7)
    L, K, H, W = 5, 4, 16, 32                      # two 16 x 16 tiles
    B, T = 2, 16
    winding = jnp.asarray(rng.uniform(-2.2, 2.2, (K, B, T, T)), jnp.float32)
    slot_layer = jnp.asarray(rng.integers(0, L + 1, (K, B)), jnp.int32)
    evenodd = jnp.asarray(rng.uniform(size=L) < 0.5)
    colour = jnp.asarray(rng.uniform(0.1, 1, (L, 4)), jnp.float32)
    alpha = jnp.asarray(rng.uniform(0.2, 1, L), jnp.float32)
    images = jnp.asarray(rng.uniform(0, 1, (2, H, W, 4)), jnp.float32)
    image_index = jnp.asarray([0, 2, 1, 2, 0], jnp.int32)          # 2: a solid layer
    g_out = jnp.asarray(rng.normal(size=(B, T, T, 4)), jnp.float32)
    g_trans = jnp.asarray(rng.normal(size=(B, T, T)), jnp.float32)
    tiles = jnp.arange(B, dtype=jnp.int32)

    def ref(w, aux, params):
        (eo, index), (rgb, scale, tiled) = aux, params
        img = tiled[index[slot_layer], tiles[None, :]]                           # (K, B, T, T, 4)
        out = jnp.zeros((B, T, T, 4), w.dtype)
        trans = jnp.ones((B, T, T), w.dtype)
        for k in range(K):
            lay = slot_layer[k]
            cov = jnp.where(eo[lay][:, None, None], jnp.abs(w[k] - 2.0 * jnp.round(0.5 * w[k])),
                            jnp.minimum(jnp.abs(w[k]), 1.0))
            a = cov * scale[lay][:, None, None] * img[k, ..., 3]
            src = jnp.concatenate([rgb[lay][:, None, None, :] * img[k, ..., :3] * a[..., None], a[..., None]], -1)
            out = src + out * (1.0 - a)[..., None]
            trans = trans * (1.0 - a)
        return out, trans

    def loss(fn, w, c, a, im):
        aux, params = slot_paint(evenodd, c, a, image_index, im)
        img, trans = fn(w, aux, params)
        return jnp.sum(img * g_out) + jnp.sum(trans * g_trans)

    ours = lambda w, aux, params: shade_slots(w, slot_layer, tiles, aux, params)
    args = (winding, colour, alpha, images)
    aux, params = slot_paint(evenodd, colour, alpha, image_index, images)
    for got, want in zip(ours(winding, aux, params), ref(winding, aux, params)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), atol=1e-5)
    got = jax.grad(lambda *a: loss(ours, *a), argnums=(0, 1, 2, 3))(*args)
    want = jax.grad(lambda *a: loss(ref, *a), argnums=(0, 1, 2, 3))(*args)
    for name, g, w in zip(("winding", "colour", "alpha", "images"), got, want):
        assert np.abs(np.asarray(w)).max() > 1e-2, name
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), atol=2e-5 * (1 + np.abs(np.asarray(w)).max()),
                                   err_msg=name)
