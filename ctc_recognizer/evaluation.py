"""Evaluate a Recognizer on a folder of images with ``labels.tsv`` (``filename<TAB>text``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .metrics import TextMetrics, compute_metrics


def read_labels(folder: str | Path) -> tuple[list[Path], list[str]]:
    """Paths and texts listed in ``folder/labels.tsv``."""
    folder = Path(folder)
    tsv = folder / "labels.tsv"
    if not folder.is_dir():
        raise FileNotFoundError(f"data folder {str(folder)!r} does not exist")
    if not tsv.is_file():
        raise FileNotFoundError(f"no labels.tsv in {str(folder)!r} (expected 'filename<TAB>text' lines)")
    paths, texts = [], []
    for n, line in enumerate(tsv.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, text = line.partition("\t")
        if not sep:
            raise ValueError(f"{tsv}:{n}: expected 'filename<TAB>text', got {line!r}")
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{tsv}:{n}: image {name!r} does not exist")
        paths.append(folder / name)
        texts.append(text)
    if not paths:
        raise ValueError(f"{tsv} lists no images")
    return paths, texts


@dataclass
class EvaluationResult:
    metrics: TextMetrics
    images_per_second: float
    predictions: list[str]
    references: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {**self.metrics.to_dict(), "images_per_second": self.images_per_second}


def evaluate(recognizer, images: Sequence[Any], references: Sequence[str], batch_size: int = 64,
             progress: bool = False, **call_kwargs: Any) -> EvaluationResult:
    """Read ``images`` in batches and compare with ``references``. Time covers loading,
    preprocessing, inference and decoding. ``progress``: a tqdm bar on stderr."""
    from tqdm.auto import tqdm

    preds: list[str] = []
    t0 = time.perf_counter()
    with tqdm(total=len(images), unit="img", disable=not progress, desc="evaluating") as bar:
        for start in range(0, len(images), batch_size):
            chunk = list(images[start:start + batch_size])
            preds += [p.text for p in recognizer(chunk, batch_size=batch_size, **call_kwargs)]
            bar.update(len(chunk))
    elapsed = time.perf_counter() - t0
    return EvaluationResult(compute_metrics(preds, list(references)), len(images) / max(elapsed, 1e-9),
                            preds, list(references))
