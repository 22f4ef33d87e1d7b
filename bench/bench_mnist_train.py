"""Train the shipped MNIST vector VAE weights (by hand, not in CI).

Trains on the first 55,000 training digits and holds the last 5,000 out: every
--eval-every steps the per-pixel MSE of the held-out digits' reconstructions (z = mu) is
measured; the best parameters so far are written to --weights, and training stops when the
held-out error has not improved for --patience evaluations in a row, or at --max-minutes
of wall clock. The test split is never looked at here (bench/bench_mnist_quality.py
measures it). --init FILE starts from trained weights (warm start: the parameters whose
path and shape match the default model are taken, the optimiser state is fresh);
--decay-steps N decays the learning rate from --lr to --lr-final along a cosine over N steps.

    python bench/bench_mnist_train.py --data ../shared/data/mnist.npz \
        --weights diffvg_jax/apps/mnist_vae/weights/mnist_vae.msgpack --log /tmp/train.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import jax
import numpy as np
import optax

from diffvg_jax.apps import mnist_vae as mv
from diffvg_jax.apps.mnist_vae.data import load_mnist

HELD_OUT = 5000


def warm_start(trainer, path) -> dict:
    """Put the parameters of the weights file ``path`` into ``trainer.state`` wherever their
    path and shape match the trainer's model (the rest keep their fresh initialisation)."""
    _, _, params, info = mv.load_weights(path)
    flat = {jax.tree_util.keystr(k): v for k, v in jax.tree_util.tree_flatten_with_path(params)[0]}
    taken, fresh = [], []

    def pick(key, leaf):
        name = jax.tree_util.keystr(key)
        if name in flat and flat[name].shape == leaf.shape:
            taken.append(name)
            return flat[name]
        fresh.append(name)
        return leaf

    new = jax.tree_util.tree_map_with_path(pick, trainer.state.params)
    trainer.state = trainer.state.replace(params=new)
    return {"path": str(path), "steps": info.get("steps"), "taken": len(taken), "fresh": fresh}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--weights", required=True, help="write the best parameters here")
    ap.add_argument("--log", default=None, help="append one JSON line per evaluation")
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--eval-limit", type=int, default=2000, help="held-out digits per evaluation")
    ap.add_argument("--patience", type=int, default=3)
    ap.add_argument("--max-minutes", type=float, default=38.0)
    ap.add_argument("--max-steps", type=int, default=1_000_000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta", type=float, default=0.1, help="KL weight (the shipped weights: 0.1)")
    ap.add_argument("--init", default=None, help="warm start from these weights")
    ap.add_argument("--decay-steps", type=int, default=0, help="cosine learning-rate decay over N steps (0: constant)")
    ap.add_argument("--lr-final", type=float, default=1e-4)
    ap.add_argument("--store-dtype", choices=("float16", "float32"), default="float16",
                    help="precision of the parameters in the weights file (float16: half the size)")
    ap.add_argument("--no-alpha", action="store_true",
                    help="opaque strokes (ModelConfig(learn_alpha=False)): no stroke can fade to nothing")
    ap.add_argument("--min-alpha", type=float, default=mv.ModelConfig.min_alpha,
                    help="lowest learned opacity (ModelConfig.min_alpha; the shipped weights were fine-tuned with 0.5): no stroke can die")
    args = ap.parse_args(argv)

    data = load_mnist(args.data)
    x_all = data.x_train.astype(np.float32) / 255.0
    x_train, x_val = x_all[:-HELD_OUT], x_all[-HELD_OUT:][:args.eval_limit]
    mcfg = mv.ModelConfig(learn_alpha=not args.no_alpha, min_alpha=args.min_alpha)
    tcfg = mv.TrainConfig(learning_rate=args.lr, beta=args.beta)
    trainer = mv.Trainer(mcfg, tcfg)
    init_info = None
    if args.init:
        init_info = warm_start(trainer, args.init)
        print(json.dumps({"init": init_info}), file=sys.stderr, flush=True)
    if args.decay_steps:
        lr = optax.cosine_decay_schedule(args.lr, args.decay_steps, alpha=args.lr_final / args.lr)
        optimizer = optax.chain(optax.clip_by_global_norm(tcfg.grad_clip), optax.adam(lr))
        trainer.train_step = mv.make_train_step(trainer.model, tcfg, trainer.renderer, optimizer)
        trainer.state = trainer.state.replace(opt_state=optimizer.init(trainer.state.params))
    pieces = jax.jit(lambda params, x: mv.pieces_per_digit(trainer.model.apply(
        params, trainer.model.apply(params, x, method=mv.VectorVAE.encode)[0], method=mv.VectorVAE.decode), mcfg))
    t0 = time.perf_counter()
    best, best_step, stale, records = float("inf"), 0, 0, []
    while trainer.step < args.max_steps:
        trainer.fit(x_train, trainer.step + args.eval_every, progress=False)
        ev = mv.evaluate(trainer.reconstruct, trainer.state.params, x_val, tcfg.batch_size)
        elapsed = time.perf_counter() - t0
        need = pieces(trainer.state.params, x_val[:tcfg.batch_size])
        rec = {"step": trainer.step, "val_mse": ev["mse"], "val_bce": ev["bce"], "elapsed_s": round(elapsed, 1),
               "pieces_per_batch": int(need.sum()), "piece_budget": tcfg.batch_size * mcfg.max_pieces}
        records.append(rec)
        if ev["mse"] < best:
            best, best_step, stale = ev["mse"], trainer.step, 0
            info = {"steps": trainer.step, "val_mse": ev["mse"], "val_bce": ev["bce"], "train_digits": len(x_train),
                    "held_out": f"last {HELD_OUT} training digits (first {len(x_val)} evaluated)",
                    "curve": records, "init": init_info,
                    "lr_schedule": (f"cosine {args.lr:g} -> {args.lr_final:g} over {args.decay_steps} steps"
                                    if args.decay_steps else f"constant {args.lr:g}")}
            mv.save_weights(args.weights, jax.device_get(trainer.state.params), mcfg, tcfg, info,
                            dtype=np.dtype(args.store_dtype))
        else:
            stale += 1
        print(json.dumps({**rec, "best_step": best_step, "stale": stale}), file=sys.stderr, flush=True)
        if args.log:
            with open(args.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if stale >= args.patience or elapsed > 60.0 * args.max_minutes:
            break
    print(f"best held-out MSE {best:.5f} at step {best_step}; weights in {args.weights}", file=sys.stderr)


if __name__ == "__main__":
    main()
