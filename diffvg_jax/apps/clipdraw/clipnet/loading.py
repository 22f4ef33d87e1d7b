"""Loading CLIP weights from local files, without torch.

Readable here (all through ``safetensors.numpy`` or NumPy, so no torch is needed):

* a **Hugging Face directory**: ``config.json`` + ``model.safetensors`` (or sharded
  ``model.safetensors.index.json`` + shards), as in ``openai/clip-vit-base-patch32``;
* an **open_clip / OpenAI state dict saved as safetensors** (keys ``visual.conv1.weight``,
  ``transformer.resblocks.0.attn.in_proj_weight`` ...): open_clip's hub repositories ship
  it as ``open_clip_model.safetensors`` beside ``open_clip_config.json``; the architecture
  is read from the tensor shapes (heads = width / 64, as OpenAI's ``build_model``) and the
  activation from ``open_clip_config.json`` (``quick_gelu``) when present, else QuickGELU;
* the same two key layouts in a NumPy ``.npz``.

Not readable without torch: OpenAI's ``.pt`` files (TorchScript zip archives whose tensors
sit behind pickled TorchScript module objects) and open_clip / transformers ``.bin`` /
``.pt`` / ``.pth`` files (pickled torch state dicts). :func:`load` rejects them with the
one-line torch command that converts them to safetensors once.
"""
# long-file: one checkpoint loader; its formats, name mapping and opt-in hub download share
# the same parameter tables, and splitting them would scatter those across files.
from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from typing import Dict, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np
from safetensors.numpy import load_file

from .model import CLIPConfig, CLIPModel, TextConfig, VisionConfig, get_config, init_params, param_shapes
from .preprocess import preprocess
from .tokenizer import tokenize

HF_REPOS = {
    "ViT-B/32": "openai/clip-vit-base-patch32",
    "ViT-B/16": "openai/clip-vit-base-patch16",
    "ViT-L/14": "openai/clip-vit-large-patch14",
    "ViT-L/14@336px": "openai/clip-vit-large-patch14-336",
}

_TORCH_FORMATS = (".pt", ".pth", ".bin", ".ckpt")
_CONVERT_HINT = (
    "Convert it once with torch (pip install torch safetensors), then pass the new file:\n"
    "  python -c \"import torch, safetensors.torch as st; m = torch.load('IN', map_location='cpu', weights_only=False); "
    "sd = m.state_dict() if hasattr(m, 'state_dict') else m.get('state_dict', m); "
    "st.save_file({k: v.float().contiguous() for k, v in sd.items() if hasattr(v, 'float')}, 'OUT.safetensors')\"\n"
    "(for OpenAI's TorchScript .pt use torch.jit.load('IN', map_location='cpu') instead of torch.load)")


class CLIPWeightsNotFound(FileNotFoundError):
    """No usable CLIP weights at the given location (the message says what is expected)."""


def _missing_message(path: str, what: str) -> str:
    return (
        f"CLIP weights not found: {what}\n"
        f"Expected one of:\n"
        f"  * a Hugging Face directory with config.json and model.safetensors\n"
        f"  * an open_clip directory with open_clip_model.safetensors (and open_clip_config.json)\n"
        f"  * a .safetensors or .npz file holding a Hugging Face or open_clip/OpenAI state dict\n"
        f"Get ViT-B/32 (about 600 MB) on a machine with network access, e.g.\n"
        f"  huggingface-cli download openai/clip-vit-base-patch32 config.json model.safetensors "
        f"--local-dir {path}\n"
        f"(other models: {', '.join(HF_REPOS.values())}), or pass download=True "
        f"(CLI: --download) to fetch a model name such as 'ViT-B/32' with huggingface_hub.")


# ---------------------------------------------------------------------------------------
# The loaded model
# ---------------------------------------------------------------------------------------


@dataclass
class CLIP:
    """A CLIP architecture with its parameters.

    Attributes:
      config: the :class:`CLIPConfig`.
      params: the flax parameter tree (float32 leaves), see :mod:`diffvg_jax.clip.model`.
      source: where the weights came from (a path, or 'random').
    The ``*_fn`` functions are pure (params first) for use inside your own ``jax.jit``.
    """

    config: CLIPConfig
    params: dict
    source: str = "random"

    def __post_init__(self):
        self.model = CLIPModel(self.config)
        self._jit_image, self._jit_text = _jitted_encoders(self.config)

    @property
    def image_size(self) -> int:
        """The model's input side S in pixels."""
        return self.config.vision.image_size

    @classmethod
    def random(cls, config: Union[CLIPConfig, str] = "tiny", seed: int = 0) -> "CLIP":
        """Random weights: for tests, CI notebooks and timing (embeddings mean nothing)."""
        if isinstance(config, str):
            config = get_config(config)
        return cls(config, init_params(config, seed), source="random")

    # Pure functions -------------------------------------------------------------------
    def image_fn(self, params, pixels):
        """Normalised float32 (B, S, S, 3) -> float32 (B, E) image embeddings (unnormalised)."""
        return self.model.apply({"params": params}, pixels, method="encode_image")

    def text_fn(self, params, ids):
        """int32 (B, <= 77) token ids -> float32 (B, E) text embeddings (unnormalised)."""
        return self.model.apply({"params": params}, ids, method="encode_text")

    # Convenience (jitted, with self.params) ---------------------------------------------
    def encode_image(self, pixels):
        """float32 (B, S, S, 3) normalised pixels -> float32 (B, E)."""
        return self._jit_image(self.params, jnp.asarray(pixels, jnp.float32))

    def encode_text(self, texts):
        """str, list of str, or int (B, 77) ids -> float32 (B, E)."""
        if isinstance(texts, str) or (isinstance(texts, (list, tuple)) and texts and isinstance(texts[0], str)):
            texts = tokenize(texts, context_length=self.config.text.context_length)
        return self._jit_text(self.params, jnp.asarray(texts, jnp.int32))

    def image_features(self, images):
        """float (B, H, W, 3|4) images in [0, 1] (RGBA over white) -> float32 (B, E),
        through CLIP's preprocessing (:func:`diffvg_jax.clip.preprocess.preprocess`)."""
        return self.encode_image(preprocess(images, self.image_size))

    def similarity(self, images, texts):
        """Cosine similarity, float32 (B_images, B_texts), of [0, 1] images and texts."""
        a = self.image_features(images)
        b = self.encode_text(texts)
        a = a / jnp.linalg.norm(a, axis=-1, keepdims=True)
        b = b / jnp.linalg.norm(b, axis=-1, keepdims=True)
        return a @ b.T


@functools.lru_cache(maxsize=16)
def _jitted_encoders(config: CLIPConfig):
    """(image, text) jitted pure encoders, shared by every CLIP with this config, so that
    reloading weights does not recompile."""
    model = CLIPModel(config)
    image = jax.jit(lambda params, pixels: model.apply({"params": params}, pixels, method="encode_image"))
    text = jax.jit(lambda params, ids: model.apply({"params": params}, ids, method="encode_text"))
    return image, text


# ---------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------


def _read_safetensors(path: str) -> Dict[str, np.ndarray]:
    try:
        return dict(load_file(path))
    except Exception as exc:  # safetensors' own errors do not name the file
        raise ValueError(f"{path}: cannot read as safetensors ({exc})") from exc


def _read_state_dict(path: str) -> Dict[str, np.ndarray]:
    if path.endswith(".safetensors"):
        return _read_safetensors(path)
    if path.endswith(".safetensors.index.json"):
        with open(path) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        out = {}
        for shard in shards:
            out.update(_read_safetensors(os.path.join(os.path.dirname(path), shard)))
        return out
    if path.endswith(".npz"):
        with np.load(path) as data:
            return {k: data[k] for k in data.files}
    if path.endswith(_TORCH_FORMATS):
        raise ValueError(f"{path}: torch checkpoint (.pt/.pth/.bin are pickles or TorchScript archives) "
                         f"cannot be read without torch.\n{_CONVERT_HINT}")
    raise ValueError(f"{path}: unknown CLIP weight format (expected .safetensors or .npz)")


def _hf_config(d: dict) -> CLIPConfig:
    """CLIPConfig from a transformers ``config.json`` dict (missing keys: transformers' defaults)."""
    t = d.get("text_config") or d.get("text_config_dict") or {}
    v = d.get("vision_config") or d.get("vision_config_dict") or {}
    acts = {t.get("hidden_act", "quick_gelu"), v.get("hidden_act", "quick_gelu")}
    if len(acts) != 1 or not acts <= {"quick_gelu", "gelu"}:
        raise ValueError(f"config.json: unsupported hidden_act {sorted(acts)} (need both 'quick_gelu' or both 'gelu')")
    eps = {t.get("layer_norm_eps", 1e-5), v.get("layer_norm_eps", 1e-5)}
    if len(eps) != 1:
        raise ValueError(f"config.json: text and vision layer_norm_eps differ: {sorted(eps)}")
    return CLIPConfig(
        embed_dim=int(d.get("projection_dim", 512)),
        vision=VisionConfig(image_size=int(v.get("image_size", 224)), patch_size=int(v.get("patch_size", 32)),
                            width=int(v.get("hidden_size", 768)), layers=int(v.get("num_hidden_layers", 12)),
                            heads=int(v.get("num_attention_heads", 12)), mlp_dim=int(v.get("intermediate_size", 3072))),
        text=TextConfig(vocab_size=int(t.get("vocab_size", 49408)),
                        context_length=int(t.get("max_position_embeddings", 77)),
                        width=int(t.get("hidden_size", 512)), layers=int(t.get("num_hidden_layers", 12)),
                        heads=int(t.get("num_attention_heads", 8)), mlp_dim=int(t.get("intermediate_size", 2048)),
                        eos_token_id=int(t.get("eos_token_id", 49407))),
        activation=acts.pop(), layer_norm_eps=float(eps.pop()),
        logit_scale_init=float(d.get("logit_scale_init_value", 2.6592)))


def _count_layers(sd, prefix):
    pat = re.compile(re.escape(prefix) + r"(\d+)\.")
    found = {int(m.group(1)) for k in sd for m in [pat.match(k)] if m}
    return max(found) + 1 if found else 0


def _openai_config(sd: Dict[str, np.ndarray], oc_json: Optional[dict]) -> CLIPConfig:
    """CLIPConfig inferred from an OpenAI/open_clip state dict's shapes (as OpenAI's
    ``build_model``), with heads and activation from ``open_clip_config.json`` when given."""
    model_cfg = (oc_json or {}).get("model_cfg", oc_json or {})
    vcfg, tcfg = model_cfg.get("vision_cfg", {}), model_cfg.get("text_cfg", {})
    conv = sd["visual.conv1.weight"]
    v_width, patch = conv.shape[0], conv.shape[-1]
    grid = int(round((sd["visual.positional_embedding"].shape[0] - 1) ** 0.5))
    t_width = sd["ln_final.weight"].shape[0]
    v_mlp = sd["visual.transformer.resblocks.0.mlp.c_fc.weight"].shape[0]
    t_mlp = sd["transformer.resblocks.0.mlp.c_fc.weight"].shape[0]
    head_width = int(vcfg.get("head_width", 64))
    quick = model_cfg.get("quick_gelu", oc_json is None)  # OpenAI's own weights use QuickGELU
    return CLIPConfig(
        embed_dim=int(sd["text_projection"].shape[1]),
        vision=VisionConfig(image_size=grid * patch, patch_size=patch, width=v_width,
                            layers=_count_layers(sd, "visual.transformer.resblocks."),
                            heads=v_width // head_width, mlp_dim=v_mlp),
        text=TextConfig(vocab_size=sd["token_embedding.weight"].shape[0],
                        context_length=sd["positional_embedding"].shape[0], width=t_width,
                        layers=_count_layers(sd, "transformer.resblocks."),
                        heads=int(tcfg.get("heads", t_width // 64)), mlp_dim=t_mlp, eos_token_id=2),
        activation="quick_gelu" if quick else "gelu")


def _scalar(x):
    x = np.asarray(x)
    return x.reshape(()) if x.size == 1 else x  # a wrong size is reported by the shape check


def _ln(sd, key):
    return {"scale": sd.pop(key + ".weight"), "bias": sd.pop(key + ".bias")}


def _dense(sd, key, bias=True):
    out = {"kernel": sd.pop(key + ".weight").T}
    if bias:
        out["bias"] = sd.pop(key + ".bias")
    return out


def _hf_block(sd, p):
    return {"ln_1": _ln(sd, p + "layer_norm1"), "ln_2": _ln(sd, p + "layer_norm2"),
            "attn": {n: _dense(sd, f"{p}self_attn.{hf}_proj") for n, hf in
                     (("q", "q"), ("k", "k"), ("v", "v"), ("out", "out"))},
            "fc1": _dense(sd, p + "mlp.fc1"), "fc2": _dense(sd, p + "mlp.fc2")}


def _openai_block(sd, p):
    w = sd.pop(p + "attn.in_proj_weight")
    b = sd.pop(p + "attn.in_proj_bias")
    d = w.shape[1]
    attn = {n: {"kernel": w[i * d:(i + 1) * d].T, "bias": b[i * d:(i + 1) * d]} for i, n in enumerate("qkv")}
    attn["out"] = _dense(sd, p + "attn.out_proj")
    return {"ln_1": _ln(sd, p + "ln_1"), "ln_2": _ln(sd, p + "ln_2"), "attn": attn,
            "fc1": _dense(sd, p + "mlp.c_fc"), "fc2": _dense(sd, p + "mlp.c_proj")}


def _params_from_hf(sd: Dict[str, np.ndarray], cfg: CLIPConfig) -> dict:
    sd = dict(sd)
    sd.pop("text_model.embeddings.position_ids", None)  # buffers in older exports
    sd.pop("vision_model.embeddings.position_ids", None)
    vis = {"patch_embed": sd.pop("vision_model.embeddings.patch_embedding.weight").transpose(2, 3, 1, 0),
           "class_embedding": sd.pop("vision_model.embeddings.class_embedding"),
           "position_embedding": sd.pop("vision_model.embeddings.position_embedding.weight"),
           "ln_pre": _ln(sd, "vision_model.pre_layrnorm"),
           "ln_post": _ln(sd, "vision_model.post_layernorm"),
           "proj": _dense(sd, "visual_projection", bias=False)}
    for i in range(cfg.vision.layers):
        vis[f"block_{i}"] = _hf_block(sd, f"vision_model.encoder.layers.{i}.")
    txt = {"token_embedding": {"embedding": sd.pop("text_model.embeddings.token_embedding.weight")},
           "position_embedding": sd.pop("text_model.embeddings.position_embedding.weight"),
           "ln_final": _ln(sd, "text_model.final_layer_norm"),
           "proj": _dense(sd, "text_projection", bias=False)}
    for i in range(cfg.text.layers):
        txt[f"block_{i}"] = _hf_block(sd, f"text_model.encoder.layers.{i}.")
    params = {"visual": vis, "text": txt, "logit_scale": _scalar(sd.pop("logit_scale"))}
    return params, sd


def _params_from_openai(sd: Dict[str, np.ndarray], cfg: CLIPConfig) -> dict:
    sd = {k: v for k, v in sd.items() if k not in ("input_resolution", "context_length", "vocab_size")}
    vis = {"patch_embed": sd.pop("visual.conv1.weight").transpose(2, 3, 1, 0),
           "class_embedding": sd.pop("visual.class_embedding"),
           "position_embedding": sd.pop("visual.positional_embedding"),
           "ln_pre": _ln(sd, "visual.ln_pre"), "ln_post": _ln(sd, "visual.ln_post"),
           "proj": {"kernel": sd.pop("visual.proj")}}
    for i in range(cfg.vision.layers):
        vis[f"block_{i}"] = _openai_block(sd, f"visual.transformer.resblocks.{i}.")
    txt = {"token_embedding": {"embedding": sd.pop("token_embedding.weight")},
           "position_embedding": sd.pop("positional_embedding"),
           "ln_final": _ln(sd, "ln_final"), "proj": {"kernel": sd.pop("text_projection")}}
    for i in range(cfg.text.layers):
        txt[f"block_{i}"] = _openai_block(sd, f"transformer.resblocks.{i}.")
    params = {"visual": vis, "text": txt, "logit_scale": _scalar(sd.pop("logit_scale"))}
    return params, sd


def params_from_state_dict(sd: Dict[str, np.ndarray], config: Optional[CLIPConfig] = None,
                           open_clip_config: Optional[dict] = None, where: str = "state dict"):
    """(config, params) from a NumPy state dict in the Hugging Face or OpenAI/open_clip layout.

    Raises ValueError naming ``where`` and the offending keys when tensors are missing,
    left over or of the wrong shape.
    """
    if "vision_model.embeddings.patch_embedding.weight" in sd:
        layout = "hf"
        if config is None:
            raise ValueError(f"{where}: a Hugging Face state dict needs its config.json")
        convert = _params_from_hf
    elif "visual.conv1.weight" in sd:
        layout = "openai"
        config = config or _openai_config(sd, open_clip_config)
        convert = _params_from_openai
    else:
        raise ValueError(f"{where}: not a CLIP ViT state dict (found neither "
                         f"'vision_model.embeddings.patch_embedding.weight' nor 'visual.conv1.weight'; "
                         f"first keys: {sorted(sd)[:5]})")
    try:
        params, leftover = convert(sd, config)
    except KeyError as exc:
        raise ValueError(f"{where}: missing tensor {exc.args[0]!r} for a {layout} CLIP with "
                         f"{config.vision.layers} vision / {config.text.layers} text layers") from None
    if leftover:
        raise ValueError(f"{where}: unexpected tensors (not a plain ViT CLIP?): {sorted(leftover)[:8]}")
    expected = param_shapes(config)
    params = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.float32), params)
    exp_flat = dict(jax.tree_util.tree_flatten_with_path(expected)[0])
    got_flat = dict(jax.tree_util.tree_flatten_with_path(params)[0])
    for path, spec in exp_flat.items():
        name = jax.tree_util.keystr(path)
        if path not in got_flat:
            raise ValueError(f"{where}: parameter {name} missing after conversion")
        if tuple(got_flat[path].shape) != tuple(spec.shape):
            raise ValueError(f"{where}: parameter {name} has shape {got_flat[path].shape}, "
                             f"the config needs {spec.shape}")
    return config, jax.tree_util.tree_map(jnp.asarray, params)


def _download(name: str, cache_dir: Optional[str]) -> str:
    repo = HF_REPOS.get(name, name)
    try:  # an optional extra ('clip-download'): imported only when a download is asked for
        from huggingface_hub import snapshot_download
    except ImportError:
        raise CLIPWeightsNotFound(f"download=True needs the huggingface_hub package (pip install huggingface_hub) "
                                  f"to fetch {repo}") from None
    return snapshot_download(repo, allow_patterns=["config.json", "model.safetensors"], cache_dir=cache_dir)


def load(path: Union[str, os.PathLike], *, config: Optional[CLIPConfig] = None, download: bool = False,
         cache_dir: Optional[str] = None) -> CLIP:
    """Load CLIP weights from a local directory or file (see the module docstring for formats).

    Args:
      path: a directory (Hugging Face or open_clip layout) or a .safetensors / .npz file;
        ``~`` is expanded. With ``download=True`` it may also be a model name ('ViT-B/32',
        'ViT-B/16', 'ViT-L/14') or a Hugging Face repo id, fetched with huggingface_hub
        when no such local path exists. Nothing is downloaded otherwise.
      config: overrides the architecture read from the files.
    Raises:
      CLIPWeightsNotFound (a FileNotFoundError) listing the expected files and where to get
      them; ValueError for unreadable or mismatching files.
    """
    path = os.path.expanduser(os.fspath(path))
    if not os.path.exists(path):
        if download:
            path = _download(path, cache_dir)
        else:
            raise CLIPWeightsNotFound(_missing_message(path, f"{path!r} does not exist"))
    oc_json = None
    if os.path.isdir(path):
        names = set(os.listdir(path))
        if "model.safetensors" in names or "model.safetensors.index.json" in names:
            if "config.json" not in names and config is None:
                raise CLIPWeightsNotFound(_missing_message(path, f"{path}: model.safetensors without config.json"))
            weights = os.path.join(path, "model.safetensors" if "model.safetensors" in names
                                   else "model.safetensors.index.json")
        elif "open_clip_model.safetensors" in names:
            weights = os.path.join(path, "open_clip_model.safetensors")
            if "open_clip_config.json" in names:
                with open(os.path.join(path, "open_clip_config.json")) as f:
                    oc_json = json.load(f)
        else:
            torch_files = sorted(n for n in names if n.endswith(_TORCH_FORMATS))
            extra = (f"; found torch files {torch_files}, which need torch to read.\n{_CONVERT_HINT}"
                     if torch_files else "")
            raise CLIPWeightsNotFound(_missing_message(path, f"{path}: no model.safetensors or "
                                                             f"open_clip_model.safetensors{extra}"))
        if config is None and "config.json" in names and "model.safetensors" in os.path.basename(weights):
            with open(os.path.join(path, "config.json")) as f:
                config = _hf_config(json.load(f))
    else:
        weights = path
    sd = _read_state_dict(weights)
    beside = os.path.join(os.path.dirname(weights), "config.json")
    if config is None and "visual.conv1.weight" not in sd and os.path.exists(beside):
        with open(beside) as f:
            config = _hf_config(json.load(f))
    config, params = params_from_state_dict(sd, config, oc_json, where=weights)
    return CLIP(config, params, source=weights)
