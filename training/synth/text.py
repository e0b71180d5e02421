"""What the synthetic words say: word lists and the text sampler (dictionary words in lower /
Title / UPPER case, numbers, random codes, words with punctuation, two-word lines)."""

from __future__ import annotations

import functools
import logging
import os
import string
from typing import Sequence

import numpy as np

from ctc_recognizer.charset import ALPHANUMERIC

logger = logging.getLogger(__name__)

WORDLISTS = ("/usr/share/dict/words", "/usr/share/dict/american-english", "/usr/share/dict/british-english")
TEXT_KINDS = ("mixed", "words")
_FALLBACK_WORDS = (
    "the of and to in is you that it he was for on are as with his they at be this have from or one "
    "had by word but not what all were we when your can said there use an each which she do how their "
    "if will up other about out many then them these so some her would make like him into time has look "
    "two more write go see number no way could people my than first water been call who oil its now find "
    "long down day did get come made may part OPEN EXIT STOP Hotel Coffee Street Road Avenue Station"
).split()


@functools.lru_cache(maxsize=4)
def load_words(paths: tuple[str, ...] = WORDLISTS, max_len: int = 16) -> tuple[str, ...]:
    words: set[str] = set()
    for p in paths:
        if os.path.isfile(p):
            with open(p, encoding="utf-8", errors="ignore") as f:
                for line in f:
                    w = line.strip().replace("'s", "")
                    if 1 <= len(w) <= max_len and all(c in ALPHANUMERIC for c in w):
                        words.add(w)
    if not words:
        logger.warning("no word list in %s; using a small built-in list (install wamerican)", paths)
        words = set(_FALLBACK_WORDS)
    return tuple(sorted(words))


class TextSampler:
    """Draws the text of a sample from its random generator.

    ``kind``: ``"mixed"``: dictionary words in lower / Title / UPPER case, numbers, random codes,
    words with punctuation attached and two-word lines; ``"words"``: dictionary words only (in
    those cases). Characters outside ``vocab`` are never generated; texts are at most
    ``max_len`` characters."""

    def __init__(self, vocab: str, kind: str = "mixed", max_len: int = 20, words: Sequence[str] | None = None):
        if kind not in TEXT_KINDS:
            raise ValueError(f"text must be one of {TEXT_KINDS}, got {kind!r}")
        self.vocab, self.kind, self.max_len = vocab, kind, max_len
        self.words = tuple(words) if words else load_words()
        self.punct = [c for c in "!\"#$%&'()*+,-./:;<=>?@[\\]_" if c in vocab]
        self.has_space = " " in vocab
        self.has_lower = any(c.islower() for c in vocab)
        self.has_upper = any(c.isupper() for c in vocab)

    def case(self, w: str, rng: np.random.Generator) -> str:
        r = rng.random()
        if r < 0.4:
            w = w.lower()
        elif r < 0.7:
            w = w[:1].upper() + w[1:].lower()
        elif r < 0.9:
            w = w.upper()
        return w

    def __call__(self, rng: np.random.Generator) -> str:
        r = 0.0 if self.kind == "words" else rng.random()
        if r < 0.55:
            text = self.case(self.words[rng.integers(len(self.words))], rng)
        elif r < 0.67:  # numbers: plain, prices, dates, codes
            n = int(rng.integers(1, 9))
            text = "".join(rng.choice(list(string.digits), n))
            if self.punct and rng.random() < 0.5:
                sep = rng.choice([c for c in ".,:/-" if c in self.punct] or self.punct)
                text = text + sep + "".join(rng.choice(list(string.digits), int(rng.integers(1, 4))))
        elif r < 0.80:  # random alphanumeric strings (licence plates, codes, no language prior)
            pool = [c for c in self.vocab if c.isalnum()]
            text = "".join(rng.choice(pool, int(rng.integers(1, 11))))
        elif r < 0.92 and self.punct:  # words with punctuation attached
            w = self.case(self.words[rng.integers(len(self.words))], rng)
            p = str(rng.choice(self.punct))
            k = rng.random()
            text = w + p if k < 0.5 else p + w if k < 0.7 else w[: len(w) // 2] + p + w[len(w) // 2:]
            if p in "([" and rng.random() < 0.7:
                text = p + w + {"(": ")", "[": "]"}[p]
        elif self.has_space:  # short two-word lines
            a, b = (self.case(self.words[rng.integers(len(self.words))], rng) for _ in range(2))
            text = f"{a} {b}"
        else:
            text = self.case(self.words[rng.integers(len(self.words))], rng)
        if not self.has_upper:
            text = text.lower()
        if not self.has_lower:
            text = text.upper()
        text = "".join(c for c in text if c in self.vocab).strip()
        text = text[: self.max_len].strip()
        return text or str(rng.choice([c for c in self.vocab if c.isalnum()] or list(self.vocab)))
