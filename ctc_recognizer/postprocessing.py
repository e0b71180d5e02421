"""The CTC post-processor: network output ``(N, T, V+1)`` -> text, confidences and the time
steps each character was emitted at (docTR's *pre-processor -> model -> post-processor*).

The decoding itself lives in :mod:`ctc_recognizer.decoding`; this object holds the choices
(greedy or beam search, beam width, an optional lexicon) and the charset that turns class
indices into text, so :class:`~ctc_recognizer.recognizer.Recognizer` only wires steps together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from .charset import Charset
from .decoding import LexiconIndex, beam_search, empty_confidence, greedy_decode

logger = logging.getLogger(__name__)

DECODERS = ("greedy", "beam")


@dataclass(frozen=True)
class CTCOutput:
    """One decoded sequence.

    Attributes:
        text: the decoded text.
        confidence: mean of ``char_confidences``; for empty text, the mean blank probability.
        char_confidences: ``(L,)`` probability of each character at its most confident step.
        spans: ``(L, 2)`` first and last time step (inclusive) each character was emitted at.
    """

    text: str
    confidence: float
    char_confidences: np.ndarray
    spans: np.ndarray


def encode_lexicon(charset: Charset, words: Iterable[str]) -> LexiconIndex:
    """Encode a word list for lexicon decoding; words with characters outside the
    vocabulary can never be read and are left out (with a warning)."""
    encoded, dropped = [], []
    for word in words:
        word = word.strip()
        if not word:
            continue
        if charset.unknown_characters(word):
            dropped.append(word)
        else:
            encoded.append(charset.encode(word))
    if dropped:
        logger.warning("lexicon: %d word(s) with characters outside the vocabulary left out, e.g. %r",
                       len(dropped), dropped[:3])
    if not encoded:
        raise ValueError("lexicon has no usable words (empty, or no word fits the vocabulary)")
    return LexiconIndex(encoded)


class CTCPostProcessor:
    """Decodes CTC probabilities into :class:`CTCOutput` s.

    Args:
        charset: the model's characters; the blank is ``charset.blank_index``.
        decoder: ``"greedy"`` (best path, vectorised) or ``"beam"`` (prefix beam search).
        beam_width: prefixes kept by the beam decoder.
        lexicon: allowed words (strings, or a ready :class:`LexiconIndex`); implies beam search
            restricted to them.
    """

    def __init__(self, charset: Charset, decoder: str = "greedy", beam_width: int = 10,
                 lexicon: Iterable[str] | LexiconIndex | None = None):
        if decoder not in DECODERS:
            raise ValueError(f"unknown decoder {decoder!r}; choose one of {DECODERS}")
        self.charset = charset
        self.lexicon = None
        if lexicon is not None:
            self.lexicon = lexicon if isinstance(lexicon, LexiconIndex) else encode_lexicon(charset, lexicon)
            decoder = "beam"
        self.decoder = decoder
        self.beam_width = beam_width

    def __repr__(self) -> str:
        lexicon = f", lexicon={len(self.lexicon)} words" if self.lexicon is not None else ""
        return f"CTCPostProcessor(decoder={self.decoder!r}, beam_width={self.beam_width}{lexicon})"

    def __call__(self, probs: np.ndarray) -> list[CTCOutput]:
        """``(N, T, V+1)`` softmax probabilities -> one :class:`CTCOutput` per sequence."""
        probs = np.asarray(probs)
        if probs.ndim != 3:
            raise ValueError(f"expected probabilities of shape (N, T, C), got {probs.shape}")
        if probs.shape[-1] != self.charset.num_classes:
            raise ValueError(f"probabilities have {probs.shape[-1]} classes, but the charset needs "
                             f"{self.charset.num_classes} (vocab + blank)")
        blank = self.charset.blank_index
        if self.decoder == "greedy":
            decoded = greedy_decode(probs, blank)
        else:
            decoded = [beam_search(p, blank, self.beam_width, self.lexicon) for p in probs]
        outputs = []
        for d, p in zip(decoded, probs):
            text = self.charset.decode(d.labels)
            confidence = d.confidence if text else empty_confidence(p, blank)
            outputs.append(CTCOutput(text, float(confidence), d.char_confidences, d.spans))
        return outputs
