"""A vector autoencoder for MNIST: a flax network that draws each digit with Bezier strokes.

The encoder (convolutions) maps a 28x28 digit to a Gaussian latent; the decoder (an MLP)
maps a latent vector to K open paths of S cubic segments each, with a stroke width and an
opacity per path; :func:`diffvg_jax.render`, batched with ``jax.vmap``, draws them white on
black at 28x28, and the loss compares that image with the input:

    loss = recon(render(decode(z)), x) + beta * KL(q(z | x) || N(0, I)),   z ~ q(z | x)

``recon`` is the binary cross-entropy or the squared error summed over the 784 pixels,
KL is summed over the latent dimensions, both averaged over the batch. With
``variational=False`` the model is a plain autoencoder (z = mu, no KL).

Defaults follow diffvg's MNIST example (4 strokes of 5 cubic segments, widths in [1, 3]
pixels, control points kept 2 pixels inside the canvas, learned opacities), with a smaller
latent (20 rather than 128) and decoder (512 rather than 1024 units) to suit a CPU.

Command line::

    python -m diffvg_jax.examples.mnist_vae --data mnist.npz --steps 2000 --out runs/mnist

writes ``checkpoint.msgpack`` (resumed automatically on the next run with the same model
configuration), ``metrics.jsonl`` (the test-set curve), ``reconstructions.png``,
``samples.png`` and ``svg/sample_XX.svg``. ``--help`` lists the other options.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from diffvg_jax.runtime.compile_cache import enable_compilation_cache
from diffvg_jax.runtime.cpu_memory import keep_freed_memory
from .data import MnistDataError, download_mnist, load_mnist

CHECKPOINT_FORMAT = "diffvg_jax.examples.mnist_vae/1"
CHECKPOINT_NAME = "checkpoint.msgpack"
RECON_LOSSES = ("bce", "l2")
_BCE_EPS = 1e-6  # keeps log() finite where a rendered pixel is exactly 0 or 1


# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------


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
      margin: control points lie in [margin, canvas - margin] pixels.
      canvas: image side in pixels (28 for MNIST).
      max_pieces: the renderer's static work bound inside jit (see ``dv.pieces_needed``).
      curve_pieces: line pieces per cubic when the renderer flattens a stroke (static; a
        28-pixel canvas needs far fewer than the renderer's default).
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
    margin: float = 2.0
    canvas: int = 28
    max_pieces: int = 4096
    curve_pieces: int = 8
    line_cap: str = "round"

    def __post_init__(self):
        object.__setattr__(self, "enc_features", tuple(int(f) for f in self.enc_features))
        for name in ("latent_dim", "num_paths", "num_segments", "hidden", "canvas", "max_pieces",
                     "curve_pieces"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive int, got {value!r}")
        if not 0 < self.min_width <= self.max_width:
            raise ValueError(f"ModelConfig: need 0 < min_width <= max_width, got "
                             f"{self.min_width}, {self.max_width}")
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


# ---------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------


class Strokes(NamedTuple):
    """Decoded drawings (a pytree; leading axes are batch axes).

    points: float32 (..., K, 1 + 3S, 2) control points in pixels (x right, y down).
    widths: float32 (..., K) stroke widths in pixels.
    alphas: float32 (..., K) stroke opacities in (0, 1] (exactly 1 without learn_alpha).
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
            alphas = jax.nn.sigmoid(nn.Dense(cfg.num_paths, name="alphas")(h))
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


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------

Renderer = Callable[[Strokes], jax.Array]
"""Maps :class:`Strokes` with one batch axis to float32 (B, canvas, canvas) grey images."""


def strokes_to_scene(points, width, alpha, cfg: ModelConfig):
    """One digit's strokes as a ``dv.Scene``: white strokes on an opaque black canvas.

    Args:
      points: float32 (K, 1 + 3S, 2) pixels. width: float32 (K,). alpha: float32 (K,).
    """
    import diffvg_jax as dv

    children = []
    for k in range(cfg.num_paths):
        color = jnp.concatenate([jnp.ones((3,), jnp.float32), alpha[k][None]])
        children.append(dv.Path(points=points[k], degrees=(3,) * cfg.num_segments, closed=False,
                                stroke=dv.Solid(color=color), stroke_width=width[k], fill=None,
                                line_cap=cfg.line_cap, line_join="round"))
    return dv.Scene(children=tuple(children), background=(0.0, 0.0, 0.0, 1.0),
                    width=cfg.canvas, height=cfg.canvas)


@functools.lru_cache(maxsize=32)
def make_renderer(cfg: ModelConfig) -> Renderer:
    """The diffvg_jax renderer, vmapped over the batch; returns the red channel (the grey
    level: strokes are white over opaque black)."""
    import diffvg_jax as dv

    def render_one(points, width, alpha):
        scene = strokes_to_scene(points, width, alpha, cfg)
        image = dv.render(scene, width=cfg.canvas, height=cfg.canvas, max_pieces=cfg.max_pieces,
                          curve_pieces=cfg.curve_pieces)
        return image[..., 0]

    def render_batch(strokes: Strokes) -> jax.Array:
        return jax.vmap(render_one)(strokes.points, strokes.widths, strokes.alphas)

    return render_batch


# ---------------------------------------------------------------------------------------
# Losses
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Training state and steps
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------


class CheckpointError(ValueError):
    """A checkpoint is unreadable or was written for a different model configuration."""


def _config_dict(cfg) -> dict:
    # JSON round trip: tuples become lists exactly as they do in the msgpack payload.
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def save_checkpoint(path, state: TrainState, mcfg: ModelConfig, tcfg: TrainConfig) -> Path:
    """Write the state and both configs to ``path`` atomically (msgpack via flax)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": CHECKPOINT_FORMAT,
               "model_config": json.dumps(_config_dict(mcfg), sort_keys=True),
               "train_config": json.dumps(_config_dict(tcfg), sort_keys=True),
               "state": flax.serialization.to_state_dict(jax.device_get(state))}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(flax.serialization.msgpack_serialize(payload))
    os.replace(tmp, path)  # a crash mid-write never leaves a half checkpoint under `path`
    return path


def read_checkpoint_configs(path) -> Tuple[dict, dict, dict]:
    """(model_config, train_config, raw state dict) from a checkpoint file."""
    path = Path(path)
    try:
        payload = flax.serialization.msgpack_restore(path.read_bytes())
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read checkpoint ({exc})") from None
    except Exception as exc:  # msgpack raises several unrelated types on garbage
        raise CheckpointError(f"{path}: not a mnist_vae checkpoint (unreadable msgpack: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(f"{path}: not a mnist_vae checkpoint (format {found!r}, "
                              f"expected {CHECKPOINT_FORMAT!r})")
    return json.loads(payload["model_config"]), json.loads(payload["train_config"]), payload["state"]


def load_checkpoint(path, template: TrainState, mcfg: ModelConfig) -> Tuple[TrainState, dict]:
    """Restore a state saved by :func:`save_checkpoint` into the structure of ``template``.

    Returns:
      (state, saved train config dict).
    Raises:
      CheckpointError: unreadable file, or a model configuration that differs from
        ``mcfg`` (the message lists each differing field, saved vs requested).
    """
    saved_model, saved_train, raw_state = read_checkpoint_configs(path)
    wanted = _config_dict(mcfg)
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


# ---------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------


def image_grid(images: np.ndarray, ncols: int, pad: int = 1) -> np.ndarray:
    """Tile float (N, H, W) images in [0, 1] into uint8 (rows*(H+pad)+pad, ...) grey."""
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    n, h, w = images.shape
    nrows = max(1, math.ceil(n / ncols))
    grid = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), 0.35, np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = images[i]
    return np.round(grid * 255).astype(np.uint8)


def save_grid(images: np.ndarray, path, ncols: int = 8, scale: int = 3) -> Path:
    """Save a PNG grid of float (N, H, W) images, each pixel enlarged ``scale`` times."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grid = image_grid(images, ncols)
    img = Image.fromarray(grid, mode="L")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    img.save(path)
    return path


def pair_rows(originals: np.ndarray, recons: np.ndarray) -> np.ndarray:
    """Interleave (N, H, W) originals and reconstructions: o0 r0 o1 r1 ..."""
    out = np.empty((2 * len(originals),) + originals.shape[1:], np.float32)
    out[0::2], out[1::2] = originals, recons
    return out


def save_svgs(strokes: Strokes, out_dir, cfg: ModelConfig, prefix: str = "sample") -> List[Path]:
    """Write each decoded digit of ``strokes`` (batched) as ``out_dir/prefix_XX.svg``.

    Raises:
      RuntimeError: ``diffvg_jax.svg.save_svg`` is not available in this installation.
    """
    try:
        from diffvg_jax.svg import save_svg
    except (ImportError, AttributeError) as exc:
        raise RuntimeError("SVG output needs diffvg_jax.svg.save_svg, which this installation "
                           f"does not provide yet ({exc}); PNGs and checkpoints are unaffected") from None
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    points, widths, alphas = (np.asarray(a) for a in strokes)
    paths = []
    for i in range(points.shape[0]):
        scene = strokes_to_scene(jnp.asarray(points[i]), jnp.asarray(widths[i]), jnp.asarray(alphas[i]), cfg)
        target = out_dir / f"{prefix}_{i:02d}.svg"
        save_svg(scene, str(target))
        paths.append(target)
    return paths


# ---------------------------------------------------------------------------------------
# Training loop (library entry point used by the CLI, the notebook and the bench)
# ---------------------------------------------------------------------------------------


def epoch_batch(step: int, n: int, batch_size: int, seed: int) -> np.ndarray:
    """Indices of the batch used at ``step``: a fresh permutation per epoch, a pure
    function of (step, seed), so a resumed run sees exactly the data it would have seen."""
    per_epoch = max(1, n // batch_size)
    epoch, i = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    if n < batch_size:  # tiny datasets: sample with replacement to fill the batch
        return np.random.default_rng([seed, epoch, 1]).choice(n, batch_size)
    return perm[i * batch_size:(i + 1) * batch_size]


@functools.lru_cache(maxsize=32)
def _compiled_functions(mcfg: ModelConfig, tcfg: TrainConfig, renderer: Renderer):
    # Shared by every Trainer with the same configuration and renderer, so a resumed run
    # (or a second model in a notebook) reuses the compiled step instead of recompiling.
    model = VectorVAE(mcfg)
    encode, decode = make_encode(model), make_decode(model, renderer)
    return (make_train_step(model, tcfg, renderer), make_reconstruct(model, renderer, decode, encode),
            decode, encode)


@dataclasses.dataclass
class Trainer:
    """Bundles a model, its jitted functions and its state.

    Attributes:
      mcfg, tcfg: configurations. renderer: images from strokes (default diffvg_jax).
      state: the current :class:`TrainState`.
    """

    mcfg: ModelConfig
    tcfg: TrainConfig
    renderer: Optional[Renderer] = None
    state: Optional[TrainState] = None

    def __post_init__(self):
        self.model = VectorVAE(self.mcfg)
        if self.renderer is None:
            self.renderer = make_renderer(self.mcfg)
        if self.state is None:
            self.state = init_state(self.model, self.tcfg)
        (self.train_step, self.reconstruct, self.decode,
         self._encode) = _compiled_functions(self.mcfg, self.tcfg, self.renderer)

    @property
    def step(self) -> int:
        return int(self.state.step)

    def fit(self, images: np.ndarray, steps: int, *, progress: bool = True,
            eval_images: Optional[np.ndarray] = None, eval_every: int = 0,
            on_eval: Optional[Callable[[int, Dict[str, float]], None]] = None,
            ckpt_path=None, ckpt_every: int = 0) -> List[Dict[str, float]]:
        """Train until ``self.step == steps`` (absolute, so resuming continues the count).

        Args:
          images: float32 (N, H, W) in [0, 1].
          eval_images: float32 (M, H, W); evaluated every ``eval_every`` steps and at the end.
          ckpt_path, ckpt_every: checkpoint every ``ckpt_every`` steps and at the end.
        Returns:
          The evaluation records, each {'step', 'mse', 'mae', 'bce', 'train_loss', ...}.
        """
        from tqdm.auto import tqdm

        records = []
        start = self.step
        bar = tqdm(total=steps, initial=start, disable=not progress, desc="train", unit="step")
        metrics = {}
        t0 = time.perf_counter()
        for step in range(start, steps):
            idx = epoch_batch(step, len(images), self.tcfg.batch_size, self.tcfg.seed)
            self.state, metrics = self.train_step(self.state, jnp.asarray(images[idx]))
            done = step + 1
            if progress:
                bar.update(1)
                if done % 10 == 0 or done == steps:
                    bar.set_postfix(loss=f"{float(metrics['loss']):.2f}", kl=f"{float(metrics['kl']):.2f}",
                                    mse=f"{float(metrics['mse']):.4f}")
            last = done == steps
            if eval_images is not None and ((eval_every and done % eval_every == 0) or last):
                rec = {"step": done, **evaluate(self.reconstruct, self.state.params, eval_images,
                                                self.tcfg.batch_size),
                       "train_loss": float(metrics["loss"]), "train_kl": float(metrics["kl"]),
                       "elapsed_s": time.perf_counter() - t0}
                records.append(rec)
                if on_eval:
                    on_eval(done, rec)
            if ckpt_path is not None and ((ckpt_every and done % ckpt_every == 0) or last):
                save_checkpoint(ckpt_path, self.state, self.mcfg, self.tcfg)
        bar.close()
        return records

    def encode(self, images: np.ndarray) -> np.ndarray:
        """Posterior means float32 (N, latent) for images float32 (N, H, W)."""
        return np.asarray(self._encode(self.state.params, jnp.asarray(images)))

    def sample(self, n: int, seed: int = 1) -> Tuple[np.ndarray, Strokes]:
        """n digits from the prior N(0, I): (images (n, H, W), Strokes)."""
        z = jax.random.normal(jax.random.PRNGKey(seed), (n, self.mcfg.latent_dim))
        images, strokes = self.decode(self.state.params, z)
        return np.asarray(images), strokes

    def interpolate(self, image_a: np.ndarray, image_b: np.ndarray, steps: int = 8):
        """Decode the straight line between two digits' posterior means: (images, Strokes)."""
        z = self.encode(np.stack([image_a, image_b]))
        images, strokes = self.decode(self.state.params, interpolate_latents(z[0], z[1], steps))
        return np.asarray(images), strokes


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    m, t = ModelConfig(), TrainConfig()
    p = argparse.ArgumentParser(prog="python -m diffvg_jax.examples.mnist_vae",
                                description="Train a vector (Bezier-stroke) VAE on MNIST with diffvg_jax.")
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
    (out / "config.json").write_text(json.dumps({"model": _config_dict(mcfg), "train": _config_dict(tcfg)},
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
    try:
        save_svgs(strokes, out / "svg", mcfg)
    except RuntimeError as exc:
        print(f"warning: {exc}", file=sys.stderr)
    (out / "final_metrics.json").write_text(json.dumps({"step": trainer.step, **final}, indent=2))
    print(f"done: step {trainer.step}, test mse {final['mse']:.4f}, outputs in {out}", file=sys.stderr)
    return final


def main(argv: Optional[Sequence[str]] = None, renderer: Optional[Renderer] = None) -> int:
    """CLI entry point; returns the exit status (2 on bad input, with a one-line message)."""
    keep_freed_memory()  # faster jitted steps on CPU (see diffvg_jax.cpu_memory)
    enable_compilation_cache()  # a second run reuses compiled programs (see diffvg_jax.compile_cache)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        run(args, renderer=renderer)
    except (MnistDataError, CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted (the last checkpoint in --out is intact)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
