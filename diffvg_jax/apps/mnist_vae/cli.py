"""``diffvg-mnist-vae``: train the vector (Bezier-stroke) VAE on MNIST.

    diffvg-mnist-vae --data mnist.npz --steps 2000 --out runs/mnist

writes ``checkpoint.msgpack`` (resumed automatically on the next run with the same model
configuration), ``config.json``, ``metrics.jsonl`` (the test-set curve),
``final_metrics.json``, ``reconstructions.png``, ``samples.png`` and
``svg/sample_XX.svg``. With trained weights (the shipped ones, or ``--weights FILE``)
and no training, ``diffvg-mnist-vae --sample 64 --out DIR`` writes ``DIR/samples.png`` and
``--reconstruct 32 --data mnist.npz`` writes ``DIR/reconstructions.png``.
``--help`` lists the other options. Bad input gives a one-line
message and exit status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from diffvg_jax.apps.common.cli import (Parser, UsageError, add_shared_options, check_writable, loop_summary,
                                        nonneg_int, progress_display, run_main, say)
from .checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint
from .config import RECON_LOSSES, ModelConfig, TrainConfig, config_dict
from .data import MnistDataError, download_mnist, load_mnist
from .pictures import pair_rows, save_grid, save_svgs
from .weights import inference_functions, load_pretrained
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
    p.add_argument("--steps", type=int, default=None,
                   help="train until this step count (resumes count); required unless --sample / --reconstruct")
    add_shared_options(p, out="output directory (checkpoint, metrics, PNG, SVG)", out_metavar="DIR",
                       seed="random seed of the model, the batches and the samples", seed_default=t.seed,
                       snapshots="write a grid of sampled digits (PNG) into DIR at every evaluation",
                       every="test-set evaluation (and --snapshots) interval in steps; 0: at the end only",
                       every_default=500, every_zero_ok=True)
    # Deprecated spellings, hidden from --help: --eval-every (now --every), --no-progress (now --quiet).
    p.add_argument("--eval-every", dest="every", type=nonneg_int("--eval-every"), default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)
    p.add_argument("--no-progress", dest="quiet", action="store_true", default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint in --out")
    g = p.add_argument_group("trained model (no training: draw with the shipped weights and exit)")
    g.add_argument("--sample", type=nonneg_int("--sample"), default=0, metavar="N",
                   help="write OUT/samples.png: N digits decoded from the prior (seed --seed)")
    g.add_argument("--reconstruct", type=nonneg_int("--reconstruct"), default=0, metavar="N",
                   help="write OUT/reconstructions.png: the first N test digits of --data / --download, "
                        "each beside its reconstruction")
    g.add_argument("--weights", metavar="FILE", default=None,
                   help="weights written by mnist_vae.save_weights (default: the shipped ones)")
    g = p.add_argument_group("model (must match a checkpoint to resume)")
    g.add_argument("--latent-dim", type=int, default=m.latent_dim, help="size of the latent vector")
    g.add_argument("--paths", type=int, default=m.num_paths, help="strokes per digit")
    g.add_argument("--segments", type=int, default=m.num_segments, help="cubic segments per stroke")
    g.add_argument("--hidden", type=int, default=m.hidden, help="width of the decoder's hidden layers")
    g.add_argument("--enc-features", type=int, nargs="+", default=list(m.enc_features),
                   help="channels of the encoder's convolutions")
    g.add_argument("--ae", action="store_true", help="plain autoencoder (no KL, z = mu)")
    g.add_argument("--min-width", type=float, default=m.min_width, help="thinnest stroke, pixels")
    g.add_argument("--max-width", type=float, default=m.max_width, help="widest stroke, pixels")
    g.add_argument("--no-alpha", action="store_true", help="opaque strokes (no learned opacity)")
    g.add_argument("--min-alpha", type=float, default=m.min_alpha,
                   help="lowest learned stroke opacity, in [0, 1) (the shipped weights were fine-tuned with 0.5)")
    g.add_argument("--max-pieces", type=int, default=m.max_pieces, help="renderer work bound")
    g.add_argument("--curve-pieces", type=int, default=m.curve_pieces,
                   help="renderer line pieces per cubic segment")
    g = p.add_argument_group("training")
    g.add_argument("--batch-size", type=int, default=t.batch_size, help="digits per training step")
    g.add_argument("--lr", type=float, default=t.learning_rate, help="Adam learning rate")
    g.add_argument("--beta", type=float, default=t.beta, help="KL weight")
    g.add_argument("--loss", choices=RECON_LOSSES, default=t.recon_loss, help="reconstruction loss")
    g.add_argument("--train-limit", type=int, default=0, help="use only the first N training digits")
    g.add_argument("--eval-limit", type=int, default=0, help="evaluate on the first N test digits (0: all)")
    g.add_argument("--ckpt-every", type=int, default=500, help="checkpoint interval in steps (0: at the end only)")
    g.add_argument("--num-samples", type=int, default=16, help="digits in the PNG grids and SVGs")
    return p


def configs_from_args(args) -> Tuple[ModelConfig, TrainConfig]:
    mcfg = ModelConfig(latent_dim=args.latent_dim, num_paths=args.paths, num_segments=args.segments,
                       hidden=args.hidden, enc_features=tuple(args.enc_features), variational=not args.ae,
                       min_width=args.min_width, max_width=args.max_width, learn_alpha=not args.no_alpha,
                       min_alpha=args.min_alpha,
                       max_pieces=args.max_pieces, curve_pieces=args.curve_pieces)
    tcfg = TrainConfig(learning_rate=args.lr, batch_size=args.batch_size, beta=args.beta,
                       recon_loss=args.loss, seed=args.seed)
    return mcfg, tcfg


def _data(args, missing: str):
    """MNIST from --data or --download; ValueError(``missing``) when neither is given."""
    if args.data:
        return load_mnist(args.data)
    if args.download:
        return load_mnist(download_mnist(args.cache_dir))
    raise ValueError(missing)


def run(args, renderer: Optional[Renderer] = None) -> Dict[str, float]:
    """Everything the CLI does, given parsed ``args``; returns the final test metrics (with
    --sample / --reconstruct: the paths written, after drawing with trained weights)."""
    if args.sample or args.reconstruct:
        return draw_pretrained(args)
    if args.steps is None:
        raise ValueError("--steps is required to train (or pass --sample N / --reconstruct N)")
    if args.steps < 0:
        raise ValueError(f"--steps must be >= 0, got {args.steps}")
    data = _data(args, "no data: pass --data PATH (mnist.npz or an IDX directory) or --download")
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

    bar = progress_display(args)

    def log_eval(step, rec):
        with open(metrics_path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        _snapshot(args, trainer, step)
        note = f"step {step}: test mse {rec['mse']:.4f}  bce {rec['bce']:.1f}"
        bar.note(note) if bar is not None else say(args, note)

    try:
        trainer.fit(x_train, args.steps, progress=bar if bar is not None else False, eval_images=x_test,
                    eval_every=args.every, on_eval=log_eval, ckpt_path=ckpt, ckpt_every=args.ckpt_every)
    except BaseException as err:
        if bar is not None:
            bar.close(interrupted=isinstance(err, KeyboardInterrupt))
        raise
    final = evaluate(trainer.reconstruct, trainer.state.params, x_test, tcfg.batch_size)
    if bar is not None:  # the display's last line and the summary: the same figures, the same rate
        say(args, loop_summary(PROG, bar, bar.timer.stats(), {"test mse": f"{final['mse']:.4f}"},
                               what="steps", unit="step"))

    n = max(1, args.num_samples)
    originals = x_test[:n]
    recons = batched_apply(trainer.reconstruct, trainer.state.params, originals, tcfg.batch_size)
    save_grid(pair_rows(originals, recons), out / "reconstructions.png", ncols=8)
    samples, strokes = trainer.sample(n, seed=tcfg.seed + 1)
    save_grid(samples, out / "samples.png", ncols=8)
    save_svgs(strokes, out / "svg", mcfg)
    (out / "final_metrics.json").write_text(json.dumps({"step": trainer.step, **final}, indent=2))
    say(args, f"{PROG}: step {trainer.step}, test mse {final['mse']:.4f}, outputs in {out}")
    return final


def draw_pretrained(args) -> Dict[str, str]:
    """--sample / --reconstruct: PNG grids drawn at once with trained weights (--weights or
    the shipped ones), 8 digits (or 4 digit / reconstruction pairs) per row, 3x enlarged."""
    mcfg, params = load_pretrained(args.weights)
    decode, reconstruct = inference_functions(mcfg)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    if args.sample:
        z = np.random.default_rng(args.seed).standard_normal((args.sample, mcfg.latent_dim)).astype(np.float32)
        samples = batched_apply(decode, params, z, 64)
        written["samples"] = str(save_grid(samples, out / "samples.png", ncols=8))
    if args.reconstruct:
        data = _data(args, "--reconstruct needs digits: pass --data PATH or --download")
        originals = data.x_test[:args.reconstruct].astype(np.float32) / 255.0
        recons = batched_apply(reconstruct, params, originals, 64)
        written["reconstructions"] = str(save_grid(pair_rows(originals, recons), out / "reconstructions.png",
                                                   ncols=8))
    say(args, f"{PROG}: wrote " + ", ".join(written.values()))
    return written


def _snapshot(args, trainer: Trainer, step: int) -> None:
    """--snapshots: a grid of sampled digits at this evaluation (the seed of samples.png)."""
    if args.snapshots is not None:
        samples, _ = trainer.sample(max(1, args.num_samples), seed=trainer.tcfg.seed + 1)
        Path(args.snapshots).mkdir(parents=True, exist_ok=True)
        save_grid(samples, Path(args.snapshots) / f"samples_{step:06d}.png", ncols=8)


def _run(args, renderer: Optional[Renderer]) -> int:
    check_writable("--out", Path(args.out), folder=True)   # before loading data or training
    if args.snapshots is not None:
        check_writable("--snapshots", Path(args.snapshots), folder=True)
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
