"""Checkpoints: the train state and both configurations in one msgpack file, written
atomically; loading refuses a checkpoint of another model configuration, naming the fields."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Tuple

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

from .config import ModelConfig, TrainConfig, config_dict, model_config_dict_of_file
from .train import TrainState

__all__ = ["CheckpointError", "CHECKPOINT_FORMAT", "CHECKPOINT_NAME", "save_checkpoint", "read_checkpoint_configs",
           "load_checkpoint"]

CHECKPOINT_FORMAT = "diffvg_jax.examples.mnist_vae/1"  # kept: checkpoints written before the move still load
CHECKPOINT_NAME = "checkpoint.msgpack"


class CheckpointError(ValueError):
    """A checkpoint is unreadable or was written for a different model configuration."""


def save_checkpoint(path, state: TrainState, mcfg: ModelConfig, tcfg: TrainConfig) -> Path:
    """Write the state and both configs to ``path`` atomically (msgpack via flax)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": CHECKPOINT_FORMAT,
               "model_config": json.dumps(config_dict(mcfg), sort_keys=True),
               "train_config": json.dumps(config_dict(tcfg), sort_keys=True),
               "state": flax.serialization.to_state_dict(jax.device_get(state))}
    return write_msgpack(path, payload)



def write_msgpack(path, payload: dict) -> Path:
    """Write ``payload`` as msgpack to ``path`` atomically (a crash mid-write never leaves a
    half-written file under ``path``); returns the path."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(flax.serialization.msgpack_serialize(payload))
    os.replace(tmp, path)
    return path


def read_msgpack(path, fmt: str, what: str) -> dict:
    """The msgpack dict at ``path`` whose 'format' is ``fmt``; CheckpointError naming the
    file and ``what`` it should have been otherwise (unreadable, garbage, another format)."""
    path = Path(path)
    try:
        payload = flax.serialization.msgpack_restore(path.read_bytes())
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read {what} ({exc})") from None
    except Exception as exc:  # msgpack raises several unrelated types on garbage
        raise CheckpointError(f"{path}: not a {what} (unreadable msgpack: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path}: not a {what} (format {found!r}, expected {fmt!r})")
    return payload

def read_checkpoint_configs(path) -> Tuple[dict, dict, dict]:
    """(model_config, train_config, raw state dict) from a checkpoint file."""
    payload = read_msgpack(path, CHECKPOINT_FORMAT, "mnist_vae checkpoint")
    return (model_config_dict_of_file(json.loads(payload["model_config"])), json.loads(payload["train_config"]),
            payload["state"])


def load_checkpoint(path, template: TrainState, mcfg: ModelConfig) -> Tuple[TrainState, dict]:
    """Restore a state saved by :func:`save_checkpoint` into the structure of ``template``.

    Returns:
      (state, saved train config dict).
    Raises:
      CheckpointError: unreadable file, or a model configuration that differs from
        ``mcfg`` (the message lists each differing field, saved vs requested).
    """
    saved_model, saved_train, raw_state = read_checkpoint_configs(path)
    wanted = config_dict(mcfg)
    diffs = [f"{k}: checkpoint {saved_model.get(k)!r} vs requested {wanted.get(k)!r}"
             for k in sorted(set(saved_model) | set(wanted)) if saved_model.get(k) != wanted.get(k)]
    if diffs:
        raise CheckpointError(f"{path} was written for a different model configuration: "
                              + "; ".join(diffs)
                              + " (use the same model flags, another --out, or --fresh)")
    try:
        state = flax.serialization.from_state_dict(template, raw_state)
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: state does not fit the model ({exc})") from None
    # from_state_dict does not check leaf shapes; a mismatch would only fail later in jit.
    for (kp, a), b in zip(jax.tree_util.tree_leaves_with_path(template), jax.tree_util.tree_leaves(state)):
        if np.shape(a) != np.shape(b):
            raise CheckpointError(f"{path}: {jax.tree_util.keystr(kp)} has shape {np.shape(b)}, "
                                  f"the model needs {np.shape(a)}")
    state = jax.tree_util.tree_map(jnp.asarray, state)
    return state, saved_train
