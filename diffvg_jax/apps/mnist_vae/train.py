"""Training pieces: the losses, the train state and optimiser, the jitted train step,
encode / decode / reconstruct, and the evaluation on held-out digits.

    loss = recon(render(decode(z)), x) + beta * KL(q(z | x) || N(0, I)),   z ~ q(z | x)

Images are float32 (B, H, W) in [0, 1]; latents float32 (B, latent_dim).
"""
from __future__ import annotations

import functools
from typing import Dict

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .config import RECON_LOSSES, ModelConfig, TrainConfig
from .model import VectorVAE
from .render import Renderer

__all__ = ["reconstruction_loss", "gaussian_kl", "TrainState", "make_optimizer", "init_state", "make_loss_fn",
           "make_train_step", "make_decode", "make_encode", "make_reconstruct", "batched_apply", "evaluate",
           "interpolate_latents"]

_BCE_EPS = 1e-6  # keeps log() finite where a rendered pixel is exactly 0 or 1


def reconstruction_loss(recon, target, kind: str = "bce"):
    """Per-image reconstruction loss summed over pixels.

    Args:
      recon, target: float32 (B, H, W) in [0, 1].
      kind: 'bce' (binary cross-entropy, target as soft labels) or 'l2' (squared error).
    Returns:
      float32 (B,).
    """
    if kind == "bce":
        p = jnp.clip(recon, _BCE_EPS, 1.0 - _BCE_EPS)
        per_pixel = -(target * jnp.log(p) + (1.0 - target) * jnp.log1p(-p))
    elif kind == "l2":
        per_pixel = jnp.square(recon - target)
    else:
        raise ValueError(f"reconstruction_loss: kind must be one of {RECON_LOSSES}, got {kind!r}")
    return per_pixel.reshape(per_pixel.shape[0], -1).sum(-1)


def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the last axis: float32 (B,)."""
    return 0.5 * jnp.sum(jnp.exp(logvar) + jnp.square(mu) - 1.0 - logvar, axis=-1)


@flax.struct.dataclass
class TrainState:
    """step: int32 (); params: flax params; opt_state: optax state; rng: uint32 (2,) key."""

    step: jax.Array
    params: dict
    opt_state: optax.OptState
    rng: jax.Array


def _global_norm(tree):
    # optax.tree.norm replaced optax.global_norm; keep working on both sides of the rename.
    tree_ns = getattr(optax, "tree", None)
    return tree_ns.norm(tree) if tree_ns is not None and hasattr(tree_ns, "norm") else optax.global_norm(tree)


def make_optimizer(tcfg: TrainConfig) -> optax.GradientTransformation:
    adam = optax.adam(tcfg.learning_rate)
    if tcfg.grad_clip is None:
        return adam
    return optax.chain(optax.clip_by_global_norm(tcfg.grad_clip), adam)


def init_state(model: VectorVAE, tcfg: TrainConfig) -> TrainState:
    """Fresh parameters and optimiser state from ``tcfg.seed``."""
    return _jitted_init(model.cfg, tcfg)(jax.random.PRNGKey(tcfg.seed))


@functools.lru_cache(maxsize=32)
def _jitted_init(mcfg: ModelConfig, tcfg: TrainConfig):
    # One compiled init per configuration: eager flax init dispatches (and compiles) every
    # small op separately, which costs seconds on CPU.
    model, optimizer = VectorVAE(mcfg), make_optimizer(tcfg)

    @jax.jit
    def init(key):
        init_key, run_key = jax.random.split(key)
        c = mcfg.canvas
        params = model.init(init_key, jnp.zeros((1, c, c), jnp.float32))
        return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                          opt_state=optimizer.init(params), rng=run_key)

    return init


def _sample_and_render(model, params, x, key, renderer):
    """Encode, draw z ~ q(z | x) (z = mu for a plain AE), decode and render."""
    mu, logvar = model.apply(params, x, method=VectorVAE.encode)
    z = mu if logvar is None else mu + jnp.exp(0.5 * logvar) * jax.random.normal(key, mu.shape)
    strokes = model.apply(params, z, method=VectorVAE.decode)
    return renderer(strokes), mu, logvar


def make_loss_fn(model: VectorVAE, tcfg: TrainConfig, renderer: Renderer):
    """loss(params, x float32 (B, H, W) in [0, 1], key) -> (scalar, metrics dict)."""

    def loss_fn(params, x, key):
        recon, mu, logvar = _sample_and_render(model, params, x, key, renderer)
        rec = reconstruction_loss(recon, x, tcfg.recon_loss).mean()
        if logvar is not None:
            kl = gaussian_kl(mu, logvar).mean()
        else:
            kl = jnp.zeros((), jnp.float32)
        loss = rec + tcfg.beta * kl
        mse = jnp.mean(jnp.square(recon - x))
        return loss, {"loss": loss, "recon": rec, "kl": kl, "mse": mse}

    return loss_fn


def make_train_step(model: VectorVAE, tcfg: TrainConfig, renderer: Renderer, optimizer=None):
    """A jitted ``step(state, x) -> (state, metrics)``; x is float32 (B, H, W) in [0, 1].

    Each step splits the state's key, so a run is reproducible from its checkpoint.
    """
    optimizer = optimizer or make_optimizer(tcfg)
    loss_fn = make_loss_fn(model, tcfg, renderer)

    @jax.jit
    def step(state: TrainState, x):
        rng, key = jax.random.split(state.rng)
        (_, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, x, key)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics["grad_norm"] = _global_norm(grads)
        return TrainState(step=state.step + 1, params=params, opt_state=opt_state, rng=rng), metrics

    return step


def make_decode(model: VectorVAE, renderer: Renderer):
    """A jitted ``decode(params, z (B, latent)) -> (images (B, H, W), Strokes)``."""

    @jax.jit
    def decode(params, z):
        strokes = model.apply(params, z, method=VectorVAE.decode)
        return renderer(strokes), strokes

    return decode


def make_encode(model: VectorVAE):
    """A jitted ``encode(params, x (B, H, W)) -> mu (B, latent)`` (the posterior mean)."""
    return jax.jit(lambda params, x: model.apply(params, x, method=VectorVAE.encode)[0])


def make_reconstruct(model: VectorVAE, renderer: Renderer, decode=None, encode=None):
    """``reconstruct(params, x) -> (images (B, H, W), Strokes)`` through z = mu.

    Built from the jitted encode and decode rather than jitted whole, so the renderer's
    forward pass compiles once for reconstructions and samples together.
    """
    decode = decode or make_decode(model, renderer)
    encode = encode or make_encode(model)

    def reconstruct(params, x):
        return decode(params, encode(params, x))

    return reconstruct


def batched_apply(fn, params, x: np.ndarray, batch_size: int):
    """Run ``fn(params, batch)`` over ``x`` in fixed-size batches (the last one padded, so
    only one shape is ever compiled); returns the first output concatenated (numpy)."""
    n = len(x)
    outs = []
    for start in range(0, n, batch_size):
        chunk = x[start:start + batch_size]
        pad = batch_size - len(chunk)
        if pad:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        out = fn(params, jnp.asarray(chunk))
        out = out[0] if isinstance(out, tuple) else out
        outs.append(np.asarray(out)[:batch_size - pad])
    return np.concatenate(outs)


def evaluate(reconstruct, params, images: np.ndarray, batch_size: int = 64) -> Dict[str, float]:
    """Reconstruction error on ``images`` float32 (N, H, W) in [0, 1] through z = mu.

    Returns mse (mean squared error per pixel), bce (per image, summed over pixels) and
    mae (mean absolute error per pixel).
    """
    recon = batched_apply(reconstruct, params, images, batch_size)
    p = np.clip(recon, _BCE_EPS, 1 - _BCE_EPS)
    bce = -(images * np.log(p) + (1 - images) * np.log1p(-p)).reshape(len(images), -1).sum(-1)
    return {"mse": float(np.mean((recon - images) ** 2)),
            "mae": float(np.mean(np.abs(recon - images))),
            "bce": float(bce.mean())}


def interpolate_latents(z_a, z_b, steps: int) -> jax.Array:
    """Straight line from z_a to z_b: float32 (steps, latent)."""
    t = jnp.linspace(0.0, 1.0, steps)[:, None]
    return (1.0 - t) * z_a[None] + t * z_b[None]
