"""The tiled winding kernel against the dense one (itself tested against exact clipping).

Every (layer, tile) pair with coverage must be a slot, in layer order, holding exactly the
dense winding integral; pairs without one must have zero coverage in the dense result.
Gradients are compared through the same random cotangent.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffvg_jax.kernels import fill_rule_coverage, winding_integral
from diffvg_jax.kernels.tiles import depth_needed, tile_grid, tiled_winding, untile

H, W, TILE = 37, 45, 16  # not whole tiles: 3 x 3 tiles, the last ones partly off the canvas


def polygon(centre, radius, n, rng, reverse=False):
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = radius * rng.uniform(0.6, 1.0, n)
    pts = np.stack([centre[0] + rad * np.cos(ang), centre[1] + rad * np.sin(ang)], 1)
    return pts[::-1] if reverse else pts


def edges_of(polys):
    edges, ids = [], []
    for layer, pts in polys:
        edges.append(np.stack([pts, np.roll(pts, -1, axis=0)], axis=1))
        ids.append(np.full(len(pts), layer, np.int32))
    return np.concatenate(edges).astype(np.float32), np.concatenate(ids)


def scene_polys(seed):
    """Layers of small and large polygons: some span several tiles (full interior tiles),
    one pokes out left of the canvas (its cover enters through the backdrop), one layer has
    two overlapping contours (winding 2 inside: inside for nonzero, outside for even-odd)."""
    rng = np.random.default_rng(seed)
    polys = []
    for layer in range(5):
        polys.append((layer, polygon(rng.uniform([0, 0], [W, H]), rng.uniform(3, 8), 7, rng)))
    polys.append((5, polygon((20.0, 18.0), 40.0, 12, rng)))                 # covers most tiles
    polys.append((6, polygon((-6.0, 20.0), 14.0, 9, rng, reverse=True)))    # left of the canvas
    polys.append((7, polygon((22.0, 20.0), 19.0, 10, rng)))
    polys.append((7, polygon((23.0, 19.0), 18.0, 10, rng)))                 # winding 2 inside
    return polys, 8


def dense_from_slots(winding, slot_layer, num_layers):
    """(L, H, W) from the slots (NaN where a layer has no slot in a tile)."""
    d, nt = slot_layer.shape
    tiles = np.full((num_layers, nt, TILE, TILE), np.nan)
    w = np.asarray(winding)
    for k in range(d):
        for t in range(nt):
            layer = int(slot_layer[k, t])
            if layer < num_layers:
                tiles[layer, t] = w[k, t]
    return np.stack([np.asarray(untile(jnp.asarray(tiles[i]), H, W)) for i in range(num_layers)])


@pytest.mark.parametrize("rule", ["nonzero", "evenodd"])
@pytest.mark.parametrize("seed", [0, 1])
def test_slots_hold_the_dense_winding_and_nothing_is_missed(seed, rule):
    polys, L = scene_polys(seed)
    edges, ids = edges_of(polys)
    evenodd = np.full(L, rule == "evenodd")
    dense = np.asarray(winding_integral(edges, ids, num_layers=L, height=H, width=W, max_pieces=4096))
    winding, slot_layer, need, pieces = tiled_winding(edges, ids, evenodd, num_layers=L, height=H, width=W,
                                                      max_pieces=4096, max_depth=L)
    slot_layer = np.asarray(slot_layer)
    assert int(pieces) <= 4096
    got = dense_from_slots(winding, slot_layer, L)
    have = ~np.isnan(got)
    np.testing.assert_allclose(got[have], dense[have], atol=2e-5)
    # Where a layer has no slot its coverage must be zero.
    cov = np.asarray(fill_rule_coverage(jnp.asarray(dense), rule))
    assert np.all(cov[~have] < 1e-5), np.max(cov[~have])
    # Layers are in increasing order within each tile, empty slots (L) at the end.
    for t in range(slot_layer.shape[1]):
        used = slot_layer[:, t][slot_layer[:, t] < L]
        assert np.all(np.diff(used) > 0)
        assert int(need[t]) == len(used)
    # The full-coverage path is exercised: some tile holds layer 5 without any boundary.
    assert np.any(np.isclose(np.abs(got[5]), 1.0, atol=1e-5))


def test_depth_budget_keeps_the_lowest_layers_and_reports_the_need():
    polys, L = scene_polys(3)
    edges, ids = edges_of(polys)
    evenodd = np.zeros(L, bool)
    full = tiled_winding(edges, ids, evenodd, num_layers=L, height=H, width=W, max_pieces=4096, max_depth=L)
    need = np.asarray(full[2])
    assert int(depth_needed(edges, ids, evenodd, num_layers=L, height=H, width=W, max_pieces=4096)) == need.max()
    small = tiled_winding(edges, ids, evenodd, num_layers=L, height=H, width=W, max_pieces=4096, max_depth=2)
    np.testing.assert_array_equal(np.asarray(small[2]), need)
    np.testing.assert_array_equal(np.asarray(small[1]), np.asarray(full[1])[:2])
    np.testing.assert_allclose(np.asarray(small[0]), np.asarray(full[0])[:2], atol=1e-6)


def test_vjp_equals_the_dense_kernels_vjp():
    polys, L = scene_polys(4)
    sizes = [len(p) for _, p in polys]
    verts = jnp.asarray(np.concatenate([p for _, p in polys]), jnp.float32)
    _, ids = edges_of(polys)
    evenodd = np.zeros(L, bool)
    weights = jnp.asarray(np.random.default_rng(0).normal(size=(L, H, W)), jnp.float32)

    def edges_from(v):
        # Gradients are taken w.r.t. the vertices: contours stay closed, as in the renderer.
        parts = jnp.split(v, np.cumsum(sizes)[:-1])
        return jnp.concatenate([jnp.stack([p, jnp.roll(p, -1, axis=0)], axis=1) for p in parts])

    def dense_loss(v):
        a = winding_integral(edges_from(v), ids, num_layers=L, height=H, width=W, max_pieces=4096)
        return jnp.sum(jnp.sin(a) * weights)

    def tiled_loss(v):
        w, slot_layer, _, _ = tiled_winding(edges_from(v), ids, evenodd, num_layers=L, height=H, width=W,
                                            max_pieces=4096, max_depth=L)
        # Scatter the slots back to (L, NT, T, T); empty slots go to an extra layer.
        nty, ntx = tile_grid(H, W, TILE)
        tiles = jnp.zeros((L + 1, nty * ntx, TILE, TILE)).at[slot_layer, jnp.arange(nty * ntx)[None, :]].set(w)
        a = jnp.stack([untile(tiles[i], H, W) for i in range(L)])
        return jnp.sum(jnp.sin(a) * weights)

    g_dense = np.asarray(jax.grad(dense_loss)(verts))
    g_tiled = np.asarray(jax.grad(tiled_loss)(verts))
    np.testing.assert_allclose(g_tiled, g_dense, atol=2e-5 * np.abs(g_dense).max())
    assert np.abs(g_dense).max() > 0.1


def test_bad_arguments_name_themselves():
    edges, ids = edges_of([(0, np.array([[1.0, 1.0], [5.0, 1.0], [3.0, 4.0]]))])
    with pytest.raises(ValueError, match="max_depth"):
        tiled_winding(edges, ids, np.zeros(1, bool), num_layers=1, height=8, width=8, max_pieces=64, max_depth=0)
    with pytest.raises(ValueError, match="evenodd"):
        tiled_winding(edges, ids, np.zeros(2, bool), num_layers=1, height=8, width=8, max_pieces=64, max_depth=1)
