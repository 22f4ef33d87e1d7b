"""CLIP tokenizer: ids against the reference implementation, padding, truncation, errors.

The expected ids were produced by open_clip 3.3.0's ``SimpleTokenizer`` (with ftfy), which
is what OpenAI's ``clip.tokenize`` computes; the first three are also in OpenAI's and
Hugging Face's documentation.
"""
import numpy as np
import pytest

import diffvg_jax.apps.clipdraw.clipnet.tokenizer as T
from diffvg_jax.apps.clipdraw.clipnet import EOT_ID, SOT_ID, default_tokenizer, tokenize

REFERENCE = {
    "a drawing of a cat": [49406, 320, 3610, 539, 320, 2368, 49407],
    "a photo of a dog": [49406, 320, 1125, 539, 320, 1929, 49407],
    "a diagram": [49406, 320, 22697, 49407],
    "Hello, World! it's 2021 café": [49406, 3306, 267, 1002, 256, 585, 568, 273, 271, 273, 272, 15304, 49407],
    "naïve façade — “quotes” & <b>html</b> &amp; emoji 🐱":
        [49406, 1097, 35689, 563, 778, 10067, 1928, 2005, 257, 5808, 257, 261, 283, 321, 285, 18231, 34308,
         321, 285, 261, 16327, 22979, 49407],
    "Self-portrait of a watercolor robot, 8k, trending_on_artstation":
        [49406, 1322, 268, 5352, 539, 320, 14211, 8797, 267, 279, 330, 267, 6087, 318, 525, 318, 1486, 2631, 49407],
    "Ünïcödé ΑΒΓ 日本語 テスト":
        [49406, 6522, 77, 35689, 66, 7255, 67, 4166, 138, 109, 138, 110, 138, 367, 39121, 44353, 34002, 508,
         2429, 228, 32421, 486, 49407],
}


def test_tokenize_matches_reference_ids():
    texts = list(REFERENCE)
    ids = tokenize(texts)
    assert ids.dtype == np.int32 and ids.shape == (len(texts), 77)
    for row, text in enumerate(texts):
        want = REFERENCE[text]
        assert ids[row, :len(want)].tolist() == want, text
        assert not ids[row, len(want):].any(), "padding must be zeros"


def test_single_string_gives_one_row_and_decode_round_trips():
    ids = tokenize("A Drawing of a   CAT")
    assert ids.shape == (1, 77)
    assert ids[0, :7].tolist() == REFERENCE["a drawing of a cat"]
    assert default_tokenizer().decode(ids[0]) == "a drawing of a cat"


def test_truncation_keeps_end_token_or_raises():
    long = "cat " * 100
    ids = tokenize(long)
    assert ids[0, 0] == SOT_ID and ids[0, -1] == EOT_ID and (ids[0, 1:-1] == 2368).all()
    with pytest.raises(ValueError, match=r"texts\[0\] has 102 tokens"):
        tokenize(long, truncate=False)
    assert tokenize(["a cat"], context_length=16).shape == (1, 16)


def test_bad_input_is_named():
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        tokenize(["ok", 3])


def test_stdlib_pattern_fallback_gives_the_same_ids(monkeypatch):
    monkeypatch.setattr(T, "PATTERN", T.STDLIB_PATTERN)
    tok = T.Tokenizer()
    for text, want in REFERENCE.items():
        assert tok(text)[0, :len(want)].tolist() == want, text
