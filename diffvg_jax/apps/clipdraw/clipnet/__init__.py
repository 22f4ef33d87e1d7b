"""CLIP (OpenAI's ViT image and text encoders) in flax, with an offline tokenizer.

    clip = diffvg_jax.clip.load("~/models/clip-vit-base-patch32")   # HF dir, no torch
    ids = diffvg_jax.clip.tokenize(["a drawing of a cat"])          # int32 (1, 77)
    sims = clip.similarity(images_01, ["a drawing of a cat"])       # cosine, (B, 1)
    tiny = diffvg_jax.clip.CLIP.random("tiny")                      # random weights

See ``loading`` for the readable checkpoint formats and ``preprocess`` for the
differentiable resize / centre crop / normalisation.
"""
from .model import (CLIPConfig, CLIPModel, TextConfig, VisionConfig, CONFIGS, get_config,
                    init_params, param_shapes)
from .tokenizer import Tokenizer, tokenize, default_tokenizer, SOT_ID, EOT_ID
from .preprocess import MEAN, STD, normalize, preprocess, composite, center_crop, resize_shorter_side
from .loading import CLIP, CLIPWeightsNotFound, HF_REPOS, load, params_from_state_dict

__all__ = [
    "CLIP", "CLIPConfig", "CLIPModel", "CLIPWeightsNotFound", "CONFIGS", "EOT_ID", "HF_REPOS",
    "MEAN", "SOT_ID", "STD", "TextConfig", "Tokenizer", "VisionConfig", "center_crop",
    "composite", "default_tokenizer", "get_config", "init_params", "load", "normalize",
    "param_shapes", "params_from_state_dict", "preprocess", "resize_shorter_side", "tokenize",
]
