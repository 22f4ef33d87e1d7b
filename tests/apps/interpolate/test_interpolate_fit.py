"""The two warm-started fits and the blend between them, on a 16 px canvas: a red disc
becomes a red square. One fit (two paths, one configuration) serves the whole module."""
import jax
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.apps.interpolate import (check_common_structure, ease, fit_pair, frame_times, initial_blobs,
                                         interpolate_scenes, render_frames, strip)
from diffvg_jax.apps.interpolate.target import image_loss, over_white, psnr, square_canvas

S = 16
RED = (0.9, 0.1, 0.1)


def _target(mask):
    """float32 (S, S, 4) premultiplied: red where ``mask``, transparent elsewhere."""
    img = np.zeros((S, S, 4), np.float32)
    img[mask] = RED + (1.0,)
    return square_canvas(img, S)


def _blob(cx, cy, r, colour, n=12):
    angles = 2 * np.pi * np.arange(n) / n
    pts = np.stack([cx + r * np.cos(angles), cy + r * np.sin(angles)], -1).astype(np.float32)
    return dv.Path(points=pts, degrees=(3,) * (n // 3), closed=True, fill=dv.Solid(color=np.array(colour, np.float32)))


yy, xx = np.mgrid[0:S, 0:S] + 0.5
DISC = _target((xx - 8) ** 2 + (yy - 8) ** 2 < 4.5 ** 2)
SQUARE = _target((xx > 3) & (xx < 13) & (yy > 3) & (yy < 13))
SQUARE_MASK = (xx > 4) & (xx < 12) & (yy > 4) & (yy < 12)
# path 0: an orange blob near the disc; path 1: a small blue one in a corner, away from both
INIT = dv.Scene(children=(_blob(7.0, 7.5, 3.0, (0.8, 0.5, 0.2, 1.0)), _blob(14.0, 14.0, 1.2, (0.1, 0.2, 0.9, 1.0))),
                width=S, height=S)


@pytest.fixture(scope="module")
def fitted():
    return fit_pair(DISC, SQUARE, init=INIT, steps=40, lr_points=0.4, lr_color=0.05)


def _alone(scene, k):
    """Coverage float32 (S, S) of path k drawn alone."""
    one = dv.replace(scene, children=(scene.children[k],))
    return np.asarray(dv.render(one, width=S, height=S, premultiplied=True))[..., 3]


def test_fits_improve_on_their_start(fitted):
    a, b, info = fitted
    start_a = float(psnr(dv.render(INIT, width=S, height=S, premultiplied=True), DISC))
    start_b = float(psnr(dv.render(a, width=S, height=S, premultiplied=True), SQUARE))  # the warm start
    assert info["a"]["final_psnr"] > start_a + 3.0
    assert info["b"]["final_psnr"] > start_b + 3.0
    assert info["a"]["psnr"][0] == pytest.approx(start_a, abs=1e-3)


def test_warm_start_keeps_the_roles(fitted):
    """The path that covered the disc is the one that covers the square."""
    a, b, _ = fitted
    disc_mask = DISC[..., 3] > 0.5
    assert _alone(a, 0)[disc_mask].mean() > 0.8
    assert _alone(b, 0)[SQUARE_MASK].mean() > 0.8
    assert _alone(b, 1)[SQUARE_MASK].mean() < 0.2
    check_common_structure(a, b)


def test_the_ends_of_the_blend_are_the_fits(fitted):
    a, b, _ = fitted
    for t, want in ((0.0, a), (1.0, b)):
        got = interpolate_scenes(a, b, ease(t, "smooth"))
        assert jax.tree.structure(got) == jax.tree.structure(want)
        for x, y in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    frames = render_frames(a, b, frame_times(3), size=S, easing="smooth")
    np.testing.assert_array_equal(frames[0], np.asarray(over_white(dv.render(a, width=S, height=S, premultiplied=True))))
    middle = interpolate_scenes(a, b, 0.5)
    np.testing.assert_allclose(middle.children[0].points, 0.5 * (a.children[0].points + b.children[0].points),
                               rtol=1e-6, atol=1e-5)
    assert strip(frames, gap=2).shape == (S, 3 * S + 4, 3)


def test_mismatched_structures_are_refused():
    a = initial_blobs(DISC, 3, segments=4, seed=0)
    with pytest.raises(ValueError, match="path counts: 3 and 2"):
        interpolate_scenes(a, initial_blobs(DISC, 2, segments=4, seed=0), 0.5)
    with pytest.raises(ValueError, match=r"path 0 differs in structure: Path of 4 segments .* vs Path of 5"):
        check_common_structure(a, initial_blobs(DISC, 3, segments=5, seed=0))
    with pytest.raises(ValueError, match="Scene"):
        check_common_structure(a, a.children)
    with pytest.raises(ValueError, match="frames must be an integer >= 2"):
        frame_times(1)
    with pytest.raises(ValueError, match="easing"):
        ease(0.5, "cubic")


def test_initial_blobs_sit_on_the_ink():
    scene = initial_blobs(DISC, 8, segments=3, seed=1)
    assert len(scene.children) == 8 and all(c.degrees == (3, 3, 3) and c.closed for c in scene.children)
    centres = np.stack([np.asarray(c.points).mean(0) for c in scene.children])
    assert np.all(np.hypot(centres[:, 0] - 8, centres[:, 1] - 8) < 5.5)
    colours = np.stack([np.asarray(c.fill.color) for c in scene.children])
    np.testing.assert_allclose(colours, np.tile(RED + (1.0,), (8, 1)), atol=1e-5)


def test_loss_and_psnr():
    assert float(image_loss(DISC, DISC)) == 0.0
    assert float(image_loss(np.zeros_like(DISC), DISC)) > float(np.mean(DISC ** 2))  # coarse terms add
    assert float(psnr(DISC, DISC)) == pytest.approx(120.0)


def test_ctrl_c_in_the_first_fit_stops_the_pair(fitted):
    def stop(step, scene):
        if step == 2:
            raise KeyboardInterrupt

    a, b, info = fit_pair(DISC, SQUARE, init=INIT, steps=40, lr_points=0.4, lr_color=0.05, callbacks=(stop, None))
    assert info["a"]["interrupted"] and len(info["a"]["loss"]) == 2
    assert len(info["b"]["loss"]) == 0 and not info["b"]["interrupted"]
    check_common_structure(a, b)
