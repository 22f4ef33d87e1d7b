"""The network: a convolutional encoder to a Gaussian latent, and an MLP decoder from a
latent vector to K open strokes of S cubic segments, each value squashed into its range."""
from __future__ import annotations

from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from .config import ModelConfig

__all__ = ["Strokes", "Encoder", "Decoder", "VectorVAE"]


class Strokes(NamedTuple):
    """Decoded drawings (a pytree; leading axes are batch axes).

    points: float32 (..., K, 1 + 3S, 2) control points in pixels (x right, y down).
    widths: float32 (..., K) stroke widths in pixels.
    alphas: float32 (..., K) stroke opacities in (min_alpha, 1] (exactly 1 without learn_alpha).
    """

    points: jax.Array
    widths: jax.Array
    alphas: jax.Array


class Encoder(nn.Module):
    """Images float32 (B, 28, 28) in [0, 1] -> (mu, logvar), each float32 (B, latent).

    logvar is None for a plain autoencoder.
    """

    cfg: ModelConfig

    @nn.compact
    def __call__(self, x):
        h = x[..., None]
        for features in self.cfg.enc_features:
            h = nn.Conv(features, (4, 4), strides=(2, 2), padding="SAME")(h)
            h = nn.leaky_relu(h, 0.2)
        h = h.reshape(h.shape[0], -1)
        mu = nn.Dense(self.cfg.latent_dim, name="mu")(h)
        if not self.cfg.variational:
            return mu, None
        # Start near unit variance and keep exp() finite whatever the weights do.
        logvar = jnp.clip(nn.Dense(self.cfg.latent_dim, name="logvar")(h), -10.0, 10.0)
        return mu, logvar


class Decoder(nn.Module):
    """z float32 (B, latent) -> :class:`Strokes` with every value in its bounded range."""

    cfg: ModelConfig

    @nn.compact
    def __call__(self, z):
        cfg = self.cfg
        h = nn.selu(nn.Dense(cfg.hidden)(z))
        h = nn.selu(nn.Dense(cfg.hidden)(h))
        b = z.shape[0]
        raw_points = nn.Dense(cfg.num_paths * cfg.points_per_path * 2, name="points")(h)
        span = cfg.canvas - 2.0 * cfg.margin
        # Sigmoid bounds: a point can never leave the canvas, and the map is smooth, so
        # no gradient is ever cut off by a hard clip.
        points = cfg.margin + span * jax.nn.sigmoid(raw_points)
        points = points.reshape(b, cfg.num_paths, cfg.points_per_path, 2)
        raw_w = nn.Dense(cfg.num_paths, name="widths")(h)
        widths = cfg.min_width + (cfg.max_width - cfg.min_width) * jax.nn.sigmoid(raw_w)
        if cfg.learn_alpha:
            raw_alpha = nn.Dense(cfg.num_paths, name="alphas")(h)
            alphas = cfg.min_alpha + (1.0 - cfg.min_alpha) * jax.nn.sigmoid(raw_alpha)
        else:
            alphas = jnp.ones((b, cfg.num_paths), jnp.float32)
        return Strokes(points, widths, alphas)


class VectorVAE(nn.Module):
    """Encoder + decoder. ``__call__`` (used for init) runs both on ``z = mu``."""

    cfg: ModelConfig

    def setup(self):
        self.encoder = Encoder(self.cfg)
        self.decoder = Decoder(self.cfg)

    def __call__(self, x):
        mu, _ = self.encoder(x)
        return self.decoder(mu)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)
