"""CLIPDraw end to end with a tiny random CLIP, its objective, schedule and CLI.

Compilation dominates on CPU, so the real-renderer run happens once (module fixture) and
the CLI test repeats exactly its settings to hit the same compiled step.
"""
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax as dv
from diffvg_jax.apps.clipdraw.augment import clipdraw_augment
from diffvg_jax.apps.clipdraw.clipnet import CLIP, normalize
from diffvg_jax.apps.clipdraw import clipdraw
from diffvg_jax.apps.clipdraw.cli import main
from diffvg_jax.apps.clipdraw.step import leaf_roles, make_step, points_schedule
from diffvg_jax.apps.common.init_paths import random_strokes

# Small enough for CI, large enough that strokes cover a visible part of the canvas.
E2E = dict(num_paths=6, iterations=8, canvas_size=32, num_augs=2, max_segments=1, lr_color=0.1, lr_width=0.5,
           init_width=3.0, seed=0, negative_prompts=["a photo"])
PROMPT = "a drawing of a cat"


@pytest.fixture(scope="module")
def tiny_clip():
    return CLIP.random("tiny", seed=0)


@pytest.fixture(scope="module")
def e2e(tiny_clip):
    steps = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scene, history = clipdraw(PROMPT, clip=tiny_clip, callback=lambda i, s, img: steps.append((i, s, img)),
                                  **E2E)
    return scene, history, steps


def test_clipdraw_raises_the_clip_score(e2e):
    scene, history, steps = e2e
    assert history["iterations"] == 8 and history["score"].shape == (8,) and np.isfinite(history["score"]).all()
    # The un-augmented drawing's cosine with the caption rises (the random CLIP's cosines
    # move little in absolute terms: about 1e-3 over these 8 steps).
    assert history["final_score"] > history["initial_score"] + 1e-4, history
    # and the augmented per-step scores trend upwards too
    assert history["score"][-3:].mean() > history["score"][:3].mean()
    assert [i for i, _, _ in steps] == list(range(9))  # before each update, and once at the end


def test_objective_is_minus_cosine_plus_weighted_negatives(e2e, tiny_clip):
    """Recompute step 0's score and loss from its render, with the same augmentation key."""
    _, history, steps = e2e
    _, rgb = steps[0][1], steps[0][2]
    key = jax.random.fold_in(jax.random.split(jax.random.key(0))[1], 0)  # clipdraw's key for step 0
    views = clipdraw_augment(key, jnp.asarray(rgb), num_copies=2, size=32)
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)
    feats = unit(np.asarray(tiny_clip.encode_image(normalize(views))))
    pos = unit(np.asarray(tiny_clip.encode_text([PROMPT])))[0]
    neg = unit(np.asarray(tiny_clip.encode_text(["a photo"])))[0]
    score = (feats @ pos).mean()
    assert history["score"][0] == pytest.approx(score, abs=1e-5)
    assert history["loss"][0] == pytest.approx(-score + 0.3 * (feats @ neg).mean(), abs=1e-5)


def test_first_adam_step_moves_points_by_the_learning_rate(e2e):
    """Adam's first update is lr * sign(gradient) per coordinate: 1 px for points."""
    _, _, steps = e2e
    before, after = steps[0][1], steps[1][1]
    for a, b in zip(before.children, after.children):
        moved = np.abs(np.asarray(b.points) - np.asarray(a.points))
        assert moved.max() <= 1.0 + 1e-4 and moved.max() > 0.9, moved


def test_clipdraw_scene_keeps_structure_and_clamps(e2e):
    scene, history, _ = e2e
    assert len(scene.children) == 6 and (scene.width, scene.height) == (32, 32)
    for path in scene.children:
        assert isinstance(path, dv.Path) and path.fill is None and not any(path.closed)
        assert 1.0 <= float(path.stroke_width) <= 50.0
        c = np.asarray(path.stroke.color)
        assert ((c >= 0) & (c <= 1)).all()
        assert np.isfinite(np.asarray(path.points)).all()
    assert history["image"].shape == (32, 32, 3)


def test_points_schedule_drops_at_half_and_three_quarters():
    s = points_schedule(1.0, 1000)
    assert [float(s(i)) for i in (0, 499, 500, 749, 750, 999)] == pytest.approx([1, 1, 0.4, 0.4, 0.1, 0.1])
    s = points_schedule(1.0, 1)  # both drops at step 0: still ends at 0.1x
    assert float(s(0)) == pytest.approx(0.1)


def test_cli_runs_and_writes_outputs(tmp_path, e2e, capsys):
    pytest.importorskip("diffvg_jax.svg", reason="needs the SVG writer")
    from diffvg_jax import svg
    if not hasattr(svg, "save_svg"):
        pytest.skip("diffvg_jax.svg.save_svg not available yet")
    out = tmp_path / "cat.svg"
    rc = main(["a drawing of a cat", "--random-clip", "tiny", "--out", str(out), "--paths", "6", "--max-segments", "1", "--iters", "8",
               "--size", "32", "--augs", "2", "--lr-color", "0.1", "--lr-width", "0.5", "--stroke-width", "3",
               "--max-pieces", str(e2e[1]["max_pieces"]), "--snapshots", str(tmp_path / "snaps"),
               "--every", "4", "--video", str(tmp_path / "a.gif"), "--negative", "a photo"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert out.exists() and out.with_suffix(".png").exists() and (tmp_path / "a.gif").exists()
    assert sorted(p.name for p in (tmp_path / "snaps").glob("*.png")) == \
        ["step_00000.png", "step_00004.png", "step_00008.png"]
    assert f"{e2e[1]['final_score']:.4f}" in err  # same settings, same drawing


@pytest.mark.parametrize("argv, message", [
    (["a cat", "--clip-weights", "/nonexistent/clip", "--out", "x.svg"], "config.json and model.safetensors"),
    (["a cat", "--random-clip", "tiny", "--out", "x.png"], "must be an .svg file"),
    (["a cat", "--out", "x.svg"], "one of the arguments --clip-weights --random-clip is required"),
    (["a cat", "--random-clip", "tiny", "--out", "x.svg", "--paths", "0"], "--paths must be at least 1"),
    (["  ", "--random-clip", "tiny", "--out", "x.svg"], "the prompt is empty"),
])
def test_cli_bad_input_exits_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "x.svg").exists()


def test_bad_arguments_are_named(tiny_clip):
    with pytest.raises(ValueError, match="prompt must be a non-empty string"):
        clipdraw("", clip=tiny_clip)
    with pytest.raises(ValueError, match="clip must be a diffvg_jax.clip.CLIP"):
        clipdraw("a cat", clip="ViT-B/32")
    with pytest.raises(ValueError, match="crop_scale"):
        clipdraw("a cat", clip=tiny_clip, crop_scale=(0.9, 0.7))


def test_leaf_roles_and_clamp(tiny_clip):
    scene = random_strokes(0, 3, 32, 32).replace(background=jnp.ones(4))
    roles = leaf_roles(scene)
    assert roles.count("points") == 3 and roles.count("width") == 3 and roles.count("color") == 3
    assert len(roles) == len(jax.tree.leaves(scene))
    _, clamp, _, _ = make_step(roles, tiny_clip.config, 32, 32, 10, 2, 1.0, 0.1, 0.01, 1.0, 50.0, 0.3, 0.5,
                               (0.7, 0.9), dv.render)
    p = scene.children[0]
    wild = dv.replace(p, points=p.points.at[0].set(jnp.array([-100.0, 500.0])), stroke_width=jnp.asarray(99.0),
                      stroke=dv.Solid(color=jnp.array([-1.0, 0.5, 2.0, 0.3])))
    out = clamp(dv.replace(scene, children=(wild,) + scene.children[1:])).children[0]
    np.testing.assert_allclose(np.asarray(out.points[0]), [-8.0, 40.0])  # canvas +- a quarter
    assert float(out.stroke_width) == 50.0
    np.testing.assert_allclose(np.asarray(out.stroke.color), [0.0, 0.5, 1.0, 0.3])
    np.testing.assert_array_equal(np.asarray(out.points[1:]), np.asarray(p.points[1:]))
