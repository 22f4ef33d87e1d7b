"""Trained weights: the network parameters (no optimiser state) and the configurations they
were trained with, in one msgpack file; the package ships one (``weights/mnist_vae.msgpack``).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Optional, Tuple

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

from .checkpoint import CheckpointError, read_msgpack, write_msgpack
from .config import ModelConfig, TrainConfig, config_dict, model_config_dict_of_file
from .model import VectorVAE
from .render import make_renderer
from .train import TrainState, make_decode, make_encode, make_reconstruct

__all__ = ["WEIGHTS_FORMAT", "PRETRAINED_PATH", "save_weights", "load_weights", "load_pretrained",
           "pretrained_state", "inference_functions"]

WEIGHTS_FORMAT = "diffvg_jax.apps.mnist_vae.weights/1"
PRETRAINED_PATH = Path(__file__).with_name("weights") / "mnist_vae.msgpack"


def save_weights(path, params, mcfg: ModelConfig, tcfg: TrainConfig, info: Optional[dict] = None,
                 dtype=None) -> Path:
    """Write ``params`` (the flax parameter tree) with both configurations and ``info`` (any
    JSON data: steps, metrics) to ``path`` atomically.

    ``dtype`` (e.g. ``np.float16``, as the shipped file is stored: half the size) rounds the
    floating-point arrays to that type in the file; :func:`load_weights` always returns float32.
    """
    path = Path(path)
    params = jax.device_get(params)
    if dtype is not None:
        params = jax.tree_util.tree_map(
            lambda a: np.asarray(a).astype(dtype) if np.issubdtype(np.asarray(a).dtype, np.floating) else a, params)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": WEIGHTS_FORMAT,
               "model_config": json.dumps(config_dict(mcfg), sort_keys=True),
               "train_config": json.dumps(config_dict(tcfg), sort_keys=True),
               "info": json.dumps(info or {}, sort_keys=True),
               "params": flax.serialization.to_state_dict(params)}
    return write_msgpack(path, payload)


def load_weights(path) -> Tuple[ModelConfig, TrainConfig, dict, dict]:
    """(model config, train config, params, info) from a file written by :func:`save_weights`.

    params is the flax parameter tree of float32 jax arrays. Raises CheckpointError for an
    unreadable file or another format.
    """
    payload = read_msgpack(path, WEIGHTS_FORMAT, "mnist_vae weights file")
    mcfg = ModelConfig(**model_config_dict_of_file(json.loads(payload["model_config"])))
    tcfg = TrainConfig(**json.loads(payload["train_config"]))
    params = jax.tree_util.tree_map(lambda a: jnp.asarray(np.asarray(a, np.float32)), payload["params"])
    return mcfg, tcfg, params, json.loads(payload["info"])


def load_pretrained(path=None) -> Tuple[ModelConfig, dict]:
    """The shipped trained model: (ModelConfig, params) (``path`` replaces the shipped file).

    Use with ``VectorVAE(mcfg)``, ``make_decode`` / ``make_reconstruct``, or
    :func:`pretrained_state` for a :class:`~diffvg_jax.apps.mnist_vae.Trainer`.
    """
    mcfg, _, params, _ = load_weights(PRETRAINED_PATH if path is None else path)
    return mcfg, params


def pretrained_state(template: TrainState, params) -> TrainState:
    """``template`` (a fresh state of the same model) with ``params`` in place, its shapes
    checked; the optimiser state stays fresh. Raises CheckpointError on a mismatch."""
    want = jax.tree_util.tree_structure(template.params)
    if jax.tree_util.tree_structure(params) != want:
        raise CheckpointError("weights do not fit the model (parameter trees differ)")
    for a, b in zip(jax.tree_util.tree_leaves(template.params), jax.tree_util.tree_leaves(params)):
        if np.shape(a) != np.shape(b):
            raise CheckpointError(f"weights do not fit the model (shape {np.shape(b)}, expected {np.shape(a)})")
    return template.replace(params=params)


@functools.lru_cache(maxsize=8)
def inference_functions(mcfg: ModelConfig):
    """(decode, reconstruct) of the model ``mcfg`` with the fast renderer, jitted once per
    configuration and process (the CLI, the bench and the notebook share them).

    decode(params, z float32 (B, latent)) -> (images float32 (B, H, W) in [0, 1], Strokes);
    reconstruct(params, x float32 (B, H, W)) -> the same, through z = mu.
    """
    model = VectorVAE(mcfg)
    decode = make_decode(model, make_renderer(mcfg))
    return decode, make_reconstruct(model, None, decode, make_encode(model))
