"""Degenerate input renders without NaN in the image or the gradient; invalid construction
raises ValueError naming the argument."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv

W = H = 16
RED = dv.rgba(1, 0, 0, 1)


def degenerate_scene():
    """Every degenerate case as one child (one compilation); child index = case."""
    return dv.Scene(children=(
        # 0: zero-length segments in a polyline (repeated points), stroked and filled
        dv.Polyline(points=[[3.0, 3.0], [3.0, 3.0], [9.0, 5.0], [9.0, 5.0]], fill=RED, stroke=RED, stroke_width=1.5,
                    line_join="miter", line_cap="square"),
        # 1: cubic whose control points all coincide (a point), round caps
        dv.Path(points=[[8.0, 8.0]] * 4, stroke=RED, stroke_width=2.0, line_cap="round", fill=RED),
        # 2: cubic with coincident inner control points (cusp-free but zero end derivatives)
        dv.Path(points=[[2.0, 12.0], [2.0, 12.0], [14.0, 4.0], [14.0, 4.0]], stroke=RED, stroke_width=1.0),
        # 3: zero-width stroke
        dv.Circle(center=[8.0, 8.0], radius=4.0, stroke=RED, stroke_width=0.0),
        # 4: empty path (no segments)
        dv.Path(points=np.zeros((0, 2), np.float32), degrees=(), fill=RED, stroke=RED),
        # 5: entirely off canvas
        dv.Circle(center=[-50.0, 70.0], radius=5.0, fill=RED),
        # 6: huge coordinates
        dv.Polygon(points=[[2.0, 2.0], [1e6, 3.0], [4.0, 1e6]], fill=RED, stroke=RED, stroke_width=1.0),
        # 7: zero radius circle and zero-size rect
        dv.Circle(center=[5.0, 5.0], radius=0.0, fill=RED),
        dv.Rect(p_min=[6.0, 6.0], p_max=[6.0, 6.0], corner_radius=[1.0, 1.0], fill=RED, stroke=RED),
        # 9: degenerate gradients: start == end, zero radius, singular transform
        dv.Rect(p_min=[1.0, 1.0], p_max=[7.0, 7.0], fill=dv.LinearGradient(
            start=[3.0, 3.0], end=[3.0, 3.0], offsets=[0.0, 1.0], colors=[[1, 0, 0, 1], [0, 0, 1, 1]])),
        dv.Rect(p_min=[8.0, 8.0], p_max=[15.0, 15.0], fill=dv.RadialGradient(
            center=[10.0, 10.0], radius=0.0, offsets=[0.5, 0.5], colors=[[1, 0, 0, 1], [0, 0, 1, 1]],
            transform=np.zeros((3, 3)))),
        # 11: a shape collapsed by its transform
        dv.Circle(center=[8.0, 8.0], radius=3.0, fill=RED, transform=np.diag([0.0, 1.0, 1.0])),
    ), background=[1.0, 1.0, 1.0, 1.0])


def test_degenerate_scene_is_finite_with_finite_gradients():
    scene = degenerate_scene()
    img = np.asarray(dv.render(scene, width=W, height=H))
    assert np.all(np.isfinite(img))
    weights = jnp.asarray(np.random.default_rng(0).normal(size=(H, W, 4)), jnp.float32)
    need = dv.pieces_needed(scene, width=W, height=H)
    grads = jax.grad(lambda s: jnp.sum(dv.render(s, width=W, height=H, max_pieces=2 * need) * weights))(scene)
    bad = [jax.tree_util.keystr(p) for p, g in jax.tree_util.tree_flatten_with_path(grads)[0]
           if not np.all(np.isfinite(np.asarray(g)))]
    assert not bad, f"non-finite gradients: {bad}"


@pytest.mark.parametrize("make, word", [
    (lambda: dv.render(dv.Scene(children=(dv.Polygon(points=np.zeros((3, 3)), fill=RED),)), width=8, height=8), "points"),
    (lambda: dv.render(dv.Scene(children=(dv.Circle(center=[1.0, 2.0, 3.0], radius=1.0, fill=RED),)), width=8, height=8), "center"),
    (lambda: dv.render(dv.Scene(children=(dv.Circle(center=[1.0, 2.0], radius=[1.0, 2.0], fill=RED),)), width=8, height=8), "radius"),
    (lambda: dv.render(dv.Scene(children=(dv.Circle(center=[1.0, 2.0], radius=1.0, fill=dv.Solid(color=[1.0, 0.0])),)), width=8, height=8), "color"),
    (lambda: dv.render(dv.Scene(children=()), width=-4, height=8), "width"),
    (lambda: dv.render(dv.Scene(children=()), width=8, height=0), "height"),
    (lambda: dv.Polyline(points=[[0.0, 0.0], [1.0, 1.0]], line_join="mitre"), "line_join"),
    (lambda: dv.Polyline(points=[[0.0, 0.0], [1.0, 1.0]], line_cap="flat"), "line_cap"),
    (lambda: dv.Polygon(points=[[0.0, 0.0], [1.0, 1.0]], fill_rule="odd"), "fill_rule"),
    (lambda: dv.LinearGradient(start=[0, 0], end=[1, 1], offsets=[0, 1], colors=[[0, 0, 0, 1]] * 2, spread="mirror"), "spread"),
    (lambda: dv.render(dv.Scene(children=(dv.Path(points=np.zeros((5, 2)), degrees=(3,), fill=RED),)),
                       width=8, height=8), "points"),
])
def test_invalid_input_raises_naming_the_argument(make, word):
    with pytest.raises(ValueError, match=word):
        make()


def test_non_finite_values_are_named_by_element_and_attribute():
    """Concrete NaN / inf anywhere in a scene is a ValueError naming the first bad leaf in
    scene order (the values are checked in one vectorised pass, then leaf by leaf to name
    it); the same scene with finite values renders."""
    def scene(radius, stop_colour, width):
        return dv.Scene(children=(
            dv.Circle(center=[4.0, 4.0], radius=2.0, fill=RED),
            dv.Group(children=(
                dv.Circle(center=[8.0, 8.0], radius=radius, fill=RED, id="sun"),
                dv.Rect(p_min=[1.0, 1.0], p_max=[6.0, 6.0], stroke=RED, stroke_width=width, fill=dv.LinearGradient(
                    start=[0.0, 0.0], end=[8.0, 8.0], offsets=[0.0, 1.0], colors=[[1, 0, 0, 1], stop_colour])),
            )),
        ))
    with pytest.raises(ValueError, match=r"children\[1\].*children\[0\] \(Circle 'sun'\)\.radius contains NaN"):
        dv.render(scene(np.nan, [0, 0, 1, 1], 1.0), width=W, height=H)
    with pytest.raises(ValueError, match=r"children\[1\] \(Rect\)\.fill \(LinearGradient\)\.colors contains NaN or inf"):
        dv.render(scene(3.0, [0, 0, np.inf, 1], np.nan), width=W, height=H)   # the paint comes before the width
    with pytest.raises(ValueError, match=r"children\[1\] \(Rect\)\.stroke_width contains NaN or inf"):
        dv.render(scene(3.0, [0, 0, 1, 1], np.inf), width=W, height=H)
    assert np.all(np.isfinite(np.asarray(dv.render(scene(3.0, [0, 0, 1, 1], 1.0), width=W, height=H))))
