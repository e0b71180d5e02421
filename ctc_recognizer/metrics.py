"""Text-recognition metrics: CER, WER, word accuracy (edit distance from rapidfuzz)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from rapidfuzz.distance import Levenshtein


@dataclass(frozen=True)
class TextMetrics:
    """Corpus-level metrics over ``count`` samples.

    ``cer`` is total character edits / total reference characters; ``wer`` the same over
    space-separated words; ``word_accuracy`` the share of exact matches, and
    ``word_accuracy_ci`` the same ignoring case.
    """

    count: int
    word_accuracy: float
    word_accuracy_ci: float
    cer: float
    wer: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def compute_metrics(predictions: Sequence[str], references: Sequence[str]) -> TextMetrics:
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
    n = len(references)
    if n == 0:
        raise ValueError("no samples to evaluate")
    char_edits = char_total = word_edits = word_total = exact = exact_ci = 0
    for pred, ref in zip(predictions, references):
        char_edits += Levenshtein.distance(pred, ref)
        char_total += len(ref)
        ref_words, pred_words = ref.split(), pred.split()
        word_edits += Levenshtein.distance(pred_words, ref_words)
        word_total += len(ref_words)
        exact += pred == ref
        exact_ci += pred.lower() == ref.lower()
    return TextMetrics(
        count=n,
        word_accuracy=exact / n,
        word_accuracy_ci=exact_ci / n,
        cer=char_edits / max(char_total, 1),
        wer=word_edits / max(word_total, 1),
    )
