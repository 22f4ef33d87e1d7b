"""OpenAI CLIP in flax (linen): the ViT image encoder and the causal text transformer.

Both towers are pre-LayerNorm transformers. The image tower cuts a (S, S, 3) image into
(S/P)^2 patches, prepends a learned class token, adds position embeddings, applies
``ln_pre``, the blocks, ``ln_post`` on the class token and a bias-free projection to the
joint embedding. The text tower embeds token ids, adds position embeddings, runs the
blocks under a causal mask, applies ``ln_final`` and projects the hidden state at the
end-of-text token. Embeddings are returned unnormalised (divide by their norm to get
cosine similarities), as ``get_image_features`` / ``get_text_features`` do in transformers.

Parameter tree (``params`` of :meth:`CLIPModel.init`)::

    visual: patch_embed/kernel (P, P, 3, Dv), class_embedding (Dv,),
            position_embedding (N + 1, Dv), ln_pre, block_{i}, ln_post, proj/kernel (Dv, E)
    text:   token_embedding/embedding (V, Dt), position_embedding (C, Dt), block_{i},
            ln_final, proj/kernel (Dt, E)
    logit_scale ()   (log of the softmax temperature's inverse)
    block_{i}: ln_1, attn/{q,k,v,out}/{kernel (D, D), bias (D,)}, ln_2,
               mlp/{fc1 (D, M), fc2 (M, D)}/{kernel, bias}
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

ACTIVATIONS = ("quick_gelu", "gelu")


@dataclass(frozen=True)
class VisionConfig:
    """ViT image tower. Sizes in pixels (image_size, patch_size) and channels (the rest)."""

    image_size: int = 224
    patch_size: int = 32
    width: int = 768
    layers: int = 12
    heads: int = 12
    mlp_dim: int = 3072

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size


@dataclass(frozen=True)
class TextConfig:
    """Text tower. ``eos_token_id`` selects the pooled position like transformers does:
    2 (the legacy value in OpenAI's converted configs) means "the largest token id", which
    is ``<|endoftext|>`` (49407) for CLIP's vocabulary; any other value means "the first
    position holding that id"."""

    vocab_size: int = 49408
    context_length: int = 77
    width: int = 512
    layers: int = 12
    heads: int = 8
    mlp_dim: int = 2048
    eos_token_id: int = 49407


@dataclass(frozen=True)
class CLIPConfig:
    """A CLIP architecture. ``embed_dim``: joint embedding size E; ``activation``: MLP
    nonlinearity ('quick_gelu' for OpenAI's models, 'gelu' for many open_clip ones)."""

    embed_dim: int = 512
    vision: VisionConfig = field(default_factory=VisionConfig)
    text: TextConfig = field(default_factory=TextConfig)
    activation: str = "quick_gelu"
    layer_norm_eps: float = 1e-5
    logit_scale_init: float = math.log(1 / 0.07)

    def __post_init__(self):
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"CLIPConfig.activation: unknown {self.activation!r}; expected one of {ACTIVATIONS}")
        v, t = self.vision, self.text
        if v.image_size % v.patch_size:
            raise ValueError(f"CLIPConfig.vision: image_size {v.image_size} is not a multiple of patch_size {v.patch_size}")
        for name, width, heads in (("vision", v.width, v.heads), ("text", t.width, t.heads)):
            if width % heads:
                raise ValueError(f"CLIPConfig.{name}: width {width} is not divisible by heads {heads}")

    def replace(self, **changes) -> "CLIPConfig":
        return dataclasses.replace(self, **changes)

    # OpenAI's published architectures (the configs of openai/clip-vit-*-patch* on Hugging Face).
    @classmethod
    def vit_b32(cls) -> "CLIPConfig":
        return cls(embed_dim=512, vision=VisionConfig(224, 32, 768, 12, 12, 3072),
                   text=TextConfig(49408, 77, 512, 12, 8, 2048))

    @classmethod
    def vit_b16(cls) -> "CLIPConfig":
        return cls(embed_dim=512, vision=VisionConfig(224, 16, 768, 12, 12, 3072),
                   text=TextConfig(49408, 77, 512, 12, 8, 2048))

    @classmethod
    def vit_l14(cls, image_size: int = 224) -> "CLIPConfig":
        return cls(embed_dim=768, vision=VisionConfig(image_size, 14, 1024, 24, 16, 4096),
                   text=TextConfig(49408, 77, 768, 12, 12, 3072))

    @classmethod
    def tiny(cls, image_size: int = 32, patch_size: int = 8) -> "CLIPConfig":
        """A small random-weight architecture for tests, notebooks in CI and timing code
        paths (CLIP's real vocabulary size, so real token ids are valid)."""
        return cls(embed_dim=32, vision=VisionConfig(image_size, patch_size, 48, 2, 2, 96),
                   text=TextConfig(49408, 77, 32, 2, 2, 64))


CONFIGS = {
    "ViT-B/32": CLIPConfig.vit_b32,
    "ViT-B/16": CLIPConfig.vit_b16,
    "ViT-L/14": CLIPConfig.vit_l14,
    "ViT-L/14@336px": lambda: CLIPConfig.vit_l14(336),
    "tiny": CLIPConfig.tiny,
}


def get_config(name: str) -> CLIPConfig:
    """A named architecture: one of ``CONFIGS`` ('ViT-B/32', 'ViT-B/16', 'ViT-L/14', ...)."""
    if name not in CONFIGS:
        raise ValueError(f"unknown CLIP architecture {name!r}; known: {sorted(CONFIGS)}")
    return CONFIGS[name]()


def _activation(name):
    if name == "quick_gelu":
        return lambda x: x * jax.nn.sigmoid(1.702 * x)
    return lambda x: jax.nn.gelu(x, approximate=False)


class Attention(nn.Module):
    """Multi-head self-attention with separate q/k/v/out projections (all with bias)."""

    width: int
    heads: int

    @nn.compact
    def __call__(self, x, mask=None):
        b, n, _ = x.shape
        hd = self.width // self.heads
        split = lambda t: t.reshape(b, n, self.heads, hd)
        q = split(nn.Dense(self.width, name="q")(x)) * hd ** -0.5
        k = split(nn.Dense(self.width, name="k")(x))
        v = split(nn.Dense(self.width, name="v")(x))
        logits = jnp.einsum("bqhd,bkhd->bhqk", q, k)
        if mask is not None:
            logits = jnp.where(mask, logits, jnp.finfo(logits.dtype).min)
        weights = jax.nn.softmax(logits, axis=-1)
        out = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(b, n, self.width)
        return nn.Dense(self.width, name="out")(out)


class Block(nn.Module):
    """Pre-LN residual block: x + attn(ln_1(x)), then + mlp(ln_2(x))."""

    width: int
    heads: int
    mlp_dim: int
    activation: str
    eps: float

    @nn.compact
    def __call__(self, x, mask=None):
        x = x + Attention(self.width, self.heads, name="attn")(nn.LayerNorm(self.eps, name="ln_1")(x), mask)
        h = nn.LayerNorm(self.eps, name="ln_2")(x)
        h = nn.Dense(self.mlp_dim, name="fc1")(h)
        h = _activation(self.activation)(h)
        return x + nn.Dense(self.width, name="fc2")(h)


class VisionTower(nn.Module):
    config: CLIPConfig

    @nn.compact
    def __call__(self, pixels):
        cfg, v = self.config, self.config.vision
        b, h, w, c = pixels.shape
        if (h, w, c) != (v.image_size, v.image_size, 3):
            raise ValueError(f"CLIP image encoder expects images of shape (B, {v.image_size}, {v.image_size}, 3) "
                             f"(NHWC, normalised), got {tuple(pixels.shape)}")
        p, g = v.patch_size, v.grid
        kernel = self.param("patch_embed", nn.initializers.normal(0.02), (p, p, 3, v.width))
        # A stride-P convolution without bias is a matmul over non-overlapping patches.
        patches = pixels.reshape(b, g, p, g, p, 3)
        x = jnp.einsum("bhpwqc,pqcd->bhwd", patches, kernel).reshape(b, g * g, v.width)
        cls = self.param("class_embedding", nn.initializers.normal(v.width ** -0.5), (v.width,))
        pos = self.param("position_embedding", nn.initializers.normal(0.01), (g * g + 1, v.width))
        x = jnp.concatenate([jnp.broadcast_to(cls, (b, 1, v.width)), x], axis=1) + pos
        x = nn.LayerNorm(cfg.layer_norm_eps, name="ln_pre")(x)
        for i in range(v.layers):
            x = Block(v.width, v.heads, v.mlp_dim, cfg.activation, cfg.layer_norm_eps, name=f"block_{i}")(x)
        pooled = nn.LayerNorm(cfg.layer_norm_eps, name="ln_post")(x[:, 0])
        return nn.Dense(cfg.embed_dim, use_bias=False, name="proj")(pooled)


class TextTower(nn.Module):
    config: CLIPConfig

    @nn.compact
    def __call__(self, ids):
        cfg, t = self.config, self.config.text
        b, n = ids.shape
        if n > t.context_length:
            raise ValueError(f"CLIP text encoder takes at most {t.context_length} tokens, got {n}")
        x = nn.Embed(t.vocab_size, t.width, embedding_init=nn.initializers.normal(0.02),
                     name="token_embedding")(ids)
        pos = self.param("position_embedding", nn.initializers.normal(0.01), (t.context_length, t.width))
        x = x + pos[:n]
        causal = jnp.tril(jnp.ones((n, n), dtype=bool))[None, None]
        for i in range(t.layers):
            x = Block(t.width, t.heads, t.mlp_dim, cfg.activation, cfg.layer_norm_eps, name=f"block_{i}")(x, causal)
        x = nn.LayerNorm(cfg.layer_norm_eps, name="ln_final")(x)
        if t.eos_token_id == 2:
            end = jnp.argmax(ids, axis=-1)
        else:
            end = jnp.argmax(ids == t.eos_token_id, axis=-1)
        pooled = x[jnp.arange(b), end]
        return nn.Dense(cfg.embed_dim, use_bias=False, name="proj")(pooled)


class CLIPModel(nn.Module):
    """CLIP's two towers.

    ``model.apply({'params': p}, pixels, method='encode_image')``: pixels float32
    (B, S, S, 3), NHWC, already normalised (see :mod:`diffvg_jax.clip.preprocess`) ->
    float32 (B, E). ``method='encode_text'``: int32 (B, <= C) token ids -> float32 (B, E).
    ``__call__(pixels, ids)`` returns (image_embeds, text_embeds, logit_scale) and is
    what :meth:`init` traces.
    """

    config: CLIPConfig

    def setup(self):
        self.visual = VisionTower(self.config, name="visual")
        self.text = TextTower(self.config, name="text")
        self.logit_scale = self.param("logit_scale", nn.initializers.constant(self.config.logit_scale_init), ())

    def encode_image(self, pixels):
        return self.visual(pixels)

    def encode_text(self, ids):
        return self.text(ids)

    def __call__(self, pixels, ids):
        return self.encode_image(pixels), self.encode_text(ids), self.logit_scale


def param_shapes(config: CLIPConfig):
    """The parameter tree of ``config`` as ``jax.ShapeDtypeStruct`` leaves (nothing computed)."""
    model = CLIPModel(config)
    s = config.vision.image_size
    pixels = jax.ShapeDtypeStruct((1, s, s, 3), jnp.float32)
    ids = jax.ShapeDtypeStruct((1, config.text.context_length), jnp.int32)
    return jax.eval_shape(lambda p, i: model.init(jax.random.PRNGKey(0), p, i)["params"], pixels, ids)


def init_params(config: CLIPConfig, seed: int = 0):
    """Random float32 parameters for ``config`` (the tree documented in this module).

    LayerNorm scales 1, biases 0, ``logit_scale`` its initial value, every other weight
    normal with std 0.02 (CLIP's own initialisation is similar in scale). Drawn with NumPy
    because tracing flax's initialisers costs seconds of compilation on CPU.
    """
    rng = np.random.default_rng(seed)

    def draw(path, spec):
        name = jax.tree_util.keystr(path)
        if name.endswith("['scale']"):
            return np.ones(spec.shape, np.float32)
        if name.endswith("['bias']"):
            return np.zeros(spec.shape, np.float32)
        if name == "['logit_scale']":
            return np.full(spec.shape, config.logit_scale_init, np.float32)
        return (0.02 * rng.standard_normal(spec.shape)).astype(np.float32)

    params = jax.tree_util.tree_map_with_path(draw, param_shapes(config))
    return jax.tree_util.tree_map(jnp.asarray, params)
