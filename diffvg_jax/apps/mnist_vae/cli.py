"""``diffvg-mnist-vae``: train the vector (Bezier-stroke) VAE on MNIST.

    diffvg-mnist-vae --data mnist.npz --steps 2000 --out runs/mnist

writes ``checkpoint.msgpack`` (resumed automatically on the next run with the same model
configuration), ``config.json``, ``metrics.jsonl`` (the test-set curve),
``final_metrics.json``, ``reconstructions.png``, ``samples.png`` and
``svg/sample_XX.svg``. ``--help`` lists the other options. Bad input gives a one-line
message and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from diffvg_jax.apps.common.cli import Parser, UsageError, check_writable, run_main
from .checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint
from .config import RECON_LOSSES, ModelConfig, TrainConfig, config_dict
from .data import MnistDataError, download_mnist, load_mnist
from .pictures import pair_rows, save_grid, save_svgs
from .render import Renderer
from .train import batched_apply, evaluate
from .trainer import Trainer

PROG = "diffvg-mnist-vae"


def build_parser() -> argparse.ArgumentParser:
    m, t = ModelConfig(), TrainConfig()
    p = Parser(prog=PROG, description="Train a vector (Bezier-stroke) VAE on MNIST with diffvg_jax.")
    p.add_argument("--data", help="Keras mnist.npz or a directory of IDX files (gz or not)")
    p.add_argument("--download", action="store_true",
                   help="fetch MNIST (checksum-verified) into --cache-dir when --data is not given")
    p.add_argument("--cache-dir", default=None, help="download cache (default ~/.cache/diffvg_jax/mnist)")
    p.add_argument("--steps", type=int, required=True, help="train until this step count (resumes count)")
    p.add_argument("--out", required=True, help="output directory (checkpoint, metrics, PNG, SVG)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint in --out")
    g = p.add_argument_group("model (must match a checkpoint to resume)")
    g.add_argument("--latent-dim", type=int, default=m.latent_dim)
    g.add_argument("--paths", type=int, default=m.num_paths, help="strokes per digit")
    g.add_argument("--segments", type=int, default=m.num_segments, help="cubic segments per stroke")
    g.add_argument("--hidden", type=int, default=m.hidden)
    g.add_argument("--enc-features", type=int, nargs="+", default=list(m.enc_features))
    g.add_argument("--ae", action="store_true", help="plain autoencoder (no KL, z = mu)")
    g.add_argument("--min-width", type=float, default=m.min_width)
    g.add_argument("--max-width", type=float, default=m.max_width)
    g.add_argument("--no-alpha", action="store_true", help="opaque strokes (no learned opacity)")
    g.add_argument("--max-pieces", type=int, default=m.max_pieces, help="renderer work bound")
    g.add_argument("--curve-pieces", type=int, default=m.curve_pieces,
                   help="renderer line pieces per cubic segment")
    g = p.add_argument_group("training")
    g.add_argument("--batch-size", type=int, default=t.batch_size)
    g.add_argument("--lr", type=float, default=t.learning_rate)
    g.add_argument("--beta", type=float, default=t.beta, help="KL weight")
    g.add_argument("--loss", choices=RECON_LOSSES, default=t.recon_loss)
    g.add_argument("--seed", type=int, default=t.seed)
    g.add_argument("--train-limit", type=int, default=0, help="use only the first N training digits")
    g.add_argument("--eval-every", type=int, default=500, help="test-set evaluation interval (0: end only)")
    g.add_argument("--eval-limit", type=int, default=0, help="evaluate on the first N test digits (0: all)")
    g.add_argument("--ckpt-every", type=int, default=500)
    g.add_argument("--num-samples", type=int, default=16, help="digits in the PNG grids and SVGs")
    g.add_argument("--no-progress", action="store_true")
    return p


def configs_from_args(args) -> Tuple[ModelConfig, TrainConfig]:
    mcfg = ModelConfig(latent_dim=args.latent_dim, num_paths=args.paths, num_segments=args.segments,
                       hidden=args.hidden, enc_features=tuple(args.enc_features), variational=not args.ae,
                       min_width=args.min_width, max_width=args.max_width, learn_alpha=not args.no_alpha,
                       max_pieces=args.max_pieces, curve_pieces=args.curve_pieces)
    tcfg = TrainConfig(learning_rate=args.lr, batch_size=args.batch_size, beta=args.beta,
                       recon_loss=args.loss, seed=args.seed)
    return mcfg, tcfg


def run(args, renderer: Optional[Renderer] = None) -> Dict[str, float]:
    """Everything the CLI does, given parsed ``args``; returns the final test metrics."""
    if args.steps < 0:
        raise ValueError(f"--steps must be >= 0, got {args.steps}")
    if args.data:
        data = load_mnist(args.data)
    elif args.download:
        data = load_mnist(download_mnist(args.cache_dir))
    else:
        raise ValueError("no data: pass --data PATH (mnist.npz or an IDX directory) or --download")
    mcfg, tcfg = configs_from_args(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / CHECKPOINT_NAME
    trainer = Trainer(mcfg, tcfg, renderer=renderer)
    if ckpt.exists() and not args.fresh:
        trainer.state, _ = load_checkpoint(ckpt, trainer.state, mcfg)
        print(f"resuming from {ckpt} at step {trainer.step}", file=sys.stderr)
    (out / "config.json").write_text(json.dumps({"model": config_dict(mcfg), "train": config_dict(tcfg)},
                                                indent=2))
    x_train = data.x_train[:args.train_limit] if args.train_limit else data.x_train
    x_test = data.x_test[:args.eval_limit] if args.eval_limit else data.x_test
    x_train = (x_train.astype(np.float32) / 255.0)
    x_test = (x_test.astype(np.float32) / 255.0)

    metrics_path = out / "metrics.jsonl"
    if args.fresh and metrics_path.exists():
        metrics_path.unlink()

    def log_eval(step, rec):
        with open(metrics_path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        print(f"step {step}: test mse {rec['mse']:.4f}  bce {rec['bce']:.1f}", file=sys.stderr)

    trainer.fit(x_train, args.steps, progress=not args.no_progress, eval_images=x_test,
                eval_every=args.eval_every, on_eval=log_eval, ckpt_path=ckpt, ckpt_every=args.ckpt_every)
    final = evaluate(trainer.reconstruct, trainer.state.params, x_test, tcfg.batch_size)

    n = max(1, args.num_samples)
    originals = x_test[:n]
    recons = batched_apply(trainer.reconstruct, trainer.state.params, originals, tcfg.batch_size)
    save_grid(pair_rows(originals, recons), out / "reconstructions.png", ncols=8)
    samples, strokes = trainer.sample(n, seed=tcfg.seed + 1)
    save_grid(samples, out / "samples.png", ncols=8)
    save_svgs(strokes, out / "svg", mcfg)
    (out / "final_metrics.json").write_text(json.dumps({"step": trainer.step, **final}, indent=2))
    print(f"done: step {trainer.step}, test mse {final['mse']:.4f}, outputs in {out}", file=sys.stderr)
    return final


def _run(args, renderer: Optional[Renderer]) -> int:
    check_writable("--out", Path(args.out), folder=True)   # before loading data or training
    try:
        run(args, renderer=renderer)
    except (MnistDataError, CheckpointError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return 0


def main(argv: Optional[Sequence[str]] = None, renderer: Optional[Renderer] = None) -> int:
    """Entry point of ``diffvg-mnist-vae``; returns the exit status (0 ok, 2 bad input, with a
    one-line message, 130 interrupted). ``renderer`` replaces diffvg_jax's (tests)."""
    return run_main(PROG, build_parser, lambda args: _run(args, renderer), argv,
                    interrupted="interrupted (the last checkpoint in --out is intact)")
