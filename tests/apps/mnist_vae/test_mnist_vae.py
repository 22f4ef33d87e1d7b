"""Vector VAE: decoder ranges, losses against independent references, training, checkpoints,
CLI. These tests use a small stand-in rasteriser (soft discs along each curve) so that
they check the model and the training machinery and compile fast; the diffvg_jax renderer
itself is exercised in test_mnist_render.py."""
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from diffvg_jax.apps import mnist_vae as mv

TINY = mv.ModelConfig(latent_dim=4, num_paths=2, num_segments=1, hidden=32, enc_features=(8,))
TRAIN = mv.TrainConfig(learning_rate=3e-3, batch_size=8, beta=0.1, seed=0)


def stand_in_renderer(cfg: mv.ModelConfig, samples_per_segment: int = 6):
    """Soft strokes: each pixel's coverage is a sigmoid of (half width - distance to the
    nearest of a few points sampled on the curve); strokes combine by 'over'."""
    c = cfg.canvas
    ys, xs = jnp.meshgrid(jnp.arange(c) + 0.5, jnp.arange(c) + 0.5, indexing="ij")
    pix = jnp.stack([xs, ys], -1)  # (H, W, 2)
    t = jnp.linspace(0.0, 1.0, samples_per_segment)
    basis = jnp.stack([(1 - t) ** 3, 3 * t * (1 - t) ** 2, 3 * t ** 2 * (1 - t), t ** 3], -1)  # (T, 4)

    def render(strokes):
        pts = strokes.points  # (B, K, 1+3S, 2)
        idx = jnp.arange(cfg.num_segments)[:, None] * 3 + jnp.arange(4)[None]
        segs = pts[:, :, idx]  # (B, K, S, 4, 2)
        samples = jnp.einsum("tj,bksjd->bkstd", basis, segs).reshape(pts.shape[0], pts.shape[1], -1, 2)
        d2 = jnp.sum((pix[None, None, :, :, None] - samples[:, :, None, None]) ** 2, -1).min(-1)
        dist = jnp.sqrt(d2 + 1e-6)
        cov = jax.nn.sigmoid(2.0 * (strokes.widths[..., None, None] / 2 - dist)) * strokes.alphas[..., None, None]
        return 1.0 - jnp.prod(1.0 - cov, axis=1)

    return render


def synthetic_digits(n=32, seed=0):
    """Bars and rings, float32 (n, 28, 28) in [0, 1]: learnable by two strokes."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:28, 0:28] + 0.5
    out = np.zeros((n, 28, 28), np.float32)
    for i in range(n):
        cx, cy = rng.uniform(10, 18, 2)
        if i % 2:
            out[i] = np.clip(2.0 - np.abs(xs - cx) * 1.5, 0, 1) * (np.abs(ys - cy) < 9)
        else:
            r = np.hypot(xs - cx, ys - cy)
            out[i] = np.clip(2.0 - np.abs(r - 6) * 1.5, 0, 1)
    return out


# One renderer object for the module: compiled steps are cached per (config, renderer).
RENDER = stand_in_renderer(TINY)


@pytest.fixture(scope="module")
def trainer():
    return mv.Trainer(TINY, TRAIN, renderer=RENDER)


@pytest.fixture(scope="module")
def data():
    return synthetic_digits()


def test_decoder_ranges_even_for_extreme_latents(trainer):
    cfg = TINY
    z = jnp.concatenate([jax.random.normal(jax.random.PRNGKey(0), (5, cfg.latent_dim)),
                         jnp.full((1, cfg.latent_dim), 1e4), jnp.full((1, cfg.latent_dim), -1e4)])
    s = trainer.model.apply(trainer.state.params, z, method=mv.VectorVAE.decode)
    assert s.points.shape == (7, cfg.num_paths, 1 + 3 * cfg.num_segments, 2)
    assert s.widths.shape == s.alphas.shape == (7, cfg.num_paths)
    for a in s:
        assert np.all(np.isfinite(a))
    assert np.all(s.points >= cfg.margin) and np.all(s.points <= cfg.canvas - cfg.margin)
    assert np.all(s.widths >= cfg.min_width) and np.all(s.widths <= cfg.max_width)
    assert np.all(s.alphas >= 0) and np.all(s.alphas <= 1)
    # the random initial network must not put every point in one place
    assert float(jnp.std(s.points[:5])) > 0.05


def test_min_alpha_bounds_the_opacities():
    import dataclasses
    cfg = dataclasses.replace(TINY, min_alpha=0.5)
    model = mv.VectorVAE(cfg)
    params = mv.init_state(model, TRAIN).params
    z = jnp.concatenate([jax.random.normal(jax.random.PRNGKey(1), (5, cfg.latent_dim)),
                         jnp.full((1, cfg.latent_dim), 1e4), jnp.full((1, cfg.latent_dim), -1e4)])
    alphas = np.asarray(model.apply(params, z, method=mv.VectorVAE.decode).alphas)
    assert np.all(alphas >= 0.5) and np.all(alphas <= 1)
    assert alphas.min() < 0.55 and alphas.max() > 0.95   # both ends reached, not a margin


def test_opaque_strokes_without_learned_alpha():
    cfg = mv.ModelConfig(latent_dim=3, num_paths=3, num_segments=2, hidden=16, enc_features=(4,),
                         learn_alpha=False, variational=False)
    model = mv.VectorVAE(cfg)
    params = mv.init_state(model, TRAIN).params
    mu, logvar = model.apply(params, jnp.zeros((2, 28, 28)), method=mv.VectorVAE.encode)
    assert logvar is None and mu.shape == (2, 3)
    s = model.apply(params, mu, method=mv.VectorVAE.decode)
    np.testing.assert_array_equal(s.alphas, np.ones((2, 3)))
    assert "alphas" not in params["params"]["decoder"]


def test_bce_and_l2_match_direct_formulas():
    rng = np.random.default_rng(0)
    recon = rng.uniform(0.01, 0.99, (3, 5, 5)).astype(np.float32)
    target = rng.uniform(0, 1, (3, 5, 5)).astype(np.float32)
    bce = sum(-(t * math.log(p) + (1 - t) * math.log(1 - p))
              for p, t in zip(recon[1].ravel(), target[1].ravel()))
    got = mv.reconstruction_loss(jnp.asarray(recon), jnp.asarray(target), "bce")
    np.testing.assert_allclose(got[1], bce, rtol=1e-5)
    l2 = mv.reconstruction_loss(jnp.asarray(recon), jnp.asarray(target), "l2")
    np.testing.assert_allclose(l2, ((recon - target) ** 2).sum((1, 2)), rtol=1e-5)
    # saturated renders (exact 0 and 1) keep finite losses and gradients
    sat = jnp.asarray(np.stack([np.zeros((5, 5)), np.ones((5, 5)), np.full((5, 5), .5)]), jnp.float32)
    g = jax.grad(lambda r: mv.reconstruction_loss(r, jnp.asarray(target), "bce").sum())(sat)
    assert np.all(np.isfinite(g))
    with pytest.raises(ValueError, match="kind"):
        mv.reconstruction_loss(sat, sat, "l1")


def test_kl_matches_monte_carlo():
    mu = jnp.array([[0.5, -1.0, 2.0]])
    logvar = jnp.array([[0.3, -0.7, 0.0]])
    z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(jax.random.PRNGKey(0), (200_000, 3))
    log_q = -0.5 * jnp.sum((z - mu) ** 2 / jnp.exp(logvar) + logvar + jnp.log(2 * jnp.pi), -1)
    log_p = -0.5 * jnp.sum(z ** 2 + jnp.log(2 * jnp.pi), -1)
    mc = float(jnp.mean(log_q - log_p))
    np.testing.assert_allclose(float(mv.gaussian_kl(mu, logvar)[0]), mc, rtol=0.02)


def test_training_reduces_loss(trainer, data):
    loss_fn = jax.jit(mv.make_loss_fn(trainer.model, TRAIN, trainer.renderer))
    key = jax.random.PRNGKey(42)
    before, _ = loss_fn(trainer.state.params, jnp.asarray(data[:16]), key)
    trainer.fit(data, 40, progress=False)
    after, metrics = loss_fn(trainer.state.params, jnp.asarray(data[:16]), key)
    assert trainer.step == 40
    assert float(after) < 0.8 * float(before), (float(before), float(after))
    ev = mv.evaluate(trainer.reconstruct, trainer.state.params, data[:10], batch_size=8)
    blank = float(np.mean(data[:10] ** 2))  # error of predicting an empty canvas
    assert ev["mse"] < blank


def test_resume_is_bitwise_identical(tmp_path, data):
    render = RENDER
    straight = mv.Trainer(TINY, TRAIN, renderer=render)
    straight.fit(data, 4, progress=False)

    first = mv.Trainer(TINY, TRAIN, renderer=render)
    first.fit(data, 2, progress=False, ckpt_path=tmp_path / "ck.msgpack")
    second = mv.Trainer(TINY, TRAIN, renderer=render)
    second.state, saved_train = mv.load_checkpoint(tmp_path / "ck.msgpack", second.state, TINY)
    assert second.step == 2 and saved_train["batch_size"] == TRAIN.batch_size
    second.fit(data, 4, progress=False)
    for a, b in zip(jax.tree_util.tree_leaves(straight.state), jax.tree_util.tree_leaves(second.state)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_checkpoint_from_other_config_is_refused(tmp_path, trainer):
    path = mv.save_checkpoint(tmp_path / "ck.msgpack", trainer.state, TINY, TRAIN)
    other = mv.ModelConfig(latent_dim=4, num_paths=3, num_segments=1, hidden=32, enc_features=(8,))
    template = mv.init_state(mv.VectorVAE(other), TRAIN)
    with pytest.raises(mv.CheckpointError, match=r"num_paths: checkpoint 2 vs requested 3"):
        mv.load_checkpoint(path, template, other)


def test_files_from_before_min_alpha_load_with_opacity_down_to_zero(tmp_path, trainer):
    """A weights or checkpoint file written before ModelConfig.min_alpha existed was trained
    with opacities in (0, 1]: it loads as min_alpha 0, not as today's default."""
    import flax.serialization
    import dataclasses
    unbounded = dataclasses.replace(TINY, min_alpha=0.0)
    bounded = dataclasses.replace(TINY, min_alpha=0.5)
    for save, name in ((lambda p: mv.save_weights(p, trainer.state.params, unbounded, TRAIN), "w.msgpack"),
                       (lambda p: mv.save_checkpoint(p, trainer.state, unbounded, TRAIN), "c.msgpack")):
        path = tmp_path / name
        save(path)
        payload = flax.serialization.msgpack_restore(path.read_bytes())
        stored = json.loads(payload["model_config"])
        del stored["min_alpha"]
        payload["model_config"] = json.dumps(stored)
        path.write_bytes(flax.serialization.msgpack_serialize(payload))
    assert mv.load_weights(tmp_path / "w.msgpack")[0] == unbounded
    mv.load_checkpoint(tmp_path / "c.msgpack", trainer.state, unbounded)          # accepted as it was
    with pytest.raises(mv.CheckpointError, match=r"min_alpha: checkpoint 0.0 vs requested 0.5"):
        mv.load_checkpoint(tmp_path / "c.msgpack", trainer.state, bounded)


def test_garbage_checkpoint_is_refused(tmp_path, trainer):
    bad = tmp_path / "bad.msgpack"
    bad.write_bytes(b"\x00\x01 definitely not msgpack \xff")
    with pytest.raises(mv.CheckpointError, match="bad.msgpack"):
        mv.load_checkpoint(bad, trainer.state, TINY)
    import flax.serialization
    bad.write_bytes(flax.serialization.msgpack_serialize({"format": "something else"}))
    with pytest.raises(mv.CheckpointError, match="not a mnist_vae checkpoint"):
        mv.load_checkpoint(bad, trainer.state, TINY)


def test_image_grid_layout():
    imgs = np.stack([np.full((2, 3), v, np.float32) for v in (0.0, 1.0, 0.5)])
    grid = mv.image_grid(imgs, ncols=2, pad=1)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1)
    assert grid[1, 1] == 0 and grid[1, 5] == 255 and grid[4, 1] == 128
    assert grid[4, 5] == round(0.35 * 255)  # the empty cell keeps the border grey


def test_interpolation_endpoints(trainer, data):
    imgs, strokes = trainer.interpolate(data[0], data[1], steps=5)
    assert imgs.shape == (5, 28, 28)
    ends, _ = trainer.decode(trainer.state.params, jnp.asarray(trainer.encode(data[:2])))
    np.testing.assert_allclose(imgs[[0, -1]], np.asarray(ends), atol=1e-5)


def _cli_args(tmp_path, data_path, steps, *extra):
    return ["--data", str(data_path), "--steps", str(steps), "--out", str(tmp_path / "run"),
            "--latent-dim", "4", "--paths", "2", "--segments", "1", "--hidden", "32",
            "--enc-features", "8", "--batch-size", "8", "--eval-every", "2", "--ckpt-every", "2",
            "--lr", str(TRAIN.learning_rate), "--beta", str(TRAIN.beta),
            "--num-samples", "4", "--no-progress", *extra]


def test_cli_trains_resumes_and_refuses_other_config(tmp_path, capsys):
    x = (synthetic_digits(20, seed=3) * 255).astype(np.uint8)
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=x[:16], y_train=np.zeros(16, np.uint8), x_test=x[16:], y_test=np.ones(4, np.uint8))
    render = RENDER
    assert mv.main(_cli_args(tmp_path, npz, 2), renderer=render) == 0
    run = tmp_path / "run"
    for name in ("checkpoint.msgpack", "metrics.jsonl", "reconstructions.png", "samples.png",
                 "config.json", "final_metrics.json"):
        assert (run / name).is_file(), name
    from PIL import Image
    assert Image.open(run / "reconstructions.png").size == ((8 * 29 + 1) * 3, (1 * 29 + 1) * 3)
    assert mv.main(_cli_args(tmp_path, npz, 4), renderer=render) == 0
    curve = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in curve] == [2, 4]  # resumed at 2, not restarted
    assert "resuming from" in capsys.readouterr().err

    assert mv.main(_cli_args(tmp_path, npz, 6, "--paths", "3"), renderer=render) == 2
    err = capsys.readouterr().err
    assert "num_paths" in err and "Traceback" not in err


def test_cli_bad_data_exits_2(tmp_path, capsys):
    assert mv.main(_cli_args(tmp_path, tmp_path / "missing.npz", 1)) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bad.npz").write_bytes(b"nope")
    assert mv.main(_cli_args(tmp_path, tmp_path / "bad.npz", 1)) == 2
    assert "bad.npz" in capsys.readouterr().err


def test_config_validation():
    with pytest.raises(ValueError, match="min_width"):
        mv.ModelConfig(min_width=3.0, max_width=1.0)
    with pytest.raises(ValueError, match="recon_loss"):
        mv.TrainConfig(recon_loss="l1")
    with pytest.raises(ValueError, match="num_paths"):
        mv.ModelConfig(num_paths=0)
    with pytest.raises(ValueError, match="min_alpha"):
        mv.ModelConfig(min_alpha=1.0)
