"""The unit-piece math on its own: a piece's deltas carry exactly its cover (its signed height),
even when its coordinates round to an ulp outside the 2 x 2 window its footprint gives; and
the search that finds each piece's sub-edge."""
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from diffvg_jax.kernels.pieces import TIE_BREAK, count_at_most, piece_deltas, piece_footprint, piece_owners


def _pieces_near_grid_lines():
    """Unit pieces (float32 (P, 2, 2) pixels) with an endpoint within a few ulps of a grid line,
    at coordinates up to 4096 px (where an ulp exceeds TIE_BREAK): vertical, horizontal-ish
    and diagonal."""
    rng = np.random.default_rng(0)
    out = []
    for base in (3.0, 270.0, 1023.0, 4095.0):
        for k in range(-3, 4):
            x0 = np.float32(base) - TIE_BREAK[0]   # the footprint's floor sits on x0 + TIE_BREAK
            y0 = np.float32(base) - TIE_BREAK[1]
            for _ in range(k if k > 0 else -k):
                x0 = np.nextafter(x0, np.float32(np.sign(k) * np.inf), dtype=np.float32)
                y0 = np.nextafter(y0, np.float32(np.sign(k) * np.inf), dtype=np.float32)
            for dx, dy in ((0.0, 0.9), (0.0, -0.7), (0.6, 0.8), (-0.5, 0.95), (0.95, 0.02), (0.3, -1.0)):
                jitter = rng.uniform(-1e-3, 1e-3)
                out.append([[x0, y0], [x0 + dx + jitter, y0 + dy]])
                out.append([[x0 + dx + jitter, y0 + dy], [x0, y0]])
    return np.asarray(out, np.float32)


def test_deltas_keep_the_cover_of_pieces_on_their_footprint():
    pieces = jnp.asarray(_pieces_near_grid_lines())
    r0, c0 = piece_footprint(pieces)
    deltas = np.asarray(piece_deltas(pieces, r0, c0), np.float64)
    cover = np.asarray(pieces[:, 1, 1] - pieces[:, 0, 1], np.float64)
    np.testing.assert_allclose(deltas.sum(axis=(1, 2)), cover, atol=1e-4)


def test_deltas_keep_the_cover_when_the_footprint_is_an_ulp_off():
    """The footprint is a floor, and an endpoint within an ulp of a grid line floors either
    way depending on rounding: placed one cell over, a piece lies an ulp outside its window.
    One column over, a steep piece must keep its whole cover (else its row never cancels: a
    streak); one row over, it may lose what lies outside, an ulp's worth."""
    pieces = jnp.asarray(_pieces_near_grid_lines())
    r0, c0 = (np.asarray(x) for x in piece_footprint(pieces))
    cover = np.asarray(pieces[:, 1, 1] - pieces[:, 0, 1], np.float64)
    lo = np.asarray(jnp.min(pieces, axis=1)) + TIE_BREAK
    ulp = np.spacing(np.abs(np.asarray(pieces)).max(axis=(1, 2)))   # float32 spacing at the piece
    for dr, dc, tol in ((0, 1, 1e-5), (1, 0, 4 * ulp), (1, 1, 4 * ulp)):
        # Only where the shift is an ulp-level disagreement: the piece's low corner within
        # 4 ulps of the shifted window's low edge.
        near = np.ones(len(cover), bool)
        if dr:
            near &= np.abs(lo[:, 1] - (r0 + dr)) < 4 * ulp
        if dc:
            near &= np.abs(lo[:, 0] - (c0 + dc)) < 4 * ulp
        assert near.sum() >= 10, (dr, dc)
        deltas = np.asarray(piece_deltas(pieces, jnp.asarray(r0 + dr), jnp.asarray(c0 + dc)), np.float64)
        err = np.abs(deltas.sum(axis=(1, 2)) - cover)[near]
        assert np.all(err <= np.broadcast_to(tol, cover.shape)[near] + 1e-6), (dr, dc, err.max())


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(0, 4), min_size=1, max_size=300), data=st.data())
def test_piece_owners_match_a_sorted_search(counts, data):
    """The written-out binary search against NumPy's: each piece's sub-edge for cumulative
    counts with empty sub-edges (repeated ends), any table length (not only powers of two),
    pieces before, inside and past the table."""
    ends = np.cumsum(np.asarray(counts, np.int32)).astype(np.int32)
    start = data.draw(st.integers(0, int(ends[-1]) + 3))
    n = data.draw(st.integers(1, 40))
    got = np.asarray(piece_owners(jnp.asarray(ends), jnp.int32(start), n))
    slots = start + np.arange(n)
    np.testing.assert_array_equal(got, np.minimum(np.searchsorted(ends, slots, side="right"), len(ends) - 1))
    x = np.asarray(data.draw(st.lists(st.integers(-3, int(ends[-1]) + 3), min_size=1, max_size=20)), np.int32)
    np.testing.assert_array_equal(np.asarray(count_at_most(jnp.asarray(ends), jnp.asarray(x))),
                                  np.searchsorted(ends, x, side="right"))
