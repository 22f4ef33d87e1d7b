"""The shipped trained weights: they load, reconstruct real test digits far better than an
untrained model of the same configuration, and the CLI's --sample / --reconstruct modes
draw PNG grids with them at once.

``data/mnist_test_head.npz`` holds the first 32 MNIST test digits (uint8 (32, 28, 28),
labels uint8 (32,)), so these tests run without the full data set. One decode program
(batch 64) is compiled for the whole module (``mv.inference_functions`` caches it)."""
import json
from pathlib import Path

import jax
import numpy as np
import pytest
from PIL import Image

from diffvg_jax.apps import mnist_vae as mv

HEAD = Path(__file__).with_name("data") / "mnist_test_head.npz"
# Per-pixel MSE on the 32 digits: the shipped weights score ~0.02, an untrained model of
# the same configuration ~0.1 and an empty canvas 0.11 (measured when the weights were made).
MSE_BOUND = 0.045


@pytest.fixture(scope="module")
def digits():
    with np.load(HEAD) as f:
        return f["x_test"].astype(np.float32) / 255.0, f["y_test"]


@pytest.fixture(scope="module")
def pretrained():
    mcfg, params = mv.load_pretrained()
    return mcfg, params, mv.inference_functions(mcfg)


def test_shipped_weights_reconstruct_test_digits(pretrained, digits):
    mcfg, params, (decode, reconstruct) = pretrained
    x = digits[0]
    recon = mv.batched_apply(reconstruct, params, x, 64)
    assert recon.shape == x.shape and np.all(np.isfinite(recon))
    trained = float(np.mean((recon - x) ** 2))
    untrained_params = mv.init_state(mv.VectorVAE(mcfg), mv.TrainConfig(seed=3)).params
    untrained = float(np.mean((mv.batched_apply(reconstruct, untrained_params, x, 64) - x) ** 2))
    assert trained < MSE_BOUND < untrained, (trained, untrained)
    assert trained < 0.5 * float(np.mean(x ** 2))   # well below an empty canvas


def test_reconstructions_fit_the_piece_budget(pretrained, digits):
    # The renderer shares B * max_pieces boundary pieces over a batch of B digits and drops
    # what does not fit (the digits would lose strokes); the trained drawings need less.
    mcfg, params, (_, reconstruct) = pretrained
    x = np.concatenate([digits[0], digits[0]])[:64]
    _, strokes = reconstruct(params, x)
    need = np.asarray(jax.jit(lambda s: mv.pieces_per_digit(s, mcfg))(strokes))
    assert need.sum() < 0.9 * len(x) * mcfg.max_pieces, (need.sum(), need.max())


def test_shipped_weights_file(pretrained):
    mcfg, _, _ = pretrained
    assert mv.PRETRAINED_PATH.stat().st_size < 1_200_000     # parameters stored as float16
    loaded_mcfg, tcfg, _, info = mv.load_weights(mv.PRETRAINED_PATH)
    assert loaded_mcfg == mcfg and isinstance(tcfg, mv.TrainConfig)
    assert info["steps"] > 0 and info["val_mse"] < MSE_BOUND


def _grid_size(n, ncols=8, scale=3):
    rows = -(-n // ncols)
    return (ncols * 29 + 1) * scale, (rows * 29 + 1) * scale


def test_cli_sample_and_reconstruct(tmp_path, digits, pretrained):
    out = tmp_path / "draw"
    assert mv.main(["--sample", "10", "--out", str(out), "--quiet"]) == 0
    assert Image.open(out / "samples.png").size == _grid_size(10)
    x, y = digits
    npz = tmp_path / "mnist.npz"
    raw = (x * 255).astype(np.uint8)
    np.savez(npz, x_train=raw[:8], y_train=y[:8], x_test=raw[:5], y_test=y[:5])
    assert mv.main(["--reconstruct", "5", "--data", str(npz), "--out", str(out), "--quiet"]) == 0
    assert Image.open(out / "reconstructions.png").size == _grid_size(10)   # 5 pairs
    assert not (out / "checkpoint.msgpack").exists()                       # nothing trained


def test_cli_weights_option(tmp_path, pretrained, capsys):
    mcfg, params, _ = pretrained
    path = mv.save_weights(tmp_path / "w.msgpack", params, mcfg, mv.TrainConfig(), {"steps": 1})
    assert mv.main(["--sample", "3", "--weights", str(path), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert (tmp_path / "a" / "samples.png").is_file()
    (tmp_path / "bad.msgpack").write_bytes(b"nope")
    assert mv.main(["--sample", "3", "--weights", str(tmp_path / "bad.msgpack"), "--out", str(tmp_path / "b")]) == 2
    assert "bad.msgpack" in capsys.readouterr().err


def test_weights_stored_as_float16(tmp_path, pretrained):
    # save_weights(dtype=float16) halves the file; load_weights always returns float32.
    mcfg, params, _ = pretrained
    full = mv.save_weights(tmp_path / "f32.msgpack", params, mcfg, mv.TrainConfig())
    half = mv.save_weights(tmp_path / "f16.msgpack", params, mcfg, mv.TrainConfig(), dtype=np.float16)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = mv.load_weights(half)[2]
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(loaded)):
        assert b.dtype == np.float32 and a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-4)


def test_training_needs_steps(tmp_path, capsys):
    assert mv.main(["--data", str(HEAD), "--out", str(tmp_path / "c"), "--quiet"]) == 2
    assert "--steps" in capsys.readouterr().err


def test_weights_info_is_json(pretrained):
    info = mv.load_weights(mv.PRETRAINED_PATH)[3]
    assert json.loads(json.dumps(info)) == info
