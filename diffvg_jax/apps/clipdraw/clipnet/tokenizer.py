"""CLIP's byte-level BPE tokenizer, offline and in pure Python.

The vocabulary is OpenAI's ``bpe_simple_vocab_16e6.txt.gz`` (MIT licence, see
``VOCAB_LICENSE.txt`` beside this file), committed into the package so that tokenizing
never needs the network. Token ids match OpenAI's ``clip.tokenize`` and open_clip's
``tokenize``: 49406 is ``<|startoftext|>``, 49407 ``<|endoftext|>``, 0 pads.

Text normalisation follows CLIP (HTML unescape, whitespace collapse, lower case) except
that ``ftfy.fix_text`` is replaced by Unicode NFC normalisation plus ftfy's quote
uncurling and ligature expansion, to avoid a dependency: ids differ from CLIP's only for
text that ftfy would repair (mis-decoded "mojibake", full-width forms, control characters).
"""
from __future__ import annotations

import functools
import gzip
import html
import os
import re
import unicodedata
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

# Without the `regex` package, letters are approximated as [^\W\d_] (word characters that
# are not digits or underscore); identical on the test captions, which include Greek, CJK
# and accented Latin.
STDLIB_PATTERN = re.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|(?:[^\s\w]|_)+""", re.IGNORECASE)
try:  # `regex` knows Unicode classes (\p{L}, \p{N}) as CLIP's pattern needs
    import regex
    PATTERN = regex.compile(
        r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
        regex.IGNORECASE)
except ImportError:  # pragma: no cover - exercised only without `regex`
    PATTERN = STDLIB_PATTERN

VOCAB_FILE = os.path.join(os.path.dirname(__file__), "bpe_simple_vocab_16e6.txt.gz")
SOT_TOKEN = "<|startoftext|>"
EOT_TOKEN = "<|endoftext|>"
SOT_ID = 49406
EOT_ID = 49407
CONTEXT_LENGTH = 77
NUM_MERGES = 49152 - 256 - 2  # CLIP uses the first 48894 merges of the file

# The parts of ftfy.fix_text's defaults that change ordinary captions: curly quotes become
# straight ones, and Latin ligatures are spelled out.
_FTFY_LIKE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
})


def _byte_alphabet() -> List[Tuple[int, str]]:
    """The reversible byte -> printable-character table of byte-level BPE, in vocab order.

    Bytes that are printable Latin-1 characters stand for themselves; the remaining 68
    (controls, space, soft hyphen ...) are moved to code points 256, 257, ... so that
    every token is a string of visible characters. The order (printable ranges first)
    fixes the ids 0..255 of the single-byte tokens.
    """
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) \
        + list(range(ord("\xae"), ord("\xff") + 1))
    table = [(b, chr(b)) for b in keep]
    moved = 0
    for b in range(256):
        if b not in keep:
            table.append((b, chr(256 + moved)))
            moved += 1
    return table


class Tokenizer:
    """Byte-level BPE as in CLIP.

    ``encode(text) -> list[int]`` gives the ids without start/end tokens; ``__call__``
    gives the padded int32 ``(n, context_length)`` batch.
    """

    def __init__(self, vocab_file: str = VOCAB_FILE):
        if not os.path.exists(vocab_file):
            raise FileNotFoundError(f"CLIP BPE vocabulary not found: {vocab_file}")
        with gzip.open(vocab_file, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")
        merges = [tuple(line.split()) for line in lines[1:1 + NUM_MERGES]]
        alphabet = _byte_alphabet()
        self.byte_char = {b: c for b, c in alphabet}
        symbols = [c for _, c in alphabet]
        symbols += [c + "</w>" for c in symbols]
        symbols += ["".join(m) for m in merges]
        symbols += [SOT_TOKEN, EOT_TOKEN]
        self.encoder: Dict[str, int] = {s: i for i, s in enumerate(symbols)}
        self.decoder = {i: s for s, i in self.encoder.items()}
        self.char_byte = {c: b for b, c in alphabet}
        self.rank = {m: i for i, m in enumerate(merges)}
        self.cache = {SOT_TOKEN: SOT_TOKEN, EOT_TOKEN: EOT_TOKEN}
        self.vocab_size = len(symbols)

    def _bpe(self, word: str) -> List[str]:
        """Greedy lowest-rank merging of one pre-token (a string of byte characters)."""
        if word in self.cache:
            return self.cache[word].split(" ")
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            # The adjacent pair with the lowest merge rank is merged everywhere at once.
            ranks = [self.rank.get(pair) for pair in zip(parts, parts[1:])]
            known = [r for r in ranks if r is not None]
            if not known:
                break
            i = ranks.index(min(known))
            a, b = parts[i], parts[i + 1]
            merged: List[str] = []
            i = 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        self.cache[word] = " ".join(parts)
        return parts

    @staticmethod
    def normalise(text: str) -> str:
        """CLIP's text cleaning (ftfy replaced by NFC, see the module docstring)."""
        text = unicodedata.normalize("NFC", text).translate(_FTFY_LIKE)
        text = html.unescape(html.unescape(text)).strip()
        return " ".join(text.split()).lower()

    def encode(self, text: str) -> List[int]:
        """BPE ids of ``text`` (no start/end tokens)."""
        ids: List[int] = []
        for piece in PATTERN.findall(self.normalise(text)):
            chars = "".join(self.byte_char[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(chars))
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` (start/end/padding tokens dropped, word ends become spaces)."""
        text = "".join(self.decoder[int(i)] for i in ids if int(i) not in (0, SOT_ID, EOT_ID))
        data = bytearray(self.char_byte[c] for c in text.replace("</w>", self.byte_char[ord(" ")]))
        return " ".join(data.decode("utf-8", errors="replace").split())

    def __call__(self, texts: Union[str, Sequence[str]], context_length: int = CONTEXT_LENGTH,
                 truncate: bool = True) -> np.ndarray:
        """int32 ``(len(texts), context_length)``: [SOT, ids..., EOT, 0, ...] per text.

        Over-long texts are cut and end with EOT (open_clip's behaviour) when ``truncate``;
        otherwise a ValueError names the text.
        """
        if isinstance(texts, str):
            texts = [texts]
        if context_length < 2:
            raise ValueError(f"context_length must be >= 2, got {context_length}")
        out = np.zeros((len(texts), context_length), dtype=np.int32)
        for row, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"tokenize: texts[{row}] is {type(text).__name__}, expected str")
            ids = [SOT_ID] + self.encode(text) + [EOT_ID]
            if len(ids) > context_length:
                if not truncate:
                    raise ValueError(f"tokenize: texts[{row}] has {len(ids)} tokens, more than "
                                     f"context_length={context_length}")
                ids = ids[:context_length - 1] + [EOT_ID]
            out[row, :len(ids)] = ids
        return out


@functools.lru_cache(maxsize=1)
def default_tokenizer() -> Tokenizer:
    """The shared :class:`Tokenizer` (the vocabulary is parsed once, ~0.3 s)."""
    return Tokenizer()


def tokenize(texts: Union[str, Sequence[str]], context_length: int = CONTEXT_LENGTH,
             truncate: bool = True) -> np.ndarray:
    """Token ids for CLIP's text encoder: int32 ``(len(texts), context_length)``.

    ``tokenize("a drawing of a cat")[0, :7]`` is ``[49406, 320, 3610, 539, 320, 2368, 49407]``.
    """
    return default_tokenizer()(texts, context_length=context_length, truncate=truncate)
