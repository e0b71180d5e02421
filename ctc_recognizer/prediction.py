"""What a :class:`~ctc_recognizer.recognizer.Recognizer` returns: :class:`Prediction`, and
the choice between the readings of a tall crop (upright, and turned each way)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Prediction:
    """What the model read in one image.

    Attributes:
        text: the recognised text.
        confidence: word confidence in [0, 1] (mean of ``char_confidences``; for empty text,
            the mean blank probability).
        char_confidences: probability of each character at its most confident time step.
        char_spans: for each character, the first and last model time step it was emitted at.
        char_boxes: for each character, ``(x0, x1)`` in pixels of the *original* image, or of
            the turned image if ``rotation`` is not 0.
        image_size: ``(height, width)`` of the original image.
        probabilities: the ``(T, V+1)`` per-time-step class probabilities, when asked for
            (``return_probs=True``).
        rotation: degrees the image was turned counter-clockwise before it was read: 0, or 90 /
            270 for a tall crop of vertical text (see ``rotate_tall``; ``np.rot90(image,
            rotation // 90)`` gives the image the text and ``char_boxes`` refer to).
        warning: a hint, for people, when the input is unlikely to be one word or short line
            (several lines of text, a very large or tall image, a low confidence), e.g. "This
            looks like several lines of text; crop a single word or line.", or "No text found
            in this image." for a blank crop (read as empty text); None otherwise.
            The thresholds are constants in :mod:`ctc_recognizer.input_check`.
    """

    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    char_spans: tuple[tuple[int, int], ...]
    char_boxes: tuple[tuple[float, float], ...]
    image_size: tuple[int, int]
    probabilities: np.ndarray | None = field(default=None, compare=False, repr=False)
    rotation: int = 0
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": self.confidence,
            "char_confidences": list(self.char_confidences),
            "char_boxes": [list(b) for b in self.char_boxes],
            "warning": self.warning,
        }


def most_confident(readings: list[Prediction]) -> Prediction:
    """The upright reading (first), unless a turned one (of at least two characters) is
    clearly more confident. Between the two turned readings (text running up or down), the
    one with more confident characters in all (confidence x length) wins: upside-down letters
    often read as a few confident look-alikes ('u'/'n'), seldom as a whole confident word.
    An empty upright reading (a tall crop squeezed upright often reads as confidently blank)
    gives way to any turned reading that is at least 50% sure."""
    upright, turned = readings[0], [r for r in readings[1:] if len(r.text) >= 2]
    if not turned:
        return upright
    best = max(turned, key=lambda r: r.confidence * len(r.text))
    if not upright.text:
        return best if best.confidence >= 0.5 else upright
    return best if best.confidence > upright.confidence + 0.05 else upright
