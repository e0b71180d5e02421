"""Evaluate a model: word accuracy (exact, case-insensitive and under the standard scene-text
protocol), CER (exact and standard protocol), WER and images/s.

    python -m training.evaluate --model runs/exp1 --data folder:path/to/crops [--json]
    python -m training.evaluate --model runs/exp1 --data synthetic:test --num 1000
    python -m training.evaluate --model runs/exp1 --keras --data mjsynth:/data/90kDICT32px

``--model``: a run folder, an exported model folder, a Hub id, or omitted for the bundled
default. ``--data``: ``folder:PATH``, ``mjsynth:PATH`` (its ``annotation_test.txt``, else
``annotation_val.txt``), ``hf:NAME[:split]``, or ``synthetic[:val|test]`` /
``synthetic-clean[:val|test]`` (words, numbers, codes, punctuation and two-word lines rendered in
held-out fonts at their natural size, with the training degradations or clean),
``synthetic-words[:val|test]`` (dictionary words only, clean, held-out fonts), or ``real-holdout[:ROOT]`` (the project's real test crops named
in ``training/splits/real_holdout.txt``, read from ../shared/data or ROOT). ``--keras`` runs the
Keras model instead of ONNX.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from ctc_recognizer import Recognizer
from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.evaluation import evaluate
from ctc_recognizer.preprocessing import group_by_width, preprocess, to_model_input


class KerasRecognizer:
    """The Keras model behind the same call interface as :class:`Recognizer` (greedy only)."""

    def __init__(self, keras_path: str | os.PathLike, config: RecognizerConfig):
        from .export import load_keras

        self.model, self.config = load_keras(keras_path), config
        self.charset = config.charset
        self._wide = None  # the network rebuilt for any width, for long crops

    def __call__(self, images, batch_size: int = 64, **_):
        from types import SimpleNamespace

        from .callbacks import decode_texts

        batch = [preprocess(img, self.config).image for img in images]
        texts: list[str] = [""] * len(batch)
        for width, idx in group_by_width(batch).items():  # long crops are read wider, as in ONNX
            probs = self._model_for(width).predict(to_model_input([batch[i] for i in idx]),
                                                   batch_size=batch_size, verbose=0)
            for i, t in zip(idx, decode_texts(probs, self.charset)):
                texts[i] = t
        return [SimpleNamespace(text=t) for t in texts]

    def _model_for(self, width: int):
        if width == self.config.width:
            return self.model
        if self._wide is None:
            from .export import dynamic_width_model

            self._wide = dynamic_width_model(self.model, self.config) or False
        if self._wide is False:
            raise ValueError(f"{self.config.architecture!r} cannot read {width}-wide inputs")
        return self._wide


def resolve_model_dir(model: str | None) -> str | None:
    if model is None:
        return None
    p = Path(model)
    if (p / "model" / "config.json").is_file():
        return str(p / "model")
    return model


def load_eval_data(spec: str, num: int | None = None, seed: int = 1234, vocab: str | None = None,
                   image_column: str = "image", text_column: str = "text") -> tuple[list, list[str], str]:
    """Images (paths or arrays at natural size) and references for an evaluation spec."""
    from . import data as D

    if spec.startswith("synthetic"):
        from .synth import RenderSpec, WordRenderer

        kind, _, split = spec.partition(":")
        split = split or "test"
        if kind not in ("synthetic", "synthetic-clean", "synthetic-words"):
            raise ValueError(f"unknown synthetic set {kind!r}: use synthetic, synthetic-clean or synthetic-words")
        renderer = WordRenderer(RenderSpec(split, seed=seed, augment=kind == "synthetic",
                                           text="words" if kind == "synthetic-words" else "mixed",
                                           **({"vocab": vocab} if vocab else {})))
        n = num or 1000
        samples = [renderer.render(i) for i in range(n)]
        return [s[0] for s in samples], [s[1] for s in samples], f"{kind}-{split}"
    if spec == "real-holdout" or spec.startswith("real-holdout:"):
        # the project's real test crops (training/splits/real_holdout.txt), all sources together
        try:
            sets = D.real_holdout_sets(spec.partition(":")[2] or D.SHARED_DATA)
        except FileNotFoundError as exc:
            raise SystemExit(str(exc)) from None
        images = [D.sample_key(s, i) for s in sets.values() for i in range(len(s))]
        texts = [t for s in sets.values() for t in s.texts]
        images, texts = (images[:num], texts[:num]) if num else (images, texts)
        return images, texts, "real-holdout"
    if spec.startswith("mjsynth:"):
        root = spec.split(":", 1)[1]
        split = "test" if (Path(root) / "annotation_test.txt").is_file() else "val"
        samples = D.read_mjsynth(root, split)
    else:
        samples = D.parse_data_spec(spec, image_column, text_column)
    n = min(len(samples), num) if num else len(samples)
    if isinstance(samples, D.FileSampleSet):
        images = [str(p) for p in samples.paths[:n]]
    else:
        images = [samples.load(i) for i in range(n)]
    return images, samples.texts[:n], samples.name


def main(argv=None) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None)
    p.add_argument("--data", required=True)
    p.add_argument("--num", type=int, help="evaluate at most this many samples")
    p.add_argument("--model-file", help="ONNX file in the model folder (e.g. model.int8.onnx)")
    p.add_argument("--keras", action="store_true", help="evaluate model.keras instead of the ONNX graph")
    p.add_argument("--decoder", default="greedy", choices=("greedy", "beam"))
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--case-insensitive-vocab", action="store_true")
    p.add_argument("--image-column", default="image")
    p.add_argument("--text-column", default="text")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    model_dir = resolve_model_dir(args.model)
    run = Path(args.model) if args.model else None
    in_progress = (run is not None and (run / "best.keras").is_file() and (run / "config.json").is_file()
                   and not (run / "model" / "config.json").is_file())  # a run still training: no export yet
    kwargs = {"decoder": args.decoder}
    if in_progress and args.keras:
        rec = KerasRecognizer(run / "best.keras", RecognizerConfig.load(run / "config.json"))
        kwargs = {}
    elif in_progress:
        p.error(f"{run} has no exported model yet (is it still training?): evaluate its best checkpoint "
                f"with --keras, or export it with `python -m training.export {run / 'best.keras'} "
                f"--config {run / 'config.json'} --output DIR`")
    else:
        rec = Recognizer.from_pretrained(model_dir, model_file=args.model_file)
        if args.keras:
            rec = KerasRecognizer(Path(rec.model_dir) / "model.keras", rec.config)
            kwargs = {}
    images, refs, name = load_eval_data(args.data, args.num, vocab=rec.config.vocab,
                                        image_column=args.image_column, text_column=args.text_column)
    result = evaluate(rec, images, refs, batch_size=args.batch_size, progress=not args.json, **kwargs)
    out = {"model": args.model or "default", "data": name, **result.to_dict()}
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:22s} {v:.4f}" if isinstance(v, float) else f"{k:22s} {v}")


if __name__ == "__main__":
    main()
