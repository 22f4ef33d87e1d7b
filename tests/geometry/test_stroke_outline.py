"""diffvg_jax.geometry.stroke.stroke_outline against an exact point-in-stroke oracle (tests/support/stroke_oracle.py).

The outline is filled with the nonzero rule, so the checks are on winding numbers of the
returned edges at sample points: >= 1 exactly where the oracle says "inside", 0 elsewhere,
never of the wrong sign; winding 2 must not reach the boundary of a smooth stroke; exact
shoelace areas; finite values and gradients on degenerate input.

Compile time dominates on CPU, so every test reuses a few jitted, vmapped outline
functions (one per static configuration) and batches its polylines through them.
"""
import functools
import math
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.stroke_oracle import StrokeRegion, sample_grid, signed_area, winding_numbers  # noqa: E402

from diffvg_jax.geometry.stroke import num_edges, stroke_outline  # noqa: E402

JOINS = ("miter", "bevel", "round")
CAPS = ("butt", "square", "round")
MITER_LIMIT = 4.0
K = 8  # round_points

# Open polylines: 7 vertices; vertex 2 and 5 are flattening vertices (joint_mask False).
OPEN_MASK = (True, True, False, True, True, False, True)
OPEN_CASES = {
    # sharp turns (~145, ~150 degrees), a zero-length piece, a flattening vertex turning 180
    "zigzag": ([[3, 3], [18, 4], [9, 10], [9, 10], [22, 16], [4, 17.5], [20, 18]],
               [0.6, 1.0, 1.5, 1.5, 2.2, 1.2, 0.8]),
    # exact reversal at a joint, a zero-length piece after it, a near reversal, a big turn
    # at a flattening vertex
    "reversal": ([[4, 4], [16, 4], [6, 4], [6, 4], [10, 12], [10.5, 3], [20, 10]],
                 [1.0, 1.4, 1.4, 1.4, 0.9, 2.0, 1.0]),
    # short pieces against a wide stroke (loops through the centre), 90-degree turns
    "short": ([[6, 6], [12, 6], [12, 7], [11, 7], [11, 14], [4, 14], [4, 13]],
              [2.0, 2.0, 2.5, 2.5, 1.0, 1.5, 1.5]),
    # a straight segment (L = 12) cut into pieces, with duplicates: exact areas
    "straight": ([[2, 5], [5, 5], [5, 5], [9, 5], [12, 5], [12, 5], [14, 5]], [1.5] * 7),
}
# Closed polylines: 5 vertices, the last equals the first.
CLOSED_MASK = (True,) * 5
CLOSED_CASES = {
    # side 2, half width 1.2 > inradius: the inner offset polygon is inverted
    "thick_square": ([[10, 10], [12, 10], [12, 12], [10, 12], [10, 10]], [1.2] * 5),
    "ring": ([[2, 2], [12, 2], [12, 12], [2, 12], [2, 2]], [1.5] * 5),             # area test
    "ring_cw": ([[2, 2], [2, 12], [12, 12], [12, 2], [2, 2]], [1.5] * 5),
    "concave": ([[2, 2], [14, 3], [8, 7], [3, 14], [2, 2]], [0.8, 1.6, 0.5, 1.2, 0.8]),
    # triangle with an explicit segment back to the start: zero-length closing segment
    "triangle_dup": ([[4, 4], [20, 6], [8, 18], [4, 4], [4, 4]], [1.0, 2.0, 3.0, 1.0, 1.0]),
}


@functools.lru_cache(maxsize=None)
def outline_fn(closed, mask, join, cap, round_points=K):
    """Jitted outline of one polyline (V, 2), widths (V,) for one static config."""
    f = functools.partial(stroke_outline, closed=closed, joint_mask=np.array(mask), join=join, cap=cap,
                          miter_limit=MITER_LIMIT, round_points=round_points)
    return jax.jit(f)


def outlines(cases, closed, mask, join, cap):
    """Outlines (B, E, 2, 2) of polylines [(vertices, half_widths), ...] sharing V."""
    f = outline_fn(closed, tuple(mask), join, cap)
    return np.stack([np.asarray(f(np.asarray(v, np.float32), np.asarray(w, np.float32))) for v, w in cases])


def check_against_oracle(edges, vertices, widths, *, closed, mask, join, cap, n=90, label="", nonempty=True):
    """Winding >= 1 exactly on the oracle's stroke region (away from its boundary), 0 outside,
    never negative. Returns the winding numbers and the oracle's (inside, skip)."""
    v = np.asarray(vertices, np.float64)
    reg = StrokeRegion(v, widths, closed=closed, joint_mask=mask, join=join, cap=cap,
                       miter_limit=MITER_LIMIT, round_points=K)
    margin = max(widths) + 1.0
    pts = sample_grid(v.min(0) - margin, v.max(0) + margin, n)
    inside, skip = reg.classify(pts)
    wn = winding_numbers(edges, pts)
    assert np.all(np.isfinite(edges)), label
    assert not np.any(wn < 0), f"{label}: reversed loop (negative winding) at {pts[wn < 0][:5]}"
    holes = inside & ~skip & (wn < 1)
    spill = ~inside & ~skip & (wn != 0)
    assert not holes.any(), f"{label}: winding 0 inside the stroke at {pts[holes][:5]}"
    assert not spill.any(), f"{label}: winding {wn[spill][:5]} outside the stroke at {pts[spill][:5]}"
    if nonempty:
        assert inside.sum() > 50, label  # the grid really samples the stroke
    return pts, wn, inside, skip


# ----------------------------------------------------------------------------------------
# Region checks
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("join", JOINS)
@pytest.mark.parametrize("cap", CAPS)
def test_open_outline_matches_oracle(join, cap):
    cases = list(OPEN_CASES.values())
    edges = outlines(cases, False, OPEN_MASK, join, cap)
    assert edges.shape[1] == num_edges(7, closed=False, joint_mask=OPEN_MASK, join=join, cap=cap, round_points=K)
    for (name, (v, w)), e in zip(OPEN_CASES.items(), edges):
        check_against_oracle(e, v, w, closed=False, mask=OPEN_MASK, join=join, cap=cap, label=f"{name}/{join}/{cap}")


@pytest.mark.parametrize("join", JOINS)
def test_closed_outline_matches_oracle(join):
    cases = list(CLOSED_CASES.values())
    edges = outlines(cases, True, CLOSED_MASK, join, "butt")
    assert edges.shape[1] == num_edges(5, closed=True, joint_mask=CLOSED_MASK, join=join, cap="butt", round_points=K)
    for (name, (v, w)), e in zip(CLOSED_CASES.items(), edges):
        pts, wn, inside, skip = check_against_oracle(e, v, w, closed=True, mask=CLOSED_MASK, join=join, cap="butt",
                                                     label=f"{name}/{join}")
        if name == "ring":
            # the hole of the ring is really empty and the ring itself covered once
            assert np.all(wn[np.all(np.abs(pts - 7.0) < 3.4, axis=1)] == 0)
            assert np.all(wn[inside & ~skip] == 1)


@st.composite
def random_polyline(draw):
    closed = draw(st.booleans())
    V = 5 if closed else 7
    coords = draw(st.lists(st.tuples(st.floats(0, 16), st.floats(0, 16)), min_size=V, max_size=V))
    v = np.array(coords, np.float64)
    if draw(st.booleans()):  # a repeated vertex
        i = draw(st.integers(1, V - 2))
        v[i] = v[i - 1]
    if closed:
        v[-1] = v[0]
    w = np.array(draw(st.lists(st.floats(0.2, 3.0), min_size=V, max_size=V)))
    if closed:
        w[-1] = w[0]
    join = draw(st.sampled_from(JOINS))
    cap = "butt" if closed else draw(st.sampled_from(CAPS))
    return v, w, closed, join, cap


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(random_polyline())
def test_random_polylines_match_oracle(case):
    v, w, closed, join, cap = case
    mask = CLOSED_MASK if closed else OPEN_MASK
    v32 = v.astype(np.float32)
    e = outlines([(v32, w.astype(np.float32))], closed, mask, join, cap)[0]
    # the oracle sees the float32 input the stroker saw
    check_against_oracle(e, v32.astype(np.float64), w.astype(np.float32).astype(np.float64), closed=closed,
                         mask=mask, join=join, cap=cap, n=70, label=f"{v.tolist()} {w.tolist()} {join} {cap}",
                         nonempty=False)


# ----------------------------------------------------------------------------------------
# Smooth curves: winding 2 must stay away from the boundary
# ----------------------------------------------------------------------------------------

ARC_PIECES = 96
ARC_SPAN = 1.5 * math.pi
ARC_R = 8.0


def test_smooth_arc_has_no_winding_two_at_the_boundary():
    """A finely flattened 270-degree arc (all flattening vertices), width 3 and a width growing
    from 1 to 3.2 (which exercises the inner routes along widening edges): inside the
    oracle's stroke the winding is exactly 1, and near the boundary no sample sees 2."""
    ang = np.linspace(0.0, ARC_SPAN, ARC_PIECES + 1)
    v = np.stack([16 + ARC_R * np.cos(ang), 16 + ARC_R * np.sin(ang)], 1).astype(np.float32)
    mask = (False,) * (ARC_PIECES + 1)
    widths = [np.full(ARC_PIECES + 1, 1.5, np.float32), np.linspace(0.5, 1.6, ARC_PIECES + 1).astype(np.float32),
              np.linspace(1.6, 0.5, ARC_PIECES + 1).astype(np.float32)]
    edges = outlines([(v, w) for w in widths], False, mask, "miter", "butt")
    for w, e in zip(widths, edges):
        pts, wn, inside, skip = check_against_oracle(e, v, w, closed=False, mask=mask, join="miter", cap="butt",
                                                     n=140, label="arc")
        # distance to the outer / inner boundary circles, in the angular range of the arc
        d = pts - 16.0
        r = np.hypot(d[:, 0], d[:, 1])
        a = np.mod(np.arctan2(d[:, 1], d[:, 0]), 2 * np.pi)
        in_span = (a > 0.05) & (a < ARC_SPAN - 0.05)
        half = np.interp(a, ang, w)
        near = in_span & ((np.abs(r - (ARC_R + half)) < 0.5) | (np.abs(r - (ARC_R - half)) < 0.5))
        assert near.sum() > 1000
        assert np.all(wn[near & inside] == 1), f"winding 2 at the boundary at {pts[near & inside & (wn > 1)][:5]}"
        # and nowhere else either: the outline of a smooth stroke is simple
        assert np.all(wn[inside & ~skip] == 1)


# ----------------------------------------------------------------------------------------
# Exact areas (shoelace = integral of the winding number)
# ----------------------------------------------------------------------------------------


def polygon_half_disc(w, k):
    """Area of the stroker's half disc: k points inside the arc, k + 1 chords over 180 degrees."""
    return 0.5 * (k + 1) * w * w * math.sin(math.pi / (k + 1))


@pytest.mark.parametrize("cap", CAPS)
def test_straight_segment_area(cap):
    v, w = OPEN_CASES["straight"]
    e = outlines([(v, w)], False, OPEN_MASK, "miter", cap)[0]
    L, hw = 12.0, 1.5
    exact = {"butt": 2 * hw * L, "square": 2 * hw * (L + 2 * hw), "round": 2 * hw * L + math.pi * hw * hw}[cap]
    polygonal = 2 * hw * L + 2 * polygon_half_disc(hw, K) if cap == "round" else exact
    assert signed_area(e) == pytest.approx(polygonal, rel=1e-5)
    # the chord error of the round caps: 1 - sin(x)/x of the circle's area, x = pi / (K + 1)
    x = math.pi / (K + 1)
    assert abs(signed_area(e) - exact) <= math.pi * hw * hw * (1 - math.sin(x) / x) * 1.01 + 1e-4


@pytest.mark.parametrize("join", JOINS)
def test_square_ring_area(join):
    cases = [CLOSED_CASES["ring"], CLOSED_CASES["ring_cw"]]
    edges = outlines(cases, True, CLOSED_MASK, join, "butt")
    a, hw = 10.0, 1.5
    full = (a + 2 * hw) ** 2 - (a - 2 * hw) ** 2
    step = (math.pi / 2) / (K + 1)
    corner = {"miter": hw * hw, "bevel": hw * hw / 2,
              "round": 0.5 * (K + 1) * hw * hw * math.sin(step)}[join]   # polygonal quarter disc
    expected = full - 4 * hw * hw + 4 * corner
    for e in edges:
        assert signed_area(e) == pytest.approx(expected, rel=1e-5)
    if join == "round":
        assert expected == pytest.approx(full - 4 * hw * hw * (1 - math.pi / 4), rel=2e-3)


def _signed_area(e):
    return 0.5 * jnp.sum(e[:, 0, 0] * e[:, 1, 1] - e[:, 1, 0] * e[:, 0, 1])


@functools.lru_cache(maxsize=None)
def grads_fn(join, cap):
    """Jitted (d area / d(v, w), d smooth loss / d(v, w)) of one open 7-vertex polyline."""
    f = outline_fn(False, OPEN_MASK, join, cap)

    def loss(v, w):
        e = f(v, w)
        centred = e - jax.lax.stop_gradient(v[0])  # keep the huge-coordinate case O(1)
        return jnp.sum(centred ** 2) + jnp.sum(jnp.sin(e))

    return jax.jit(lambda v, w: (jax.grad(lambda a, b: _signed_area(f(a, b)), argnums=(0, 1))(v, w),
                                 jax.grad(loss, argnums=(0, 1))(v, w)))


def test_area_gradient_matches_exact_derivative():
    """Square caps on a straight polyline: area = sum_k L_k (w_k + w_{k+1}) + 2 w_0^2 + 2 w_6^2,
    so d area / d w_k is the sum of the adjacent piece lengths (+ 4 w at the ends), and
    d area / d L_k = w_k + w_{k+1}."""
    v, _ = OPEN_CASES["straight"]
    v = np.asarray(v, np.float32)
    w = np.array([1.0, 1.5, 1.2, 0.7, 2.0, 1.1, 0.9], np.float32)
    (gv, gw), _ = grads_fn("miter", "square")(v, w)
    L = np.hypot(*np.diff(v, axis=0).T)
    expected = np.concatenate([L, [0.0]]) + np.concatenate([[0.0], L])
    expected[0] += 4 * w[0]
    expected[-1] += 4 * w[-1]
    np.testing.assert_allclose(np.asarray(gw), expected, atol=1e-4)
    # d area / d L_k = w_k + w_{k+1}; the caps only move along
    assert float(gv[-1, 0]) == pytest.approx(w[-2] + w[-1], abs=1e-4)
    assert float(gv[0, 0]) == pytest.approx(-(w[0] + w[1]), abs=1e-4)


# ----------------------------------------------------------------------------------------
# Degenerate input: finite values and gradients, dots for zero-length subpaths
# ----------------------------------------------------------------------------------------

DEGENERATE = {
    "all_equal": ([[5, 5]] * 7, [1.0] * 7),
    "repeats": ([[1, 1], [1, 1], [4, 2], [4, 2], [4, 2], [7, 7], [7, 7]], [1.0, 0.5, 0.5, 1.0, 2.0, 1.0, 1.0]),
    "zero_width": ([[3, 3], [18, 4], [9, 10], [9, 10], [22, 16], [4, 17.5], [20, 18]], [0.0] * 7),
    "reversal": ([[0, 0], [10, 0], [0, 0], [10, 0], [10, 0], [0, 0], [5, 0]], [1.0] * 7),
    "huge": ([[1e6, 1e6], [1e6 + 3, 1e6], [1e6 + 3, 1e6], [1e6, 1e6 + 1], [1e6 + 3, 1e6 + 3], [1e6, 1e6], [1e6, 1e6]],
             [1.0] * 7),
    "tiny_pieces": ([[0, 0], [1e-7, 0], [1e-5, 1e-6], [1, 0], [1, 1e-7], [2, 0], [2, 0]], [0.5] * 7),
}


@pytest.mark.parametrize("join,cap", [("round", "round"), ("miter", "square")])
def test_degenerate_input_gives_finite_values_and_gradients(join, cap):
    f = outline_fn(False, OPEN_MASK, join, cap)
    g = grads_fn(join, cap)
    for name, (v, w) in DEGENERATE.items():
        v, w = np.asarray(v, np.float32), np.asarray(w, np.float32)
        edges = np.asarray(f(v, w))
        assert np.all(np.isfinite(edges)), name
        for grad in jax.tree_util.tree_leaves(g(v, w)):
            assert np.all(np.isfinite(np.asarray(grad))), name
        if name == "all_equal":
            # a zero-length subpath: round caps draw the (polygonal) disc, square caps the
            # axis-aligned square (SVG: direction +x)
            expected = {"round": 2 * polygon_half_disc(1.0, K), "square": 4.0}[cap]
            assert signed_area(edges) == pytest.approx(expected, abs=1e-5)
            if cap == "square":
                assert np.allclose([edges[..., 0].min(), edges[..., 0].max(), edges[..., 1].min(),
                                    edges[..., 1].max()], [4.0, 6.0, 4.0, 6.0], atol=1e-6)
            else:
                assert np.allclose(np.hypot(*(edges.reshape(-1, 2) - 5.0).T), 1.0, atol=1e-6)
        if name == "zero_width":  # everything collapses onto the centre line
            assert signed_area(edges) == pytest.approx(0.0, abs=1e-4)
        if name == "reversal":  # back and forth over [0, 10]: the stroke is one rectangle + caps
            cap_area = {"round": 2 * polygon_half_disc(1.0, K), "square": 4.0}[cap]
            assert np.all(winding_numbers(edges, np.array([[0.5, 0.5], [9.5, -0.5], [5.0, 0.9]])) >= 1)
            assert np.all(winding_numbers(edges, np.array([[5.0, 1.1], [5.0, -1.1]])) == 0)
            assert signed_area(edges) > 20.0 + cap_area - 1e-3


@pytest.mark.parametrize("cap", CAPS)
def test_single_vertex(cap):
    e = outlines([([[3.0, 4.0]], [2.0])], False, (True,), "miter", cap)[0]
    assert e.shape == (num_edges(1, closed=False, joint_mask=[True], join="miter", cap=cap, round_points=K), 2, 2)
    expected = {"round": 2 * polygon_half_disc(2.0, K), "square": 16.0, "butt": 0.0}[cap]
    assert signed_area(e) == pytest.approx(expected, abs=1e-4)


def test_bad_arguments_are_named():
    v, w = jnp.zeros((3, 2)), jnp.ones(3)
    with pytest.raises(ValueError, match="join"):
        stroke_outline(v, w, closed=False, joint_mask=np.ones(3, bool), join="mitre", cap="butt", miter_limit=4.0)
    with pytest.raises(ValueError, match="cap"):
        stroke_outline(v, w, closed=False, joint_mask=np.ones(3, bool), join="miter", cap="flat", miter_limit=4.0)
    with pytest.raises(ValueError, match="joint_mask"):
        stroke_outline(v, w, closed=False, joint_mask=np.ones(2, bool), join="miter", cap="butt", miter_limit=4.0)
    with pytest.raises(ValueError, match="half_widths"):
        stroke_outline(v, jnp.ones(4), closed=False, joint_mask=np.ones(3, bool), join="miter", cap="butt",
                       miter_limit=4.0)
    with pytest.raises(ValueError, match="miter_limit"):
        stroke_outline(v, w, closed=False, joint_mask=np.ones(3, bool), join="miter", cap="butt", miter_limit=0.5)
