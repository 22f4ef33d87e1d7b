"""The coverage-kernel implementations, as one fixture the shared suite runs against.

Each implementation is wrapped as an adapter with the dense reference's signature, returning
float (num_layers, height, width) winding integrals: the tiled kernel's slots are scattered
back to layers and untiled (differentiably, so gradients are compared too). With every layer
under the nonzero rule a tile holds every layer whose winding there is not zero, so the
untiled result is the whole dense winding.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffvg_jax.kernels import tiled_winding, winding_integral
from diffvg_jax.kernels.tiles import TILE, tile_grid, untile


class DenseKernel:
    """The pure-XLA reference, ``kernels.coverage.winding_integral``."""
    name = "dense"

    def winding(self, edges, layer_ids, *, num_layers, height, width, max_pieces):
        return winding_integral(edges, layer_ids, num_layers=num_layers, height=height, width=width,
                                max_pieces=max_pieces)


class TiledKernel:
    """``kernels.tiles.tiled_winding`` with every layer kept in every tile, untiled."""
    name = "tiled"

    def winding(self, edges, layer_ids, *, num_layers, height, width, max_pieces):
        evenodd = np.zeros(num_layers, bool)
        w, slot_layer, _, _ = tiled_winding(edges, layer_ids, evenodd, num_layers=num_layers, height=height,
                                            width=width, max_pieces=max_pieces, max_depth=num_layers)
        nty, ntx = tile_grid(height, width, TILE)
        tiles = jnp.zeros((num_layers + 1, nty * ntx, TILE, TILE), w.dtype)
        tiles = tiles.at[slot_layer, jnp.arange(nty * ntx)[None, :]].set(w)   # empty slots -> extra layer
        return jnp.stack([untile(tiles[i], height, width) for i in range(num_layers)])


IMPLEMENTATIONS = {"dense": DenseKernel(), "tiled": TiledKernel()}


@pytest.fixture(scope="module", params=sorted(IMPLEMENTATIONS))
def implementation(request):
    """Each coverage kernel in turn, behind the dense reference's signature."""
    yield IMPLEMENTATIONS[request.param]
    jax.clear_caches()
