"""The vector VAE with the real renderers (the specialised ``make_renderer`` and
``dv.render`` of the digit's scene): stroke images against exact areas, compositing against
the 'over' formula, the two renderers against each other, training through the renderer,
SVG output.

Kept to one tiny configuration so that each renderer compiles once or twice for the whole
module."""
import xml.etree.ElementTree as ET

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffvg_jax.apps import mnist_vae as mv

CFG = mv.ModelConfig(latent_dim=4, num_paths=2, num_segments=1, hidden=32, enc_features=(8,),
                     variational=False, max_pieces=1024, curve_pieces=4)


def _strokes(points, widths, alphas):
    return mv.Strokes(jnp.asarray(points, jnp.float32), jnp.asarray(widths, jnp.float32),
                      jnp.asarray(alphas, jnp.float32))


def _segment(x0, y0, x1, y1):
    """A straight cubic: control points at the thirds."""
    return [[x0 + (x1 - x0) * t, y0 + (y1 - y0) * t] for t in (0, 1 / 3, 2 / 3, 1)]


@pytest.fixture(scope="module")
def render():
    return jax.jit(mv.make_renderer(CFG))


@pytest.fixture(scope="module")
def images(render):
    # digit 0: one opaque horizontal stroke (the other stroke fully transparent);
    # digit 1: a horizontal stroke at alpha 0.6 crossed by a vertical one at alpha 0.5.
    s = _strokes([[_segment(4, 14, 24, 14), _segment(14, 4, 14, 24)],
                  [_segment(4, 14, 24, 14), _segment(14, 4, 14, 24)]],
                 [[2.0, 2.0], [2.0, 2.0]], [[1.0, 0.0], [0.6, 0.5]])
    return np.asarray(render(s))


def _cap_area(chords):
    """Area of a half disc of radius 1 drawn as ``chords`` inscribed chords."""
    return 0.5 * chords * np.sin(np.pi / chords)


def test_stroke_area_is_exact(images):
    # 20 x 2 rectangle plus two half-discs of radius 1 (round caps), white on black; each
    # cap is a polygon of round_points + 1 chords inscribed in its half disc, and the
    # anti-aliased coverage integrates that polygon exactly.
    assert images.shape == (2, 28, 28)
    np.testing.assert_allclose(images[0].sum(), 40 + 2 * _cap_area(CFG.round_points + 1), atol=2e-3)
    assert images[0].sum() <= 40 + np.pi + 1e-3  # chords cut inside the disc, never outside
    assert images[0][13:15, 5:23].min() > 0.999  # interior rows fully covered
    assert images[0][:12].max() < 1e-6 and images[0][16:].max() < 1e-6


def test_strokes_composite_over_each_other(images):
    img = images[1]
    np.testing.assert_allclose(img[13, 8], 0.6, atol=1e-4)       # horizontal only
    np.testing.assert_allclose(img[8, 13], 0.5, atol=1e-4)       # vertical only
    np.testing.assert_allclose(img[13, 13], 1 - 0.4 * 0.5, atol=1e-4)  # both: 'over'


def test_matches_dv_render_of_the_scene(images):
    # The same strokes through dv.render: caps of 16 + 1 chords (diffvg_jax's round
    # points) instead of round_points + 1, otherwise the same exact coverage.
    s = _strokes([[_segment(4, 14, 24, 14), _segment(14, 4, 14, 24)],
                  [_segment(4, 14, 24, 14), _segment(14, 4, 14, 24)]],
                 [[2.0, 2.0], [2.0, 2.0]], [[1.0, 0.0], [0.6, 0.5]])
    ref = np.asarray(jax.jit(mv.make_scene_renderer(CFG))(s))
    caps = 2 * (_cap_area(17) - _cap_area(CFG.round_points + 1))
    np.testing.assert_allclose(ref[0].sum() - images[0].sum(), caps, atol=2e-3)
    away = np.ones((28, 28), bool)
    away[:, :7] = away[:, 21:] = away[:7] = away[21:] = False    # the caps' pixels
    np.testing.assert_allclose(images[:, away], ref[:, away], atol=1e-4)


def test_training_through_the_renderer():
    rng = np.random.default_rng(0)
    x = np.zeros((8, 28, 28), np.float32)
    for i in range(8):  # horizontal bars at random heights
        r = rng.integers(8, 20)
        x[i, r:r + 2, 6:22] = 1.0
    trainer = mv.Trainer(CFG, mv.TrainConfig(batch_size=8, learning_rate=1e-2, seed=0))
    losses, norms = [], []
    for step in range(1, 13):  # a plain AE on one fixed batch: the loss is deterministic
        trainer.state, metrics = trainer.train_step(trainer.state, jnp.asarray(x))
        losses.append(float(metrics["loss"]))
        norms.append(float(metrics["grad_norm"]))
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(norms)) and norms[0] > 0
    assert losses[-1] < 0.9 * losses[0], losses
    leaves = jax.tree_util.tree_leaves(trainer.state.params)
    assert all(np.all(np.isfinite(np.asarray(a))) for a in leaves)


def test_svg_output_matches_strokes(tmp_path):
    pytest.importorskip("diffvg_jax.svg")
    s = _strokes([[_segment(4, 14, 24, 14), _segment(14, 4, 14, 24)]], [[1.5, 2.5]], [[1.0, 0.25]])
    files = mv.save_svgs(s, tmp_path, CFG)
    assert [f.name for f in files] == ["sample_00.svg"]
    root = ET.parse(files[0]).getroot()
    paths = [e for e in root.iter() if e.tag.split("}")[-1] == "path"]
    assert len(paths) == 2
    widths = sorted(float(p.get("stroke-width") or _style(p, "stroke-width")) for p in paths)
    np.testing.assert_allclose(widths, [1.5, 2.5], rtol=1e-5)


def _style(elem, name):
    for item in (elem.get("style") or "").split(";"):
        if ":" in item and item.split(":")[0].strip() == name:
            return item.split(":", 1)[1]
    raise AssertionError(f"{name} missing on {elem.attrib}")
