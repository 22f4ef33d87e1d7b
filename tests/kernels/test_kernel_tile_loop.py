"""The dynamic-loop tiled compositor against the dense winding kernel composited densely.

``tiled_composite`` makes pieces ``piece_chunk`` at a time and composites each tile's
layers ``depth_chunk`` slots at a time, with trip counts computed in the program. Whatever
the chunk sizes (one piece chunk or many, one slot per chunk or every layer), the image and
its gradient must equal the dense reference: every layer's winding integral over the whole
canvas (``coverage.winding_integral``, itself tested against exact clipping) composited with
the closed form of "over". Gradients are compared through a random cotangent.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffvg_jax.kernels import fill_rule_coverage, tile_loop, tiled_composite, winding_integral
from diffvg_jax.kernels.tiles import untile

from test_kernel_tiles import H, W, edges_of, scene_polys


def shade(winding, slot_layer, tiles, aux, params):
    """Solid colours, the fill rule per layer: the contract ``tiled_composite`` documents."""
    evenodd = aux
    rgb, alpha = params
    eo = evenodd[slot_layer][..., None, None]
    cov = jnp.where(eo, fill_rule_coverage(winding, "evenodd"), fill_rule_coverage(winding, "nonzero"))
    a = cov * alpha[slot_layer][..., None, None]
    # Exclusive products from the top, bottom slot first: light reaching each slot.
    above = jnp.cumprod((1.0 - a)[::-1], axis=0)[::-1]
    trans = jnp.concatenate([above[1:], jnp.ones_like(above[:1])])
    w = a * trans
    colour = jnp.einsum("dtyx,dtc->tyxc", w, jnp.concatenate([rgb[slot_layer], jnp.ones_like(alpha[slot_layer])[..., None]], -1))
    return colour, above[0]


def paint(L, seed):
    rng = np.random.default_rng(seed)
    rgb = np.concatenate([rng.uniform(0, 1, (L, 3)), np.zeros((1, 3))]).astype(np.float32)
    alpha = np.concatenate([rng.uniform(0.3, 1.0, L), [0.0]]).astype(np.float32)
    alpha[5] = 1.0   # an opaque layer over most of the canvas: transmittance exactly 0 there
    return jnp.asarray(rgb), jnp.asarray(alpha)


def dense_image(edges, ids, evenodd, rgb, alpha, L):
    """float (H, W, 4) premultiplied: every layer over the whole canvas, bottom first."""
    a = winding_integral(edges, ids, num_layers=L, height=H, width=W, max_pieces=8192)
    cov = jnp.where(jnp.asarray(evenodd)[:, None, None], fill_rule_coverage(a, "evenodd"),
                    fill_rule_coverage(a, "nonzero"))
    out = jnp.zeros((H, W, 4))
    for k in range(L):
        ak = cov[k] * alpha[k]
        out = ak[..., None] * jnp.concatenate([rgb[k], jnp.ones(1)]) + (1.0 - ak[..., None]) * out
    return out


def loop_image(edges, ids, evenodd, rgb, alpha, L, piece_chunk, depth_chunk, tile_batch=None, piece_store=None):
    eo = jnp.concatenate([jnp.asarray(evenodd), jnp.zeros(1, bool)])
    tiles = tiled_composite(edges, ids, evenodd, eo, (rgb, alpha), shade, num_layers=L, height=H, width=W,
                            piece_chunk=piece_chunk, depth_chunk=depth_chunk, tile_batch=tile_batch,
                            piece_store=piece_store)
    return untile(tiles, H, W)


# (piece_chunk, depth_chunk, tile_batch, piece_store): one chunk of each, all 9 tiles in
# one batch; many piece chunks (one stored, the rest re-made), one tile per batch; one
# slot at a time in batches of 4 tiles (the last batch of each level part empty); chunks
# that do not divide the layers, every tile in each batch (tiles with fewer chunks than
# the deepest get empty slots), two stored piece chunks and more re-made.
CHUNKS = [(4096, 8, None, None), (97, 8, 1, None), (4096, 1, 4, None), (128, 3, None, 200)]


@pytest.mark.parametrize("chunks", CHUNKS)
@pytest.mark.parametrize("seed", [0, 1])
def test_image_equals_the_dense_composite_whatever_the_chunks(seed, chunks):
    polys, L = scene_polys(seed)
    edges, ids = edges_of(polys)
    evenodd = np.arange(L) % 2 == 1
    rgb, alpha = paint(L, seed)
    want = np.asarray(dense_image(edges, ids, evenodd, rgb, alpha, L))
    got = np.asarray(loop_image(edges, ids, evenodd, rgb, alpha, L, *chunks))
    np.testing.assert_allclose(got, want, atol=3e-6)
    assert want[..., 3].max() > 0.99   # the scene is not empty


@pytest.mark.parametrize("chunks", CHUNKS)
def test_gradients_equal_the_dense_composites(chunks):
    check_gradients(chunks)


@pytest.mark.parametrize("chunks", [CHUNKS[1], CHUNKS[2]])
def test_grids_past_the_slot_code_limit_look_the_deltas_up_per_batch(chunks, monkeypatch):
    """Pass 1 records each stored delta's batch and cell as one int32 code where that fits;
    past the limit (huge grids) every batch looks the deltas up again: same image and
    gradients. Both settings cut levels into several batches."""
    monkeypatch.setattr(tile_loop, "SLOT_CODE_LIMIT", 0)
    polys, L = scene_polys(1)
    edges, ids = edges_of(polys)
    evenodd = np.arange(L) % 2 == 1
    rgb, alpha = paint(L, 1)
    want = np.asarray(dense_image(edges, ids, evenodd, rgb, alpha, L))
    np.testing.assert_allclose(np.asarray(loop_image(edges, ids, evenodd, rgb, alpha, L, *chunks)), want, atol=3e-6)
    check_gradients(chunks)


def check_gradients(chunks):
    """jax.grad of a weighted image sum through the loop kernel (jitted) against the dense
    reference, in the vertices, colours and opacities."""
    polys, L = scene_polys(4)
    sizes = [len(p) for _, p in polys]
    verts = jnp.asarray(np.concatenate([p for _, p in polys]), jnp.float32)
    _, ids = edges_of(polys)
    evenodd = np.arange(L) % 3 == 0
    rgb, alpha = paint(L, 4)
    weights = jnp.asarray(np.random.default_rng(0).normal(size=(H, W, 4)), jnp.float32)

    def edges_from(v):
        parts = jnp.split(v, np.cumsum(sizes)[:-1])
        return jnp.concatenate([jnp.stack([p, jnp.roll(p, -1, axis=0)], axis=1) for p in parts])

    def loss(image_fn, v, rgb, alpha):
        return jnp.sum(image_fn(edges_from(v), rgb, alpha) * weights)

    dense = jax.grad(lambda *a: loss(lambda e, c, o: dense_image(e, ids, evenodd, c, o, L), *a), argnums=(0, 1, 2))
    loop = jax.jit(jax.grad(lambda *a: loss(lambda e, c, o: loop_image(e, ids, evenodd, c, o, L, *chunks), *a),
                            argnums=(0, 1, 2)))
    for want, got in zip(dense(verts, rgb, alpha), loop(verts, rgb, alpha)):
        want, got = np.asarray(want)[:L], np.asarray(got)[:L]
        assert np.abs(want).max() > 1e-2
        np.testing.assert_allclose(got, want, atol=3e-5 * np.abs(want).max())


def test_batched_scenes_of_different_depth_and_pieces():
    """Under vmap the loops run to the largest trip count; finished scenes must not change."""
    scenes = []
    for seed in (0, 5):
        polys, L = scene_polys(seed)
        scenes.append(edges_of(polys[: 3 + 5 * seed // 5]))
    n = max(len(e) for e, _ in scenes)
    pad = lambda x, fill: np.concatenate([x, np.full((n - len(x),) + x.shape[1:], fill, x.dtype)])
    edges = np.stack([pad(e, 0.0) for e, _ in scenes])
    ids = np.stack([pad(i, 0) for _, i in scenes])
    L = 8
    evenodd = np.zeros(L, bool)
    rgb, alpha = paint(L, 1)
    batched = jax.vmap(lambda e, i: loop_image(e, i, evenodd, rgb, alpha, L, 64, 2))(edges, ids)
    for b in range(2):
        want = dense_image(edges[b], ids[b], evenodd, rgb, alpha, L)
        # 1e-5: float32 sums of +-1 covers leave ~1e-6 residues that differ with rounding
        # (LLVM -O0 vs -O2); a piece of one scene leaking into the other would be >= 1e-3.
        np.testing.assert_allclose(np.asarray(batched[b]), np.asarray(want), atol=1e-5)


def test_bad_chunks_are_named():
    edges, ids = edges_of([(0, np.array([[1.0, 1.0], [5.0, 1.0], [3.0, 4.0]]))])
    for name in ("piece_chunk", "depth_chunk", "tile_batch"):
        kw = dict(piece_chunk=64, depth_chunk=1)
        kw[name] = 0
        with pytest.raises(ValueError, match=name):
            tiled_composite(edges, ids, np.zeros(1, bool), np.zeros(2, bool), None, shade, num_layers=1, height=8,
                            width=8, **kw)
