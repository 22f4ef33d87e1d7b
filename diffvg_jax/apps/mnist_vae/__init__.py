"""The MNIST vector VAE: a flax variational autoencoder whose decoder draws each digit as a
few Bezier strokes rendered by :func:`diffvg_jax.render` (``diffvg-mnist-vae``).

The encoder (convolutions) maps a 28x28 digit to a Gaussian latent; the decoder (an MLP)
maps a latent vector to K open paths of S cubic segments each, with a stroke width and an
opacity per path; the renderer, batched with ``jax.vmap``, draws them white on black at
28x28, and the loss compares that image with the input:

    loss = recon(render(decode(z)), x) + beta * KL(q(z | x) || N(0, I)),   z ~ q(z | x)

``recon`` is the binary cross-entropy or the squared error summed over the 784 pixels,
KL is summed over the latent dimensions, both averaged over the batch. With
``variational=False`` the model is a plain autoencoder (z = mu, no KL).

Defaults follow diffvg's MNIST example (4 strokes of 5 cubic segments, widths in [1, 3]
pixels, control points kept 2 pixels inside the canvas, learned opacities), with a smaller
latent (20 rather than 128) and decoder (512 rather than 1024 units) to suit a CPU.

Modules (imports point up this list only):
  config      ModelConfig, TrainConfig
  data        MNIST loader (Keras ``mnist.npz`` or IDX files) and an opt-in, checksum-verified download
  model       the flax encoder and decoder (:class:`Strokes` out)
  render      strokes -> scenes -> images
  train       losses, train state, jitted steps, evaluation
  checkpoint  save / load with configuration checks
  weights     trained parameters with their configs; the shipped ones (load_pretrained)
  pictures    PNG grids and SVG files
  trainer     :class:`Trainer`: the training loop
  cli         the ``diffvg-mnist-vae`` command

The names below are the package's API (``from diffvg_jax.apps import mnist_vae as mv``).
"""
from .config import RECON_LOSSES, ModelConfig, TrainConfig, config_dict
from .model import Decoder, Encoder, Strokes, VectorVAE
from .render import Renderer, make_renderer, make_scene_renderer, pieces_per_digit, stroke_edges, strokes_to_scene
from .train import (TrainState, batched_apply, evaluate, gaussian_kl, init_state, interpolate_latents,
                    make_decode, make_encode, make_loss_fn, make_optimizer, make_reconstruct, make_train_step,
                    reconstruction_loss)
from .checkpoint import (CHECKPOINT_FORMAT, CHECKPOINT_NAME, CheckpointError, load_checkpoint,
                         read_checkpoint_configs, save_checkpoint)
from .weights import (PRETRAINED_PATH, WEIGHTS_FORMAT, inference_functions, load_pretrained, load_weights,
                      pretrained_state, save_weights)
from .pictures import image_grid, pair_rows, save_grid, save_svgs
from .trainer import Trainer, epoch_batch
from .cli import build_parser, configs_from_args, main, run

__all__ = [
    "RECON_LOSSES", "ModelConfig", "TrainConfig", "config_dict", "Decoder", "Encoder", "Strokes", "VectorVAE",
    "Renderer", "make_renderer", "make_scene_renderer", "pieces_per_digit", "stroke_edges", "strokes_to_scene", "TrainState", "batched_apply", "evaluate", "gaussian_kl",
    "init_state", "interpolate_latents", "make_decode", "make_encode", "make_loss_fn", "make_optimizer",
    "make_reconstruct", "make_train_step", "reconstruction_loss", "CHECKPOINT_FORMAT", "CHECKPOINT_NAME",
    "CheckpointError", "load_checkpoint", "read_checkpoint_configs", "save_checkpoint", "PRETRAINED_PATH",
    "WEIGHTS_FORMAT", "inference_functions", "load_pretrained", "load_weights", "pretrained_state", "save_weights", "image_grid", "pair_rows",
    "save_grid", "save_svgs", "Trainer", "epoch_batch", "build_parser", "configs_from_args", "main", "run",
]
