"""Train a CTC text recognizer.

    python -m training.train --arch crnn --data synthetic --epochs 50 --batch-size 64 \\
        --output-dir runs/exp1 [--resume] [--push-to-hub org/name]

``--data`` takes one or more sources (``synthetic``, ``synthetic-clean``, ``mjsynth:PATH``,
``hf:NAME[:split]``, ``folder:PATH``), mixed by ``--data-weights``. A YAML/JSON ``--config`` file may hold any
option (command-line flags override it) and a ``base:`` file (or list of files, relative to it) whose options
it overrides, so an experiment file is the few keys it changes; the options actually used are saved in the output
folder as ``train_config.json``. The run folder gets ``history.csv``, TensorBoard ``logs/``,
``best.keras`` (best validation CER), ``backup/`` (for ``--resume`` after a crash or kill) and,
at the end, the exported model in ``model/`` (``model.keras``, ``model.onnx``, ``config.json``).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from ctc_recognizer.charset import Charset
from ctc_recognizer.config import RecognizerConfig
from ctc_recognizer.files import atomic_write_text

from .assemble import prepare_data
from .augment import real_augment
from .locate import keras_model
from .options import parse_args, resolve_vocab

logger = logging.getLogger("training")

def setup_tf(args):
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, args.threads))
    if args.logical_cpus:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(args.logical_cpus)])
    if args.strategy == "mirrored":
        devices = [d.name for d in tf.config.list_logical_devices("GPU")] or \
                  [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if args.strategy == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def truncate_history(csv_path: Path, epochs_done: int) -> None:
    """Drop CSV rows of epochs the resumed run will redo (killed between backup and log)."""
    if not csv_path.is_file():
        return
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) < epochs_done]
    buf = io.StringIO()
    csv.writer(buf).writerows(kept)
    atomic_write_text(csv_path, buf.getvalue())


def cosine_schedule(lr: float, min_lr: float, epochs: int):
    """Epoch -> learning rate: half a cosine from ``lr`` (epoch 0) to ``min_lr`` (last epoch).
    A function of the epoch only, so a resumed run picks up where it stopped."""
    import math

    def schedule(epoch: int, _current=None) -> float:
        t = min(1.0, epoch / max(1, epochs - 1))
        return float(min_lr + (lr - min_lr) * 0.5 * (1 + math.cos(math.pi * t)))

    return schedule


def train(args) -> Path:
    import keras

    from . import data as D
    from .callbacks import (AtomicBackupAndRestore, BestCheckpoint, SetLearningRate, TimeBudget,
                            ValidationMetrics)
    from .export import export_model, load_keras
    from .losses import CTCLoss
    from .model import build_model, time_columns, transfer_weights

    out = Path(args.output_dir)
    backup_dir = out / "backup"
    if out.exists() and any(out.iterdir()) and not args.resume:
        raise SystemExit(f"{out} is not empty; pass --resume to continue that run, or choose another --output-dir")
    out.mkdir(parents=True, exist_ok=True)
    saved_lr = None
    if args.resume and (out / "train_config.json").is_file():
        saved = json.loads((out / "train_config.json").read_text())
        saved_lr = saved.get("lr")
        for key in ("arch", "vocab", "height", "width", "channels", "resize_mode", "dropout"):
            if saved.get(key) != getattr(args, key):
                logger.warning("--resume: using the run's %s=%r (not %r)", key, saved.get(key), getattr(args, key))
                setattr(args, key, saved.get(key))
    explicit_lr = args.lr is not None
    if args.lr is None:
        args.lr = saved_lr if saved_lr is not None else 1e-3
    keras.utils.set_random_seed(args.seed)
    strategy = setup_tf(args)

    init_model = None
    if args.init_from:
        try:
            keras_path, cfg_path = keras_model(args.init_from)
        except FileNotFoundError as exc:
            raise SystemExit(f"--init-from: {exc}") from None
        init_model = load_keras(keras_path)
        if cfg_path is not None:
            init_cfg = RecognizerConfig.load(cfg_path)
            args.vocab, args.arch = init_cfg.vocab, init_cfg.architecture
            args.height, args.width, args.channels, args.resize_mode = (
                init_cfg.height, init_cfg.width, init_cfg.channels, init_cfg.resize_mode)
    vocab = resolve_vocab(args.vocab)
    charset = Charset(vocab)
    config = RecognizerConfig(vocab=vocab, height=args.height, width=args.width, channels=args.channels,
                              resize_mode=args.resize_mode, architecture=args.arch,
                              time_columns=time_columns(args.arch, args.width))
    if init_model is not None and (init_model.output_shape[-1] != charset.num_classes
                                   or tuple(init_model.input_shape[1:]) != (args.height, args.width, args.channels)):
        raise SystemExit(
            f"the model takes {init_model.input_shape[1:]} and outputs {init_model.output_shape[-1]} "
            f"classes, but the configuration says ({args.height}, {args.width}, {args.channels}) and "
            f"{charset.num_classes} classes (vocab + blank); give --init-from a model folder with its "
            "config.json")
    used = {k: v for k, v in vars(args).items() if k != "hard_fonts_table"}  # the table has its own file
    atomic_write_text(out / "train_config.json", json.dumps(used, indent=2, ensure_ascii=False) + "\n")
    config.save(out)  # lets `python -m training.export runs/x/best.keras` find vocab and geometry

    with strategy.scope():
        model = build_model(args.arch, charset.num_classes, args.height, args.width, args.channels,
                            dropout=args.dropout)
        if init_model is not None:
            # the current code's architecture, warm-started by layer name (exact for a model
            # saved with an older column layout; see training.model.transfer_weights)
            copied, fresh = transfer_weights(init_model, model)
            if fresh:
                logger.warning("--init-from: %d layers start from scratch (no match by name and shape): %s",
                               len(fresh), ", ".join(fresh))
            logger.info("--init-from: %d layers copied from %s", len(copied), args.init_from)
        model.compile(optimizer=keras.optimizers.Adam(args.lr, clipnorm=5.0),
                      loss=CTCLoss(charset.blank_index, case_fold=charset.case_fold_map()
                                   if args.case_insensitive_data else None), jit_compile=False)
    time_steps = int(model.output_shape[1])
    logger.info("%s: %s parameters, %d time steps, %d classes", args.arch, f"{model.count_params():,}",
                time_steps, charset.num_classes)

    natural: dict = {}
    train_sources, val_sets, ci_sets, test_sets = prepare_data(args, config, charset, time_steps, natural)
    for name, (imgs, _) in val_sets.items():
        logger.info("validation set %s: %d images", name, len(imgs))
    augment = real_augment(args.real_augment)
    ds = D.make_dataset(train_sources, config, charset, args.batch_size * strategy.num_replicas_in_sync,
                        seed=args.seed, augment=augment)
    steps = args.steps_per_epoch or max(1, max(len(s.samples) for s in train_sources) // args.batch_size)

    if args.resume:
        meta = backup_dir / "training_metadata.json"
        done = json.loads(meta.read_text())["epoch"] if meta.is_file() else 0
        truncate_history(out / "history.csv", done)
        logger.info("resuming after epoch %d", done)
    # The backup comes last: a run killed after it has logged, checkpointed and timed the
    # epoch; one killed before it redoes the epoch (and truncate_history drops its CSV row).
    callbacks = [
        ValidationMetrics(val_sets, charset, case_insensitive=ci_sets, test_sets=test_sets),
        BestCheckpoint(out / "best.keras", monitor="val_cer"),
        keras.callbacks.ReduceLROnPlateau(monitor="val_cer", mode="min", factor=0.5,
                                          patience=args.lr_patience, min_lr=args.min_lr, verbose=1)
        if args.lr_schedule == "plateau" else
        keras.callbacks.LearningRateScheduler(cosine_schedule(args.lr, args.min_lr, args.epochs)),
        keras.callbacks.EarlyStopping(monitor="val_cer", mode="min", patience=args.patience, verbose=1),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        keras.callbacks.TensorBoard(str(out / "logs"), update_freq="epoch"),
    ]
    if args.max_minutes:
        callbacks.append(TimeBudget(args.max_minutes, out / "time_spent.json"))
    callbacks.append(AtomicBackupAndRestore(str(backup_dir), delete_checkpoint=False))
    if args.resume and explicit_lr and saved_lr != args.lr:
        logger.info("--resume: learning rate set to %g (the run used %g)", args.lr, saved_lr)
        callbacks.append(SetLearningRate(args.lr))
    model.fit(ds, epochs=args.epochs, steps_per_epoch=steps, callbacks=callbacks, verbose=args.verbose)

    best = out / "best.keras"
    final = load_keras(best) if best.is_file() else model
    model_dir = out / "model"
    sample = next(iter(val_sets.values()))[0][:16].astype(np.float32)
    export_model(final, config, model_dir, sample_batch=sample)
    def scored(model_file=None) -> tuple[dict, dict]:  # (validation, test) metrics of the exported model
        metrics = evaluate_exported(model_dir, val_sets, model_file=model_file, case_insensitive=ci_sets,
                                    natural=natural)
        return ({k: v for k, v in metrics.items() if k not in test_sets},
                {k: v for k, v in metrics.items() if k in test_sets})

    validation, test = scored()
    config.metrics = {"validation": validation, **({"test": test} if test else {})}
    if args.quantize:
        from .export import quantize_int8

        quantize_int8(model_dir)
        validation, test = scored("model.int8.onnx")
        config.metrics.update({"validation_int8": validation, **({"test_int8": test} if test else {})})
    config.save(model_dir)
    atomic_write_text(model_dir / "train_config.json", json.dumps(used, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(config.metrics, indent=2), flush=True)
    if args.push_to_hub:
        push_exported(model_dir, args.push_to_hub, private=args.private)
    return model_dir


def push_exported(model_dir: Path, repo_id: str, private: bool = False) -> str:
    """The end of a ``--push-to-hub`` run: upload the exported model folder (see training.hub)."""
    from .hub import push

    url = push(model_dir, repo_id, private=private)
    logger.info("pushed %s to %s", model_dir, url)
    return url


def evaluate_exported(model_dir: Path, val_sets: dict, model_file: str | None = None,
                      case_insensitive: set[str] = frozenset(), natural: dict | None = None) -> dict:
    """Metrics of the exported ONNX model (through Recognizer, as a user calls it) on the
    validation and test sets (sets in ``case_insensitive`` are compared lower-cased). A set
    with its samples in ``natural`` (name -> SampleSet) is read from its images at their own
    size, so long crops are read at the config's ``long_crop_width`` and tall crops turned;
    the others (synthetic renders, made at model size) from their model-size arrays."""
    from ctc_recognizer import Recognizer, compute_metrics

    rec = Recognizer(model_dir, model_file=model_file)
    natural = natural or {}
    result = {}
    for name, (images, texts) in val_sets.items():
        if name in natural:
            samples, preds = natural[name], []
            for start in range(0, len(samples), 512):  # a few hundred decoded images at a time
                chunk = [samples.load(i) for i in range(start, min(start + 512, len(samples)))]
                preds += [p.text for p in rec(chunk, batch_size=128)]
        else:
            preds = [p.text for p in rec([img for img in images], batch_size=128)]
        if name in case_insensitive:
            preds, texts = [t.lower() for t in preds], [t.lower() for t in texts]
        result[name] = compute_metrics(preds, texts).to_dict()
    return result


def main(argv=None) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stdout)
    args = parse_args(argv)
    t0 = time.time()
    model_dir = train(args)
    logger.info("done in %.1f min; model in %s", (time.time() - t0) / 60, model_dir)


if __name__ == "__main__":
    main()
