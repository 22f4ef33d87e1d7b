"""The trainer: a model, its jitted functions and its state, trained on a fixed, resumable
data order with periodic evaluation and checkpoints (the library entry point used by the
command line, the notebook and the bench)."""
from __future__ import annotations

import dataclasses
import functools
import time
from typing import Callable, Dict, List, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from diffvg_jax.apps.common.progress import run_steps
from .checkpoint import save_checkpoint
from .config import ModelConfig, TrainConfig
from .model import Strokes, VectorVAE
from .render import Renderer, make_renderer
from .train import (TrainState, evaluate, init_state, interpolate_latents, make_decode, make_encode,
                    make_reconstruct, make_train_step)

__all__ = ["Trainer", "epoch_batch"]


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
        records: List[Dict[str, float]] = []
        metrics: Dict = {}
        t0 = time.perf_counter()

        def one(step):
            idx = epoch_batch(step, len(images), self.tcfg.batch_size, self.tcfg.seed)
            self.state, new = self.train_step(self.state, jnp.asarray(images[idx]))
            metrics.update(new)
            done = step + 1
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
            return new["loss"]

        def show(step):
            return {"loss": f"{float(metrics['loss']):.2f}", "kl": f"{float(metrics['kl']):.2f}",
                    "mse": f"{float(metrics['mse']):.4f}"}

        run_steps(one, self.step, steps, progress=progress, desc="train", unit="step", show=show, show_every=10)
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
