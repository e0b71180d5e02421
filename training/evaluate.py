"""Evaluate a model: word accuracy (exact, case-insensitive and under the standard scene-text
protocol), CER (exact and standard protocol), WER and images/s.

    python -m training.evaluate --model runs/exp1 --data folder:path/to/crops [--json]
    python -m training.evaluate --model runs/exp1 --data synthetic:test --num 1000
    python -m training.evaluate --model runs/exp1 --keras --data mjsynth:/data/90kDICT32px

``--model``: a run folder, an exported model folder, a Hub id, or omitted for the bundled
default. ``--data``: any source of :mod:`training.sources` (``folder:PATH``, ``mjsynth:PATH``
(its ``annotation_test.txt``, else ``annotation_val.txt``), ``hf:NAME[:split]``,
``real-holdout[:ROOT]`` (the project's real test crops named in ``training/splits/real_holdout.txt``,
read from ../shared/data or ROOT), ``synthetic[:val|test]`` / ``synthetic-clean[:val|test]``
(words, numbers, codes, punctuation and two-word lines in held-out fonts at their natural size,
with the training degradations or clean), ``synthetic-words[:val|test]`` (dictionary words only,
clean), ``frozen:NAME``, ``per-font:train|val``). The ``test`` split of a synthetic source (the
default) is its frozen benchmark set in ``bench/sets`` (:mod:`training.frozen`), the same files
whatever the generator does today; ``val`` is rendered now. ``--keras`` runs the Keras model
instead of ONNX.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


from ctc_recognizer import Recognizer
from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.evaluation import evaluate
from ctc_recognizer.preprocessing import group_by_width, preprocess, to_model_input

from .locate import keras_model, recognizer_ref, resolve_model


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


def read_texts(recognizer, images, batch_size: int = 64, **options) -> list[str]:
    """The texts ``recognizer`` reads in ``images`` (natural-size arrays), in batches
    (``options``: keyword arguments of the recognizer's call, such as ``recheck``)."""
    out: list[str] = []
    for i in range(0, len(images), batch_size):
        out += [p.text for p in recognizer(list(images[i:i + batch_size]), **options)]
    return out



def load_eval_data(spec: str, num: int | None = None, seed: int = 1234, vocab: str | None = None,
                   image_column: str = "image", text_column: str = "text", per_font: int = 40,
                   frozen: bool = True) -> tuple[list, list[str], str]:
    """Images (paths or arrays at natural size) and references for a data spec
    (:mod:`training.sources`); a spec without a split reads the test split, and the test split
    of a rendered source is its frozen benchmark set (``frozen=False``: rendered now)."""
    from . import sources

    opts = sources.LoadOptions(split="test", num=num, seed=seed, vocab=vocab, image_column=image_column,
                               text_column=text_column, per_font=per_font, frozen=frozen)
    try:
        samples = sources.load(spec, opts)
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from None
    images, texts = sources.eval_inputs(samples, num)
    return images, texts, samples.name


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

    files = None
    if args.model is not None:
        try:
            files = resolve_model(args.model)
        except FileNotFoundError:
            files = None  # a Hub id (or a path Recognizer.from_pretrained names in its error)
    kwargs = {"decoder": args.decoder}
    if files is not None and files.in_progress:  # a run still training: no export yet
        run = Path(args.model)
        if not args.keras or files.config is None:
            p.error(f"{run} has no exported model yet (is it still training?): evaluate its best checkpoint "
                    f"with --keras, or export it with `python -m training.export {run / 'best.keras'} "
                    f"--config {run / 'config.json'} --output DIR`")
        rec = KerasRecognizer(files.keras, RecognizerConfig.load(files.config))
        kwargs = {}
    else:
        rec = Recognizer.from_pretrained(recognizer_ref(args.model), model_file=args.model_file)
        if args.keras:
            try:  # a local model (the bundled one's Keras weights are in training/pretrained), or a Hub download
                keras_path = (keras_model(args.model or "default")[0] if files is not None or args.model is None
                              else Path(rec.model_dir) / "model.keras")
            except FileNotFoundError as exc:
                p.error(str(exc))
            rec = KerasRecognizer(keras_path, rec.config)
            kwargs = {}
    try:
        images, refs, name = load_eval_data(args.data, args.num, vocab=rec.config.vocab,
                                            image_column=args.image_column, text_column=args.text_column)
    except ValueError as exc:
        p.error(f"--data {args.data}: {exc}")
    result = evaluate(rec, images, refs, batch_size=args.batch_size, progress=not args.json, **kwargs)
    out = {"model": args.model or "default", "data": name, **result.to_dict()}
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:22s} {v:.4f}" if isinstance(v, float) else f"{k:22s} {v}")


if __name__ == "__main__":
    main()
