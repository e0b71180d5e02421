"""Text-recognition metrics: CER, WER, word accuracy (edit distance from rapidfuzz), exact,
case-insensitive, and under the standard scene-text protocol."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Sequence

from rapidfuzz.distance import Levenshtein


@dataclass(frozen=True)
class TextMetrics:
    """Corpus-level metrics over ``count`` samples.

    ``cer`` is total character edits / total reference characters; ``wer`` the same over
    space-separated words; ``word_accuracy`` the share of exact matches, and
    ``word_accuracy_ci`` the same ignoring case. ``word_accuracy_std`` and ``cer_std`` follow
    the standard scene-text protocol (as used for IIIT5K, SVT and ICDAR since Baek et al. 2019,
    "What is wrong with scene text recognition model comparisons?"): both sides lower-cased
    and cut to letters and digits (:func:`standard_text`) before comparing.
    """

    count: int
    word_accuracy: float
    word_accuracy_ci: float
    cer: float
    wer: float
    word_accuracy_std: float = float("nan")
    cer_std: float = float("nan")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def standard_text(text: str) -> str:
    """The standard scene-text protocol's view of a string: lower case, ``0-9a-z`` only."""
    return _NOT_ALNUM.sub("", text.lower())


def compute_metrics(predictions: Sequence[str], references: Sequence[str]) -> TextMetrics:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    n = len(references)
    if n == 0:
        raise ValueError("no samples to evaluate")
    char_edits = char_total = word_edits = word_total = exact = exact_ci = 0
    std_edits = std_total = exact_std = 0
    for pred, ref in zip(predictions, references):
        char_edits += Levenshtein.distance(pred, ref)
        char_total += len(ref)
        ref_words, pred_words = ref.split(), pred.split()
        word_edits += Levenshtein.distance(pred_words, ref_words)
        word_total += len(ref_words)
        exact += pred == ref
        exact_ci += pred.lower() == ref.lower()
        pred_std, ref_std = standard_text(pred), standard_text(ref)
        std_edits += Levenshtein.distance(pred_std, ref_std)
        std_total += len(ref_std)
        exact_std += pred_std == ref_std
    return TextMetrics(
        count=n,
        word_accuracy=exact / n,
        word_accuracy_ci=exact_ci / n,
        cer=char_edits / max(char_total, 1),
        wer=word_edits / max(word_total, 1),
        word_accuracy_std=exact_std / n,
        cer_std=std_edits / max(std_total, 1),
    )
