"""Benchmark of the MNIST vector VAE (by hand, not in CI).

Measures, on the machine it runs on:
  * train steps per second at the chosen batch size (compile time reported apart);
  * the test-set reconstruction error (per-pixel MSE through z = mu) along a fixed step
    budget, the curve evaluated on the first --eval-limit test digits and the final point
    on the whole test split;
  * the accuracy of a softmax (multinomial logistic) regression, fitted on the raw
    training digits, on the original test digits and on their decoded reconstructions.

    python bench/bench_mnist.py --data /work/shared/data/mnist.npz --steps 600 \
        --json bench/mnist_results.json
    python bench/bench_mnist.py --data ../shared/data/mnist.npz --steps 101 --eval-every 50 \
        --eval-limit 64 --final-limit 640 --renderer scene     # steps/s of dv.render, for comparison

(bench/bench_mnist_quality.py measures the shipped weights; bench/bench_mnist_train.py
trains them.)

Prints a Markdown table and writes the numbers as JSON.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from diffvg_jax.apps import mnist_vae as mv
from diffvg_jax.apps.mnist_vae.data import load_mnist


def fit_logistic_regression(x: np.ndarray, y: np.ndarray, steps: int = 300, lr: float = 0.05,
                            weight_decay: float = 1e-4, seed: int = 0):
    """Softmax regression on flattened pixels, full-batch Adam.

    Args:
      x: float32 (N, 784) in [0, 1]. y: int (N,) labels 0..9.
    Returns:
      predict(x float32 (M, 784)) -> int (M,) labels.
    """
    del seed  # zero init: the problem is convex, the result does not depend on a seed
    params = {"w": jnp.zeros((x.shape[1], 10), jnp.float32), "b": jnp.zeros((10,), jnp.float32)}
    opt = optax.adam(lr)
    xj, yj = jnp.asarray(x), jnp.asarray(y, jnp.int32)

    def loss(p):
        logits = xj @ p["w"] + p["b"]
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, yj).mean()
        return ce + weight_decay * jnp.sum(p["w"] ** 2)

    @jax.jit
    def step(p, s):
        g = jax.grad(loss)(p)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s

    state = opt.init(params)
    for _ in range(steps):
        params, state = step(params, state)

    predict = jax.jit(lambda xs: jnp.argmax(xs @ params["w"] + params["b"], -1))
    return lambda xs: np.asarray(predict(jnp.asarray(xs)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--eval-limit", type=int, default=1000, help="test digits per curve point")
    ap.add_argument("--final-limit", type=int, default=0, help="test digits for the final point (0: all)")
    ap.add_argument("--ae", action="store_true", help="plain autoencoder instead of the VAE")
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--renderer", choices=("fast", "scene"), default="fast",
                    help="fast: mnist_vae.make_renderer (the default); scene: dv.render of each digit's "
                         "scene (the renderer used before; budgets max_pieces 4096, curve_pieces 8)")
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--png-dir", default=None, help="also save reconstruction / sample grids here")
    args = ap.parse_args(argv)

    data = load_mnist(args.data)
    x_train = data.x_train.astype(np.float32) / 255.0
    x_test = data.x_test.astype(np.float32) / 255.0
    x_final = x_test[:args.final_limit] if args.final_limit else x_test
    y_final = data.y_test[:len(x_final)]

    mcfg = mv.ModelConfig(variational=not args.ae)
    if args.renderer == "scene":
        mcfg = dataclasses.replace(mcfg, curve_pieces=8)
    tcfg = mv.TrainConfig(batch_size=args.batch_size, beta=args.beta, learning_rate=args.lr)
    renderer = mv.make_renderer(mcfg) if args.renderer == "fast" else mv.make_scene_renderer(mcfg)
    trainer = mv.Trainer(mcfg, tcfg, renderer=renderer)

    # Compile (first step) apart from the timed steps.
    t0 = time.perf_counter()
    trainer.fit(x_train, 1, progress=False)
    jax.block_until_ready(trainer.state)
    compile_s = time.perf_counter() - t0

    curve = []
    train_s = 0.0
    done = 1
    while done < args.steps:
        target = min(args.steps, (done // args.eval_every + 1) * args.eval_every)
        t0 = time.perf_counter()
        trainer.fit(x_train, target, progress=False)
        jax.block_until_ready(trainer.state)
        train_s += time.perf_counter() - t0
        timed_steps = target - 1
        ev = mv.evaluate(trainer.reconstruct, trainer.state.params, x_test[:args.eval_limit], args.batch_size)
        curve.append({"step": target, **ev, "train_s": round(train_s, 1)})
        print(f"step {target}: test[:{args.eval_limit}] mse {ev['mse']:.4f} bce {ev['bce']:.1f} "
              f"({timed_steps / train_s:.2f} steps/s)", file=sys.stderr, flush=True)
        done = target
    steps_per_s = (args.steps - 1) / train_s if train_s else float("nan")

    t0 = time.perf_counter()
    recon = mv.batched_apply(trainer.reconstruct, trainer.state.params, x_final, args.batch_size)
    recon_s = time.perf_counter() - t0
    final_mse = float(np.mean((recon - x_final) ** 2))
    blank_mse = float(np.mean(x_final ** 2))

    if args.png_dir:
        mv.save_grid(mv.pair_rows(x_final[:32], recon[:32]), f"{args.png_dir}/bench_reconstructions.png")
        mv.save_grid(trainer.sample(32, seed=1)[0], f"{args.png_dir}/bench_samples.png")

    predict = fit_logistic_regression(x_train.reshape(len(x_train), -1), data.y_train)
    acc_orig = float(np.mean(predict(x_final.reshape(len(x_final), -1)) == y_final))
    acc_recon = float(np.mean(predict(recon.reshape(len(recon), -1)) == y_final))
    acc_train = float(np.mean(predict(x_train.reshape(len(x_train), -1)) == data.y_train))

    result = {
        "device": f"{jax.devices()[0].platform} ({platform.processor() or platform.machine()})",
        "config": {"model": mv.config_dict(mcfg), "train": mv.config_dict(tcfg)},
        "renderer": args.renderer, "steps": args.steps, "batch_size": args.batch_size,
        "compile_s": round(compile_s, 1), "steps_per_s": round(steps_per_s, 3),
        "curve": curve,
        "final_test_digits": len(x_final), "final_mse": final_mse, "blank_canvas_mse": blank_mse,
        "recon_digits_per_s": round(len(x_final) / recon_s, 1),
        "logreg_train_acc": acc_train, "logreg_acc_original": acc_orig, "logreg_acc_decoded": acc_recon,
    }
    print("\n| quantity | value |\n|---|---|")
    print(f"| train steps/s (batch {args.batch_size}, {result['device']}) | {steps_per_s:.2f} |")
    print(f"| first step incl. compile | {compile_s:.0f} s |")
    print(f"| test MSE per pixel after {args.steps} steps ({len(x_final)} digits) | {final_mse:.4f} "
          f"(empty canvas: {blank_mse:.4f}) |")
    print(f"| logistic regression on original test digits | {acc_orig:.1%} |")
    print(f"| same classifier on decoded test digits | {acc_recon:.1%} |")
    print("\n| step | test MSE | test BCE/digit |\n|---|---|---|")
    for r in curve:
        print(f"| {r['step']} | {r['mse']:.4f} | {r['bce']:.1f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
