"""Input-pipeline rate vs training rate, side by side in one run.

    python -m training.bench --arch crnn --data synthetic folder:PATH --batch-size 64

Prints samples/s the ``tf.data`` pipeline delivers on its own, samples/s the model trains at
(on batches already in memory), and their ratio (it should be >= 3 so training never waits).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time


def main(argv=None) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="crnn")
    p.add_argument("--vocab", default="default")
    p.add_argument("--data", nargs="+", default=["synthetic"])
    p.add_argument("--data-weights", nargs="+", type=float)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=30, help="batches timed for each rate")
    p.add_argument("--synth-train-size", type=int, default=20_000)
    p.add_argument("--cache-dir")
    p.add_argument("--unknown-chars", default="skip", choices=("error", "skip"))
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import keras
    import tensorflow as tf

    from ctc_recognizer.charset import Charset
    from ctc_recognizer.config import RecognizerConfig

    from . import data as D
    from .losses import CTCLoss
    from .model import build_model
    from .sources import render_spec
    from .synth_cache import synthetic_set
    from .options import resolve_vocab

    vocab = resolve_vocab(args.vocab)
    charset = Charset(vocab)
    config = RecognizerConfig(vocab=vocab, architecture=args.arch)
    model = build_model(args.arch, charset.num_classes)
    steps_t = int(model.output_shape[1])
    sources = []
    for spec, w in zip(args.data, args.data_weights or [1.0] * len(args.data)):
        src = D.parse_data_spec(spec)
        if isinstance(src, str):  # a rendered source
            render = render_spec(spec, "train", 0, config.vocab)
            sources.append(D.WeightedSource(synthetic_set(render, args.synth_train_size, config,
                                                          cache_dir=args.cache_dir, source=spec.split(":")[0]), w))
        else:
            sources.append(D.WeightedSource(D.filter_labels(src, charset, args.unknown_chars, steps_t), w, augment=True))
    ds = D.make_dataset(sources, config, charset, args.batch_size)
    it = iter(ds)
    for _ in range(3):
        next(it)
    t = time.perf_counter()
    for _ in range(args.steps):
        next(it)
    pipeline = args.steps * args.batch_size / (time.perf_counter() - t)

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=CTCLoss(charset.blank_index), jit_compile=False)
    fixed = ds.take(1).cache().repeat()
    model.fit(fixed, steps_per_epoch=3, epochs=1, verbose=0)
    t = time.perf_counter()
    model.fit(fixed, steps_per_epoch=args.steps, epochs=1, verbose=0)
    training = args.steps * args.batch_size / (time.perf_counter() - t)
    result = {"arch": args.arch, "batch_size": args.batch_size, "pipeline_samples_per_s": round(pipeline, 1),
              "train_samples_per_s": round(training, 1), "ratio": round(pipeline / training, 2)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"input pipeline : {pipeline:8.1f} samples/s  ({', '.join(args.data)})")
        print(f"training ({args.arch}): {training:8.1f} samples/s  (batch {args.batch_size})")
        print(f"ratio          : {pipeline / training:8.2f}x  (target >= 3x)")


if __name__ == "__main__":
    main()
