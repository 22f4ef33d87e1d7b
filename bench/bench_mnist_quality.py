"""Quality of trained MNIST vector VAE weights (by hand, not in CI).

Measures, for the shipped weights (or --weights FILE):
  * the test-set reconstruction error through z = mu: per-pixel MSE, per-digit BCE
    (summed over the 784 pixels) and per-pixel MAE on all 10,000 test digits;
  * the accuracy of a small CNN classifier, trained on the raw training digits (cached in
    --classifier), on the original test digits and on their reconstructions;
  * on --samples digits decoded from the prior N(0, I): the fraction the classifier labels
    with confidence (softmax maximum) >= 0.9, and the label histogram;
  * optionally PNG grids of reconstructions (original | reconstruction pairs) and samples.

    python bench/bench_mnist_quality.py --data ../shared/data/mnist.npz \
        --classifier /tmp/mnist_cnn.msgpack --png-dir assets --json /tmp/quality.json
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from diffvg_jax.apps import mnist_vae as mv
from diffvg_jax.apps.mnist_vae.data import load_mnist


class DigitCNN(nn.Module):
    """float32 (B, 28, 28) digits in [0, 1] -> float32 (B, 10) logits."""

    @nn.compact
    def __call__(self, x):
        h = x[..., None]
        for features in (32, 64):
            h = nn.relu(nn.Conv(features, (3, 3))(h))
            h = nn.max_pool(h, (2, 2), strides=(2, 2))
        h = nn.relu(nn.Dense(128)(h.reshape(h.shape[0], -1)))
        return nn.Dense(10)(h)


def train_classifier(x, y, epochs: int = 2, batch: int = 128, seed: int = 0):
    """DigitCNN params fitted on x float32 (N, 28, 28) in [0, 1], y int (N,) (Adam 1e-3)."""
    model = DigitCNN()
    params = model.init(jax.random.PRNGKey(seed), jnp.zeros((1, 28, 28)))
    opt = optax.adam(1e-3)
    state = opt.init(params)

    @jax.jit
    def step(params, state, xb, yb):
        def loss(p):
            return optax.softmax_cross_entropy_with_integer_labels(model.apply(p, xb), yb).mean()
        g = jax.grad(loss)(params)
        u, state = opt.update(g, state, params)
        return optax.apply_updates(params, u), state

    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        perm = rng.permutation(len(x))
        for i in range(0, len(x) - batch + 1, batch):
            idx = perm[i:i + batch]
            params, state = step(params, state, jnp.asarray(x[idx]), jnp.asarray(y[idx], jnp.int32))
    return params


def cached_classifier(path, x, y):
    """A classifier's ``probs(images float32 (N, 28, 28)) -> float32 (N, 10)``, trained once
    and cached in ``path`` (msgpack)."""
    template = DigitCNN().init(jax.random.PRNGKey(0), jnp.zeros((1, 28, 28)))
    if path and os.path.exists(path):
        params = flax.serialization.from_bytes(template, open(path, "rb").read())
    else:
        params = train_classifier(x, y)
        if path:
            with open(path, "wb") as f:
                f.write(flax.serialization.to_bytes(params))
    apply = jax.jit(lambda xs: jax.nn.softmax(DigitCNN().apply(params, xs)))
    return lambda xs: np.concatenate([np.asarray(apply(jnp.asarray(xs[i:i + 500])))
                                      for i in range(0, len(xs), 500)])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", default=None, help="default: the shipped weights")
    ap.add_argument("--classifier", default=None, help="cache file of the classifier's parameters")
    ap.add_argument("--samples", type=int, default=10000, help="prior samples to classify")
    ap.add_argument("--png-dir", default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    data = load_mnist(args.data)
    x_train = data.x_train.astype(np.float32) / 255.0
    x_test = data.x_test.astype(np.float32) / 255.0
    probs = cached_classifier(args.classifier, x_train, data.y_train)

    mcfg, params = mv.load_pretrained(args.weights)
    decode, reconstruct = mv.inference_functions(mcfg)
    err = mv.evaluate(reconstruct, params, x_test, 64)
    recon = mv.batched_apply(reconstruct, params, x_test, 64)
    z = np.random.default_rng(1).standard_normal((args.samples, mcfg.latent_dim)).astype(np.float32)
    samples = mv.batched_apply(decode, params, z, 64)
    p_samples = probs(samples)
    confident = p_samples.max(-1) >= 0.9

    result = {
        "test_digits": len(x_test), **{f"test_{k}": v for k, v in err.items()},
        "blank_canvas_mse": float(np.mean(x_test ** 2)),
        "cnn_acc_original": float(np.mean(probs(x_test).argmax(-1) == data.y_test)),
        "cnn_acc_reconstructed": float(np.mean(probs(recon).argmax(-1) == data.y_test)),
        "samples": args.samples, "samples_confident_0.9": float(confident.mean()),
        "confident_sample_labels": np.bincount(p_samples.argmax(-1)[confident], minlength=10).tolist(),
    }
    if args.png_dir:
        mv.save_grid(mv.pair_rows(x_test[:32], recon[:32]), f"{args.png_dir}/mnist_vae_reconstructions.png")
        mv.save_grid(samples[:64], f"{args.png_dir}/mnist_vae_samples.png")
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    print(f"test MSE {err['mse']:.4f}, CNN on reconstructions {result['cnn_acc_reconstructed']:.1%} "
          f"(originals {result['cnn_acc_original']:.1%}), confident samples {confident.mean():.1%}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
