"""Configurations of the MNIST vector VAE: what fixes the model (a checkpoint must match)
and how it is trained (may change between runs that share a checkpoint)."""
from __future__ import annotations

import dataclasses
import json
from typing import Optional, Tuple

__all__ = ["ModelConfig", "TrainConfig", "RECON_LOSSES", "config_dict", "model_config_dict_of_file"]

RECON_LOSSES = ("bce", "l2")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Everything that fixes the parameter shapes and the drawing (a checkpoint must match).

    Attributes:
      latent_dim: size of z.
      num_paths: K, strokes per digit.
      num_segments: S, cubic segments per stroke (1 + 3S control points).
      hidden: width of the decoder's two hidden layers.
      enc_features: channels of the stride-2 encoder convolutions.
      variational: True for a VAE (mu and log-variance heads), False for a plain AE.
      min_width, max_width: stroke width range in pixels (a sigmoid maps into it).
      learn_alpha: learn one opacity per stroke (else every stroke is opaque).
      min_alpha: lowest learnt opacity, in [0, 1). Above 0 no stroke can fade to nothing,
        which keeps every stroke drawing: fine-tuned with 0.5, the shipped weights went
        from 84 % to 93 % of reconstructions a classifier recognises (``notes/mnist.md``).
        The default stays 0: from a random start, 0.5 was not tried beyond a few steps
        (where it learns slower: every stroke starts visible).
      margin: control points lie in [margin, canvas - margin] pixels.
      canvas: image side in pixels (28 for MNIST).
      max_pieces: static budget of unit boundary pieces per digit (``render.pieces_per_digit``
        counts the need; the train step reports the batch's largest as ``pieces``).
      curve_pieces: most line pieces per cubic when a stroke is flattened (static; a
        28-pixel canvas needs far fewer than the renderer's default).
      round_points: points on each round cap and round join arc of a stroke outline.
      line_cap: stroke cap style passed to the renderer.
    """

    latent_dim: int = 20
    num_paths: int = 4
    num_segments: int = 5
    hidden: int = 512
    enc_features: Tuple[int, ...] = (32, 64)
    variational: bool = True
    min_width: float = 1.0
    max_width: float = 3.0
    learn_alpha: bool = True
    min_alpha: float = 0.0
    margin: float = 2.0
    canvas: int = 28
    max_pieces: int = 2048
    curve_pieces: int = 4
    round_points: int = 6
    line_cap: str = "round"

    def __post_init__(self):
        object.__setattr__(self, "enc_features", tuple(int(f) for f in self.enc_features))
        for name in ("latent_dim", "num_paths", "num_segments", "hidden", "canvas", "max_pieces",
                     "curve_pieces", "round_points"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive int, got {value!r}")
        if not 0 < self.min_width <= self.max_width:
            raise ValueError(f"ModelConfig: need 0 < min_width <= max_width, got "
                             f"{self.min_width}, {self.max_width}")
        if not 0 <= self.min_alpha < 1:
            raise ValueError(f"ModelConfig.min_alpha must be in [0, 1), got {self.min_alpha}")
        if not 0 <= self.margin < self.canvas / 2:
            raise ValueError(f"ModelConfig.margin must be in [0, canvas/2), got {self.margin}")

    @property
    def points_per_path(self) -> int:
        return 1 + 3 * self.num_segments


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (may change between runs that share a checkpoint).

    Attributes:
      learning_rate: Adam step size.
      batch_size: digits per step.
      beta: weight of the KL term (ignored by a plain AE).
      recon_loss: 'bce' or 'l2', summed over pixels.
      grad_clip: global gradient-norm clip (None: no clipping).
      seed: initialisation, sampling and data-order seed.
    """

    learning_rate: float = 1e-3
    batch_size: int = 64
    beta: float = 1.0
    recon_loss: str = "bce"
    grad_clip: Optional[float] = 10.0
    seed: int = 0

    def __post_init__(self):
        if self.recon_loss not in RECON_LOSSES:
            raise ValueError(f"TrainConfig.recon_loss must be one of {RECON_LOSSES}, got {self.recon_loss!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"TrainConfig.batch_size must be a positive int, got {self.batch_size!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"TrainConfig.learning_rate must be > 0, got {self.learning_rate}")
        if not self.beta >= 0:
            raise ValueError(f"TrainConfig.beta must be >= 0, got {self.beta}")


def config_dict(cfg) -> dict:
    """A configuration as plain JSON data (tuples become lists exactly as they do in a
    checkpoint's msgpack payload)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


# Fields added after files were written, with the value those files were trained with.
_FIELDS_BEFORE_THEY_EXISTED = {"min_alpha": 0.0}


def model_config_dict_of_file(saved: dict) -> dict:
    """A model configuration dict read from a weights or checkpoint file, completed with the
    value each later-added field had before it existed (a file written before ``min_alpha``
    was trained with opacities down to 0, not with today's default)."""
    return {**_FIELDS_BEFORE_THEY_EXISTED, **saved}
