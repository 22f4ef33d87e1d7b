"""diffvg_jax.paint.evaluate_paint against a NumPy float64 reference written here from the
SVG specification (per-point loops, np.roots for the two-circle radial gradient), plus
finite-difference gradient checks in float64 and finiteness on degenerate gradients."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.paint import evaluate_paint

# One jitted evaluator shared by the tests: eager mode compiles every primitive separately,
# which costs more than the whole suite's arithmetic.
EVAL = jax.jit(evaluate_paint, static_argnames="clamp_focal")

# ----------------------------------------------------------------------------------------
# Reference (float64, per point, straight from the spec text)
# ----------------------------------------------------------------------------------------


def ref_stops(offsets, colors, t):
    """Colour at gradient parameter t (already spread into [0, 1])."""
    o = []
    prev = 0.0
    for v in offsets:
        v = min(max(float(v), 0.0), 1.0)
        prev = max(prev, v) if o else v
        o.append(prev)
    colors = np.asarray(colors, np.float64)
    last = None
    for i, v in enumerate(o):  # the last stop with offset <= t (later stop wins at a tie)
        if v <= t:
            last = i
    if last is None:
        return colors[0]
    if last == len(o) - 1:
        return colors[-1]
    f = (t - o[last]) / (o[last + 1] - o[last])
    return colors[last] * (1 - f) + colors[last + 1] * f


def ref_spread(t, spread):
    if spread == "pad":
        return min(max(t, 0.0), 1.0)
    if spread == "repeat":
        return t - math.floor(t)
    m = t - 2.0 * math.floor(t / 2.0)
    return m if m <= 1.0 else 2.0 - m


def ref_paint(p, pts):
    """p: dict of NumPy float64 parameters with 'kind'. pts: (N, 2). Returns (N, 4)."""
    inv = np.linalg.inv(np.asarray(p["transform"], np.float64))
    out = np.zeros((len(pts), 4))
    for n, (x, y) in enumerate(pts):
        gx, gy, _ = inv @ np.array([x, y, 1.0])
        g = np.array([gx, gy])
        if p["kind"] == "linear":
            d = p["end"] - p["start"]
            if d @ d == 0:
                out[n] = p["colors"][-1]
                continue
            t = (g - p["start"]) @ d / (d @ d)
        else:
            if p["radius"] <= 0:
                out[n] = p["colors"][-1]
                continue
            f, r0, c, r1 = p["focal"], p["focal_radius"], p["center"], p["radius"]
            # |g - (f + t (c - f))| = r0 + t (r1 - r0): expand into a quadratic in t.
            cd, pd, dr = c - f, g - f, r1 - r0
            coeffs = [cd @ cd - dr * dr, -2 * (pd @ cd + r0 * dr), pd @ pd - r0 * r0]
            roots = [z.real for z in np.roots(coeffs) if abs(z.imag) < 1e-12]
            roots = [t for t in roots if r0 + t * dr >= 0]
            if not roots:
                continue  # a cone that paints nothing here
            t = max(roots)
        out[n] = ref_stops(p["offsets"], p["colors"], ref_spread(t, p["spread"]))
    return out


def make_paint(p, dtype=np.float32):
    """The diffvg_jax paint for reference parameters (arrays in dtype; float64 needs x64)."""
    a = lambda v: jnp.asarray(np.asarray(v, dtype))
    if p["kind"] == "linear":
        return dv.LinearGradient(start=a(p["start"]), end=a(p["end"]), offsets=a(p["offsets"]),
                                 colors=a(p["colors"]), transform=a(p["transform"]), spread=p["spread"])
    return dv.RadialGradient(center=a(p["center"]), radius=a(p["radius"]), focal=a(p["focal"]),
                             focal_radius=a(p["focal_radius"]), offsets=a(p["offsets"]),
                             colors=a(p["colors"]), transform=a(p["transform"]), spread=p["spread"])


ROT = np.array([[0.8, -0.7, 3.0], [0.5, 1.1, -2.0], [0, 0, 1.0]])
COLORS3 = np.array([[1, 0, 0, 1], [0, 1, 0, 0.5], [0.2, 0.3, 1, 0.8]])
COLORS4 = np.array([[1, 0, 0, 1], [0, 1, 0, 0.5], [0, 0, 1, 0.0], [1, 1, 0, 1]])


def linear(spread="pad", **kw):
    p = dict(kind="linear", start=np.array([4.0, 6.0]), end=np.array([20.0, 12.0]),
             offsets=np.array([0.1, 0.5, 0.9]), colors=COLORS3, transform=np.eye(3), spread=spread)
    p.update(kw)
    return p


def radial(spread="pad", **kw):
    p = dict(kind="radial", center=np.array([16.0, 15.0]), radius=9.0, focal=np.array([13.0, 17.0]),
             focal_radius=0.0, offsets=np.array([0.1, 0.5, 0.9]), colors=COLORS3, transform=np.eye(3),
             spread=spread)
    p.update(kw)
    return p


CASES = {
    "linear-pad": linear("pad"),
    "linear-reflect": linear("reflect"),
    "linear-repeat": linear("repeat"),
    "linear-transform": linear("repeat", transform=ROT),
    "linear-hard-stops": linear("reflect", offsets=np.array([0.0, 0.4, 0.4, 1.0]), colors=COLORS4),
    "linear-unsorted-offsets": linear("pad", offsets=np.array([-0.2, 0.7, 0.3, 1.4]), colors=COLORS4),
    "linear-one-stop": linear("repeat", offsets=np.array([0.3]), colors=COLORS3[:1]),
    "linear-start-eq-end": linear("pad", end=np.array([4.0, 6.0])),
    "radial-pad": radial("pad"),
    "radial-reflect": radial("reflect"),
    "radial-repeat": radial("repeat"),
    "radial-centred": radial("pad", focal=np.array([16.0, 15.0])),
    "radial-transform": radial("reflect", transform=ROT),
    "radial-focal-radius": radial("pad", focal_radius=3.0),
    "radial-focal-radius-repeat": radial("repeat", focal_radius=2.0, focal=np.array([18.0, 14.0])),
    "radial-focal-outside-cone": radial("pad", focal=np.array([30.0, 24.0])),
    "radial-focal-outside-repeat": radial("repeat", focal=np.array([2.0, 3.0]), focal_radius=1.0),
    "radial-big-focal-circle": radial("pad", focal_radius=14.0),   # focal circle contains the end circle
    "radial-hard-stops": radial("repeat", offsets=np.array([0.0, 0.4, 0.4, 1.0]), colors=COLORS4),
    "radial-one-stop": radial("pad", offsets=np.array([0.5]), colors=COLORS3[1:2]),
    "radial-zero-radius": radial("pad", radius=0.0),
}

RNG = np.random.default_rng(0)
POINTS = np.concatenate([RNG.uniform(-8, 40, size=(300, 2)),
                         np.stack(np.meshgrid(np.arange(0, 32, 4.0) + 0.5, np.arange(0, 32, 4.0) + 0.5), -1).reshape(-1, 2)])


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference_float64(name, x64):
    p = CASES[name]
    want = ref_paint(p, POINTS)
    got = np.asarray(EVAL(make_paint(p, np.float64), jnp.asarray(POINTS)))
    assert got.dtype == np.float64 and got.shape == (len(POINTS), 4)
    np.testing.assert_allclose(got, want, atol=1e-9)


@pytest.mark.parametrize("name", ["linear-transform", "radial-focal-radius-repeat", "radial-hard-stops",
                                  "radial-focal-outside-cone"])
def test_float32_close_to_reference(name):
    """float32: equal to 1e-4 except at the few points float32 puts across a discontinuity."""
    p = CASES[name]
    want = ref_paint(p, POINTS)
    got = np.asarray(EVAL(make_paint(p), jnp.asarray(POINTS, jnp.float32)))
    assert got.dtype == np.float32
    err = np.abs(got - want).max(-1)
    assert np.mean(err > 1e-4) <= 0.01, np.sort(err)[-10:]


def test_hard_stop_later_stop_wins_and_pads():
    p = linear("pad", start=np.array([0.0, 0.0]), end=np.array([10.0, 0.0]),
               offsets=np.array([0.2, 0.5, 0.5, 0.8]), colors=COLORS4)
    xs = np.array([[-5.0, 0], [1.0, 0], [4.999, 0], [5.0, 0], [5.001, 0], [9.0, 0], [30.0, 0]])
    got = np.asarray(EVAL(make_paint(p), jnp.asarray(xs, jnp.float32)))
    np.testing.assert_allclose(got[0], COLORS4[0]); np.testing.assert_allclose(got[1], COLORS4[0])
    np.testing.assert_allclose(got[2], COLORS4[1], atol=1e-3)
    np.testing.assert_allclose(got[3], COLORS4[2]); np.testing.assert_allclose(got[4], COLORS4[2], atol=1e-3)
    np.testing.assert_allclose(got[5], COLORS4[3]); np.testing.assert_allclose(got[6], COLORS4[3])


def test_radial_t_lies_on_its_circle(x64):
    """Geometric check independent of the quadratic: the point is on circle(t), radius >= 0."""
    p = radial("pad", focal_radius=1.5, focal=np.array([14.0, 16.5]))
    # identity stops so the colour's red channel IS t (repeat keeps t in [0, 1))
    p.update(offsets=np.array([0.0, 1.0]), colors=np.array([[0, 0, 0, 1], [1, 0, 0, 1.0]]), spread="pad")
    pts = RNG.uniform(8, 24, size=(200, 2))
    t = np.asarray(EVAL(make_paint(p, np.float64), jnp.asarray(pts)))[:, 0]
    inside = (t > 1e-6) & (t < 1 - 1e-6)
    assert inside.sum() > 50
    c = p["focal"] + t[:, None] * (p["center"] - p["focal"])
    r = p["focal_radius"] + t * (p["radius"] - p["focal_radius"])
    np.testing.assert_allclose(np.linalg.norm(pts - c, axis=1)[inside], r[inside], atol=1e-9)


def test_solid_broadcasts():
    out = evaluate_paint(dv.rgba(0.1, 0.2, 0.3, 0.4), jnp.zeros((3, 5, 2)))
    assert out.shape == (3, 5, 4)
    np.testing.assert_allclose(np.asarray(out[2, 4]), [0.1, 0.2, 0.3, 0.4], rtol=1e-6)


def test_clamp_focal_option_svg11():
    """clamp_focal=True: an outside focal point moves onto the end circle, so every point
    gets a colour (no cone); the default draws the SVG 2 cone (transparent outside it)."""
    p = radial("pad", focal=np.array([40.0, 15.0]))
    pts = jnp.asarray([[0.5, 15.0], [16.0, 15.0], [50.0, 15.0]], jnp.float32)
    cone = np.asarray(EVAL(make_paint(p), pts))
    clamped = np.asarray(EVAL(make_paint(p), pts, clamp_focal=True))
    assert cone[2, 3] == 0.0 and cone[0, 3] > 0  # behind the apex: nothing; inside the cone: paint
    assert np.all(clamped[:, 3] > 0)
    # SVG 1.1 reference: focal on the circle at (25, 15)
    ref = ref_paint(dict(p, focal=np.array([25.0 - 9e-4, 15.0])), np.asarray(pts, np.float64))
    np.testing.assert_allclose(clamped, ref, atol=2e-3)


def test_vmap_matches_single():
    p = make_paint(CASES["radial-focal-radius-repeat"])
    pts = jnp.asarray(POINTS, jnp.float32)
    q = make_paint(radial("repeat", focal_radius=1.0))
    stacked = jax.tree_util.tree_map(lambda a, b: jnp.stack([a, b]), p, q)
    batched = jax.jit(jax.vmap(evaluate_paint, in_axes=(0, None)))(stacked, pts)
    np.testing.assert_allclose(np.asarray(batched[0]), np.asarray(EVAL(p, pts)), atol=1e-5)
    np.testing.assert_allclose(np.asarray(batched[1]), np.asarray(EVAL(q, pts)), atol=1e-5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="xy"):
        evaluate_paint(dv.rgba(1, 0, 0), jnp.zeros((4, 3)))
    bad = dv.LinearGradient(start=[0, 0], end=[1, 0], offsets=[0, 1], colors=[[1, 0, 0, 1]])
    with pytest.raises(ValueError, match="colors"):
        evaluate_paint(bad, jnp.zeros((4, 2)))


# ----------------------------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------------------------

GRAD_POINTS = RNG.uniform(0, 32, size=(64, 2))
WEIGHTS = RNG.normal(size=(64, 4))


def _loss(paint, pts, w):
    return jnp.sum(evaluate_paint(paint, pts) * w)


LOSS = jax.jit(_loss)
GRAD = jax.jit(jax.grad(_loss))


def _fd_check(p, h=1e-6):
    """Central finite differences of every float leaf vs jax.grad, float64."""
    paint = make_paint(p, np.float64)
    pts, w = jnp.asarray(GRAD_POINTS), jnp.asarray(WEIGHTS)
    grads = GRAD(paint, pts, w)
    loss = LOSS
    leaves, treedef = jax.tree_util.tree_flatten(paint)
    gleaves = jax.tree_util.tree_leaves(grads)
    checked = 0
    for k, (leaf, g) in enumerate(zip(leaves, gleaves)):
        leaf = np.asarray(leaf)
        g = np.asarray(g)
        assert np.all(np.isfinite(g))
        for idx in np.ndindex(leaf.shape):
            if leaf.shape == (3, 3) and idx[0] == 2:
                continue  # projective row of an affine matrix: not a parameter
            def at(v):
                pert = leaf.copy(); pert[idx] = v
                new = list(leaves); new[k] = jnp.asarray(pert)
                return float(loss(jax.tree_util.tree_unflatten(treedef, new), pts, w))
            fd = (at(leaf[idx] + h) - at(leaf[idx] - h)) / (2 * h)
            assert abs(fd - g[idx]) <= 1e-5 * max(1.0, abs(fd)), (k, idx, fd, g[idx])
            checked += 1
    return checked


@pytest.mark.parametrize("name", ["linear-transform", "linear-unsorted-offsets", "radial-transform",
                                  "radial-focal-radius-repeat", "radial-focal-outside-cone"])
def test_gradients_match_finite_differences(name, x64):
    p = dict(CASES[name])
    if name == "linear-unsorted-offsets":
        p["offsets"] = np.array([-0.2, 0.3, 0.7, 1.4])  # smooth in every offset except clamps
    assert _fd_check(p) > 20


DEGENERATE = {
    "start-eq-end": linear(end=np.array([4.0, 6.0])),
    "zero-radius": radial(radius=0.0),
    "focal-on-circle": radial(focal=np.array([25.0, 15.0])),
    "focal-eq-circle": radial(focal=np.array([16.0, 15.0]), focal_radius=9.0),
    "equal-offsets": linear("reflect", offsets=np.array([0.5, 0.5, 0.5])),
    "singular-transform": radial(transform=np.array([[1.0, 2, 0], [2, 4, 0], [0, 0, 1]])),
    "zero-transform": linear(transform=np.zeros((3, 3))),
    "one-stop": radial(offsets=np.array([0.5]), colors=COLORS3[:1]),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_degenerate_values_and_gradients_finite(name):
    p = DEGENERATE[name]
    paint = make_paint(p)
    # include the focal point and centre themselves (c == 0, discriminant == 0)
    pts = jnp.asarray(np.concatenate([GRAD_POINTS, [[16.0, 15.0], [13.0, 17.0], [25.0, 15.0], [4.0, 6.0]]]),
                      jnp.float32)
    w = jnp.ones((pts.shape[0], 4))
    out = EVAL(paint, pts)
    assert np.all(np.isfinite(np.asarray(out)))
    grads = GRAD(paint, pts, w)
    for g in jax.tree_util.tree_leaves(grads):
        assert np.all(np.isfinite(np.asarray(g)))
    if name in ("start-eq-end", "zero-radius"):
        np.testing.assert_allclose(np.asarray(out), np.broadcast_to(p["colors"][-1], out.shape), atol=1e-6)


def test_unpremultiply_value_and_gradient_match_the_channel_division():
    """Reference: rgb / max(a, MIN_ALPHA) channel by channel, differentiated by JAX (float64),
    on pixels above, at, just above and below the alpha floor and fully transparent."""
    from diffvg_jax.paint import MIN_ALPHA, unpremultiply

    def reference(rgba):
        d = jnp.maximum(rgba[..., 3], MIN_ALPHA)
        return jnp.stack([rgba[..., 0] / d, rgba[..., 1] / d, rgba[..., 2] / d, rgba[..., 3]], axis=-1)

    with jax.enable_x64(True):
        rng = np.random.default_rng(3)
        x = rng.uniform(0, 1, (40, 5, 4))
        x[..., :3] *= x[..., 3:]
        x[0, :4, 3] = [0.0, 0.5 * MIN_ALPHA, MIN_ALPHA * (1 + 1e-6), 1.0]
        x = jnp.asarray(x)
        w = jnp.asarray(rng.normal(size=x.shape))
        np.testing.assert_allclose(np.asarray(unpremultiply(x)), np.asarray(reference(x)), rtol=1e-15)
        got = jax.grad(lambda v: jnp.sum(unpremultiply(v) * w))(x)
        want = jax.grad(lambda v: jnp.sum(reference(v) * w))(x)
        assert np.isfinite(np.asarray(got)).all()
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12 * float(jnp.abs(want).max()))
