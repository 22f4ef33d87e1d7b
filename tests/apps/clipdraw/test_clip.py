"""CLIP in flax: parity with transformers' PyTorch CLIPModel, loading, preprocessing, errors.

The fixtures under tests/fixtures/clip_tiny_* were written by
tests/fixtures/make_clip_fixture.py (torch + transformers, not needed here).
"""
import dataclasses
import json
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import diffvg_jax.apps.clipdraw.clipnet as C

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures")
TOL = 1e-4


def _fixture(name):
    path = os.path.join(FIXTURES, f"clip_tiny_{name}")
    return path, dict(np.load(os.path.join(path, "reference.npz")))


@pytest.fixture(scope="module")
def quick():
    path, ref = _fixture("quickgelu")
    return C.load(path), ref


def _check_embeddings(clip, ref):
    img = np.asarray(clip.encode_image(ref["pixels"]))
    txt = np.asarray(clip.encode_text(ref["input_ids"]))
    np.testing.assert_allclose(img, ref["image_embeds"], atol=TOL, rtol=0)
    np.testing.assert_allclose(txt, ref["text_embeds"], atol=TOL, rtol=0)
    return img, txt


def test_clip_parity_quickgelu_first_eos_pooling(quick):
    clip, ref = quick
    assert clip.config.activation == "quick_gelu" and clip.config.text.eos_token_id == 500
    img, txt = _check_embeddings(clip, ref)
    # logits as CLIPModel computes them: exp(logit_scale) * cosine
    a = img / np.linalg.norm(img, axis=-1, keepdims=True)
    b = txt / np.linalg.norm(txt, axis=-1, keepdims=True)
    logits = np.exp(float(clip.params["logit_scale"])) * a @ b.T
    np.testing.assert_allclose(logits, ref["logits_per_image"], atol=1e-3, rtol=1e-5)


def test_clip_parity_gelu_legacy_argmax_pooling():
    path, ref = _fixture("gelu")
    clip = C.load(path)
    assert clip.config.activation == "gelu" and clip.config.text.eos_token_id == 2
    _check_embeddings(clip, ref)


def _to_openai_layout(sd, cfg):
    """The open_clip / OpenAI key layout of a Hugging Face CLIP state dict (NumPy)."""
    out = {"visual.conv1.weight": sd["vision_model.embeddings.patch_embedding.weight"],
           "visual.class_embedding": sd["vision_model.embeddings.class_embedding"],
           "visual.positional_embedding": sd["vision_model.embeddings.position_embedding.weight"],
           "visual.proj": sd["visual_projection.weight"].T,
           "token_embedding.weight": sd["text_model.embeddings.token_embedding.weight"],
           "positional_embedding": sd["text_model.embeddings.position_embedding.weight"],
           "text_projection": sd["text_projection.weight"].T,
           "logit_scale": sd["logit_scale"]}
    for ours, theirs in (("visual.ln_pre", "vision_model.pre_layrnorm"), ("visual.ln_post", "vision_model.post_layernorm"),
                         ("ln_final", "text_model.final_layer_norm")):
        for p in ("weight", "bias"):
            out[f"{ours}.{p}"] = sd[f"{theirs}.{p}"]
    for tower, hf, layers in (("visual.transformer", "vision_model.encoder", cfg.vision.layers),
                              ("transformer", "text_model.encoder", cfg.text.layers)):
        for i in range(layers):
            a, b = f"{tower}.resblocks.{i}.", f"{hf}.layers.{i}."
            for p in ("weight", "bias"):
                out[a + "attn.in_proj_" + p] = np.concatenate([sd[f"{b}self_attn.{n}_proj.{p}"] for n in "qkv"])
                out[a + "attn.out_proj." + p] = sd[f"{b}self_attn.out_proj.{p}"]
                out[a + "ln_1." + p] = sd[f"{b}layer_norm1.{p}"]
                out[a + "ln_2." + p] = sd[f"{b}layer_norm2.{p}"]
                out[a + "mlp.c_fc." + p] = sd[f"{b}mlp.fc1.{p}"]
                out[a + "mlp.c_proj." + p] = sd[f"{b}mlp.fc2.{p}"]
    return {k: np.array(v, order="C") for k, v in out.items()}  # safetensors writes raw memory


def test_clip_parity_open_clip_layout_safetensors_and_npz(tmp_path, quick):
    """The same weights in open_clip's layout (fused qkv, transposed projections) give the
    same embeddings; heads come from open_clip_config.json (here width 40 / head_width 8)."""
    from safetensors.numpy import load_file, save_file
    clip, ref = quick
    path, _ = _fixture("quickgelu")
    sd = _to_openai_layout(load_file(os.path.join(path, "model.safetensors")), clip.config)
    folder = tmp_path / "oc"
    folder.mkdir()
    save_file(sd, str(folder / "open_clip_model.safetensors"))
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": {
        "embed_dim": 24, "quick_gelu": True, "vision_cfg": {"head_width": 8}, "text_cfg": {"heads": 4}}}))
    loaded = C.load(folder)
    assert loaded.config.vision.heads == 5 and loaded.config.text.heads == 4
    assert loaded.config.text.eos_token_id == 2  # OpenAI's layout pools at the largest id
    np.testing.assert_allclose(np.asarray(loaded.encode_image(ref["pixels"])), ref["image_embeds"], atol=TOL)
    # The fixture's end token (500) is not its largest id: pool at the first 500 instead.
    first_eos = loaded.config.replace(text=dataclasses.replace(loaded.config.text, eos_token_id=500))
    loaded = C.load(folder, config=first_eos)
    np.testing.assert_allclose(np.asarray(loaded.encode_text(ref["input_ids"])), ref["text_embeds"], atol=TOL)
    np.savez(tmp_path / "oc.npz", **sd)
    from_npz = C.load(tmp_path / "oc.npz", config=loaded.config)
    np.testing.assert_allclose(np.asarray(from_npz.encode_image(ref["pixels"])), ref["image_embeds"], atol=TOL)


def test_missing_weights_error_lists_files_and_source(tmp_path):
    with pytest.raises(C.CLIPWeightsNotFound) as err:
        C.load(tmp_path / "nowhere")
    msg = str(err.value)
    for expected in ("config.json", "model.safetensors", "open_clip_model.safetensors",
                     "openai/clip-vit-base-patch32", "download=True"):
        assert expected in msg
    (tmp_path / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(C.CLIPWeightsNotFound, match=r"pytorch_model.bin.*need torch"):
        C.load(tmp_path)
    with pytest.raises(ValueError, match="cannot be read without torch"):
        C.load(tmp_path / "pytorch_model.bin")


def test_corrupt_or_mismatched_weights_are_named(tmp_path):
    path, _ = _fixture("gelu")
    bad = tmp_path / "bad"
    shutil.copytree(path, bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["vision_config"]["num_hidden_layers"] = 3
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"model.safetensors: missing tensor 'vision_model.encoder.layers.2"):
        C.load(bad)
    cfg["vision_config"]["num_hidden_layers"] = 2
    cfg["projection_dim"] = 20
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"\['proj'\]\['kernel'\] has shape \(\d+, 24\), the config needs \(\d+, 20\)"):
        C.load(bad)
    (bad / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="cannot read as safetensors"):
        C.load(bad)


def test_named_configs_have_openai_sizes():
    b32, l14 = C.get_config("ViT-B/32"), C.get_config("ViT-L/14")
    assert (b32.vision.grid, b32.vision.width, b32.embed_dim) == (7, 768, 512)
    assert C.get_config("ViT-B/16").vision.grid == 14
    assert (l14.vision.width, l14.vision.layers, l14.text.width, l14.embed_dim) == (1024, 24, 768, 768)
    shapes = C.param_shapes(b32)
    n = sum(int(np.prod(s.shape)) for s in jax.tree.leaves(shapes))
    assert n == 151_277_313  # openai/clip-vit-base-patch32's parameter count (without buffers)
    with pytest.raises(ValueError, match="unknown CLIP architecture"):
        C.get_config("RN50")


def test_preprocess_matches_numpy_reference_and_is_differentiable():
    rng = np.random.default_rng(0)
    img = rng.random((40, 30, 4)).astype(np.float32)
    out = np.asarray(C.preprocess(img, size=30))  # shorter side already 30: crop only
    rgb = img[..., :3] * img[..., 3:] + (1 - img[..., 3:])
    top = 5  # round((40 - 30) / 2)
    want = (rgb[top:top + 30] - np.array(C.MEAN)) / np.array(C.STD)
    np.testing.assert_allclose(out, want, atol=1e-5)
    # resizing preserves a constant image, and the gradient of a mean reaches every pixel
    const = np.full((48, 64, 3), 0.25, np.float32)
    small = np.asarray(C.preprocess(const, size=24))
    assert small.shape == (24, 24, 3)
    np.testing.assert_allclose(small, np.broadcast_to((0.25 - np.array(C.MEAN)) / np.array(C.STD), small.shape), atol=1e-5)
    g = jax.grad(lambda x: C.preprocess(x, size=24).sum())(jnp.asarray(const))
    assert np.isfinite(np.asarray(g)).all() and (np.asarray(g)[:, 8:56] != 0).all()
    with pytest.raises(ValueError, match="3 \\(RGB\\) or 4 \\(RGBA\\) channels"):
        C.preprocess(np.zeros((8, 8, 2)), size=8)


def test_similarity_of_tiny_random_clip_is_a_cosine():
    clip = C.CLIP.random("tiny", seed=1)
    sims = np.asarray(clip.similarity(np.random.default_rng(0).random((2, 32, 32, 3)), ["a cat", "a dog", "x"]))
    assert sims.shape == (2, 3) and (np.abs(sims) <= 1 + 1e-6).all()
    with pytest.raises(ValueError, match=r"expects images of shape \(B, 32, 32, 3\)"):
        clip.encode_image(np.zeros((1, 16, 16, 3)))
