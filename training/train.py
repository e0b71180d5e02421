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

import argparse
import csv
import io
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from ctc_recognizer.charset import ALPHANUMERIC, DEFAULT_VOCAB, Charset
from ctc_recognizer.config import RecognizerConfig, atomic_write_text

logger = logging.getLogger("training")

VOCABS = {"alnum": ALPHANUMERIC, "default": DEFAULT_VOCAB, "lower": "0123456789abcdefghijklmnopqrstuvwxyz"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML or JSON file with any of these options (flags override it); its `base:` key names "
                   "config file(s), relative to it, whose options it overrides")
    g = p.add_argument_group("model")
    g.add_argument("--arch", default="crnn", choices=("crnn", "seed", "crnn_small"),
                   help="architecture: crnn (default), seed (the reference design), crnn_small (tests)")
    g.add_argument("--vocab", default="default",
                   help="'default' (alphanumerics, punctuation, space), 'alnum' (the reference 62), 'lower', "
                        "or the literal characters")
    g.add_argument("--height", type=int, default=32)
    g.add_argument("--width", type=int, default=128)
    g.add_argument("--channels", type=int, default=3, choices=(1, 3))
    g.add_argument("--resize-mode", default="keep_ratio", choices=("keep_ratio", "stretch"))
    g.add_argument("--dropout", type=float, help="rate of the architecture's dropout layers (default: its own, "
                   "0.2 for crnn and seed; 0 turns them off, e.g. to fine-tune a model that underfits)")
    g.add_argument("--init-from", help="fine-tune: start from this model folder or .keras file "
                                       "(its architecture, vocabulary and input geometry are used)")
    g = p.add_argument_group("data")
    g.add_argument("--data", nargs="+", default=["synthetic"], help="training source(s)")
    g.add_argument("--data-weights", nargs="+", type=float, help="sampling weight per --data source")
    g.add_argument("--val-data", nargs="*", help="validation source(s); default: held-out fonts for "
                   "synthetic, a --holdout share of every other source (annotation_val.txt for mjsynth)")
    g.add_argument("--holdout", type=float, default=0.1, help="share of each non-synthetic source kept for validation")
    g.add_argument("--holdout-list", help="file naming test samples (<folder>/<file> per line): never trained on, "
                   "scored each epoch as test_<source>_* but never used to pick a checkpoint, the LR or when to "
                   "stop; the rest of a source it names is all trained on, sources it does not name are split "
                   "by --holdout")
    g.add_argument("--case-insensitive-data", nargs="*", default=[],
                   help="--data sources whose labels carry no case (e.g. SVT's all-caps labels): trained "
                        "with case-folded CTC, validated ignoring case")
    g.add_argument("--synth-train-size", type=int, default=100_000, help="rendered training words (cached)")
    g.add_argument("--synth-clean-train-size", type=int, default=50_000,
                   help="rendered training words of the synthetic-clean source (cached)")
    g.add_argument("--synth-val-size", type=int, default=1000, help="rendered validation words (held-out fonts)")
    g.add_argument("--synth-real-backgrounds", action="store_true",
                   help="give some rendered words backgrounds borrowed (blurred) from the real training crops")
    g.add_argument("--synth-font-sampling", default="family", choices=("family", "file"),
                   help="family: draw a font family uniformly, then one of its files; file: draw font "
                        "files uniformly (over-represents families shipped in many weights)")
    g.add_argument("--synth-hard-fonts",
                   help="JSON from `python -m training.mine_fonts`: per training font file, the words a model "
                        "misread; --synth-hard-font-share of the training renders draw their font by it")
    g.add_argument("--synth-hard-font-share", type=float, default=0.5,
                   help="share of the synthetic training renders whose font is drawn by --synth-hard-fonts "
                        "(validation renders never are)")
    g.add_argument("--synth-shape-jitter", type=float, default=0.0,
                   help="share of the synthetic training renders whose glyphs are reshaped (a small elastic "
                        "distortion, sometimes a bolder or lighter stroke): new font designs from the installed "
                        "ones (validation renders never are)")
    g.add_argument("--image-column", default="image")
    g.add_argument("--text-column", default="text")
    g.add_argument("--unknown-chars", default="error", choices=("error", "skip"),
                   help="a label with a character outside the vocabulary: stop with an error, or skip it")
    g.add_argument("--no-augment", action="store_true", help="no augmentation of real (non-synthetic) images")
    g.add_argument("--cache-dir", help="where rendered synthetic data is cached")
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=int, default=50)
    g.add_argument("--batch-size", type=int, default=64)
    g.add_argument("--steps-per-epoch", type=int, help="default: one pass over the (largest) source")
    g.add_argument("--lr", type=float, default=None,
                   help="Adam learning rate (default 1e-3; on --resume: the run's own, unless given)")
    g.add_argument("--patience", type=int, default=10, help="early stopping patience (epochs) on val CER")
    g.add_argument("--lr-patience", type=int, default=3, help="ReduceLROnPlateau patience on val CER")
    g.add_argument("--lr-schedule", default="plateau", choices=("plateau", "cosine"),
                   help="plateau: halve the LR when val CER stalls; cosine: decay from --lr to --min-lr over --epochs")
    g.add_argument("--min-lr", type=float, default=1e-5)
    g.add_argument("--max-minutes", type=float,
                   help="training-time budget (epochs, summed over resumes); stops before an epoch that would cross it")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--threads", type=int, help="TensorFlow intra-op threads")
    g.add_argument("--strategy", default="default", choices=("default", "mirrored", "multiworker"))
    g.add_argument("--logical-cpus", type=int, help="split the CPU into N logical devices (to try --strategy mirrored)")
    g = p.add_argument_group("output")
    g.add_argument("--output-dir", required=False, help="run folder")
    g.add_argument("--resume", action="store_true", help="continue an interrupted run in --output-dir")
    g.add_argument("--quantize", action="store_true", help="also export an int8 ONNX model and report its accuracy")
    g.add_argument("--push-to-hub", help="upload the exported model to this Hub repo id at the end")
    g.add_argument("--private", action="store_true")
    g.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2), help="Keras fit verbosity")
    return p


def _read_options(path: Path) -> dict:
    """One config file's own options (keys normalised to flag names), its ``base`` key included."""
    if not path.is_file():
        raise SystemExit(f"{path}: config file not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise SystemExit(f"{path}: not valid YAML: {e}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SystemExit(f"{path}: not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: expected a mapping of options")
    data = {str(k).replace("-", "_"): v for k, v in data.items()}
    for key in ("data", "data_weights", "val_data", "case_insensitive_data"):  # `data: synthetic` means a list of one
        if isinstance(data.get(key), (str, int, float)):
            data[key] = [data[key]]
    return data


def merge_options(base: dict, override: dict) -> dict:
    """``override`` on top of ``base``: dicts merge key by key (recursively), anything else (lists too) is replaced."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_options(out[key], value)
        else:
            out[key] = value
    return out


def load_config_file(path: str | Path, _chain: tuple[Path, ...] = ()) -> dict:
    """Options from a YAML/JSON config file. A ``base:`` key (a path relative to the file, or a list of them,
    later ones overriding earlier ones) names files whose options this one overrides, so an experiment
    file holds only the keys it changes. A file that (indirectly) bases itself on itself is refused."""
    path = Path(path)
    key = path.resolve()
    if key in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, key))
        raise SystemExit(f"{path}: config files base themselves on each other in a cycle: {cycle}")
    own = _read_options(path)
    bases = own.pop("base", None)
    if bases is None:
        return own
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise SystemExit(f"{path}: 'base' must be a file path or a list of file paths, got {bases!r}")
    merged: dict = {}
    for base in bases:
        base_path = path.parent / base
        if not base_path.is_file():
            raise SystemExit(f"{path}: base config {base!r} not found (looked for {base_path})")
        merged = merge_options(merged, load_config_file(base_path, (*_chain, key)))
    return merge_options(merged, own)


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    pre, _ = parser.parse_known_args(argv)
    if pre.config:
        options = load_config_file(pre.config)
        known = {a.dest for a in parser._actions}
        unknown = sorted(set(options) - known)
        if unknown:
            parser.error(f"{pre.config}: unknown option(s) {unknown}")
        # a key set to null (e.g. to drop a base file's value) leaves the option at the trainer's default
        parser.set_defaults(**{k: v for k, v in options.items() if v is not None})
    args = parser.parse_args(argv)
    if not args.output_dir:
        parser.error("--output-dir is required")
    if args.data_weights and len(args.data_weights) != len(args.data):
        parser.error(f"{len(args.data_weights)} --data-weights for {len(args.data)} --data sources")
    if args.dropout is not None and not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout must be in [0, 1), got {args.dropout}")
    if not 0.0 <= args.synth_hard_font_share <= 1.0:
        parser.error(f"--synth-hard-font-share must be in [0, 1], got {args.synth_hard_font_share}")
    if not 0.0 <= args.synth_shape_jitter <= 1.0:
        parser.error(f"--synth-shape-jitter must be in [0, 1], got {args.synth_shape_jitter}")
    args.hard_fonts_table = None
    if args.synth_hard_fonts:
        from .mine_fonts import load_hard_fonts

        # a missing or malformed table stops here, before any writing; prepare_data uses this copy
        args.hard_fonts_table = load_hard_fonts(args.synth_hard_fonts)
    return args


def resolve_vocab(vocab: str) -> str:
    return VOCABS.get(vocab, vocab)


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


def resolve_model_path(path: str | os.PathLike) -> tuple[Path, Path | None]:
    """A run folder, an exported model folder or a .keras file -> (.keras path, config.json path)."""
    path = Path(path)
    for folder in (path / "model", path):
        if folder.is_dir() and (folder / "model.keras").is_file():
            cfg = folder / "config.json"
            return folder / "model.keras", cfg if cfg.is_file() else None
    if path.is_file() and path.suffix == ".keras":
        for cfg in (path.parent / "config.json", path.parent / "model" / "config.json"):
            if cfg.is_file():
                return path, cfg
        return path, None
    raise FileNotFoundError(f"no Keras model (model.keras) at {path}")


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


def _file_paths(samples) -> list[str]:
    """Image files behind a (subset of a) file sample set; none for other kinds of source."""
    from . import data as D

    return [D.sample_key(samples, i) for i in range(len(samples))] if isinstance(
        getattr(samples, "base", samples), D.FileSampleSet) else []


def prepare_data(args, config: RecognizerConfig, charset: Charset, time_steps: int,
                 natural: dict | None = None):
    from . import data as D
    from .synth import RenderSpec

    train_sources, val_sets, ci_sets, test_sets = [], {}, set(), set()
    natural = {} if natural is None else natural  # filled: set name -> its samples at natural size
    weights = args.data_weights or [1.0] * len(args.data)
    holdout_keys = D.read_holdout_list(args.holdout_list) if args.holdout_list else None
    unknown_ci = set(args.case_insensitive_data or []) - set(args.data)
    if unknown_ci:
        raise SystemExit(f"--case-insensitive-data {sorted(unknown_ci)} are not --data sources")
    synthetic_at = {}  # spec -> (position among the sources, weight)
    for spec, weight in zip(args.data, weights):
        case_insensitive = spec in (args.case_insensitive_data or [])
        src = D.parse_data_spec(spec, args.image_column, args.text_column)
        if src in D.SYNTHETIC_SPECS:  # rendered after the real sources (it may borrow their backgrounds)
            synthetic_at[src] = (len(train_sources) + len(synthetic_at), weight)
            continue
        src = D.filter_labels(src, charset, args.unknown_chars, max_steps=time_steps)
        if args.val_data is None:
            if spec.startswith("mjsynth:"):
                val = D.filter_labels(D.read_mjsynth(spec.split(":", 1)[1], "val"), charset,
                                      args.unknown_chars, max_steps=time_steps)
            else:
                split = D.holdout_by_list(src, holdout_keys) if holdout_keys else None
                src, val = split or D.holdout_split(src, args.holdout)
                if split is not None:  # the listed crops are a test set: reported, never selected on
                    test_sets.add(src.name)
            if len(val):
                val_sets[src.name] = (D.to_model_arrays(val, config), val.texts)
                natural[src.name] = val
                if case_insensitive:
                    ci_sets.add(src.name)
        train_sources.append(D.WeightedSource(src, weight, augment=not args.no_augment,
                                              case_insensitive=case_insensitive))
    synth_val = {}
    hard_fonts = None
    if args.synth_hard_fonts:
        from .synth import discover_fonts, hard_font_weight

        hard_fonts = args.hard_fonts_table  # read and checked by parse_args
        weights = [hard_font_weight(hard_fonts, f.path) for f in discover_fonts()["train"]]
        matched = sum(weights)
        logger.info("--synth-hard-fonts %s: %d of %d training font files misread in it; %.0f of its %.0f "
                    "(capped) misses matched here; %.0f%% of the synthetic fonts drawn by it",
                    args.synth_hard_fonts, sum(w > 0 for w in weights), len(weights), matched,
                    sum(hard_fonts.values()), 100 * args.synth_hard_font_share)
        if matched < 0.5 * sum(hard_fonts.values()):
            logger.warning("--synth-hard-fonts: most of the table's misses name fonts this machine does not "
                           "have (other fonts installed?); the hard share is drawn nearly uniformly over files")
    for spec, (position, weight) in synthetic_at.items():  # in --data order, so positions ascend
        clean = spec == "synthetic-clean"
        backgrounds = ([p for s in train_sources for p in _file_paths(s.samples)]
                       if args.synth_real_backgrounds and not clean else None)
        # the clean render draws other words (another seed) than the augmented one
        train_spec = RenderSpec(split="train", seed=args.seed + 2 if clean else args.seed, vocab=config.vocab,
                                augment=not clean, backgrounds=backgrounds or (),
                                font_sampling=args.synth_font_sampling, hard_fonts=hard_fonts or (),
                                hard_font_share=args.synth_hard_font_share if hard_fonts else 0.0,
                                shape_jitter=args.synth_shape_jitter)
        train = D.synthetic_set(train_spec, args.synth_clean_train_size if clean else args.synth_train_size,
                                config, cache_dir=args.cache_dir)
        train_sources.insert(position, D.WeightedSource(D.fit_time_steps(train, charset, time_steps), weight))
        if args.val_data is None:
            val_spec = RenderSpec(split="val", seed=args.seed + 1, vocab=config.vocab, augment=not clean,
                                  font_sampling=args.synth_font_sampling)
            val = D.fit_time_steps(D.synthetic_set(val_spec, args.synth_val_size, config, cache_dir=args.cache_dir),
                                   charset, time_steps)
            synth_val[spec] = (val.images, val.texts)
    val_sets = {**synth_val, **val_sets}
    for spec in args.val_data or []:
        if spec.startswith("synthetic"):
            kind, _, split = spec.partition(":")
            if kind not in D.SYNTHETIC_SPECS:
                raise SystemExit(f"unknown validation set {spec!r}: use synthetic[:split] or synthetic-clean[:split]")
            split = split or "val"
            val_spec = RenderSpec(split=split, seed=args.seed + 1, vocab=config.vocab, augment=kind == "synthetic",
                                  font_sampling=args.synth_font_sampling)
            val = D.synthetic_set(val_spec, args.synth_val_size, config, cache_dir=args.cache_dir)
            val = D.fit_time_steps(val, charset, time_steps)
            val_sets[f"{kind}-{split}"] = (val.images, val.texts)
            continue
        val = D.filter_labels(D.parse_data_spec(spec, args.image_column, args.text_column, split="val"),
                              charset, args.unknown_chars, max_steps=time_steps)
        val_sets[val.name] = (D.to_model_arrays(val, config), val.texts)
        natural[val.name] = val
    if not set(val_sets) - test_sets:
        raise SystemExit("no validation data (the --holdout-list crops are a test set, not validation): "
                         "add --val-data, a synthetic source, or a --holdout > 0 for a source the list does not name")
    return train_sources, val_sets, ci_sets, test_sets


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
    import tensorflow as tf

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
        keras_path, cfg_path = resolve_model_path(args.init_from)
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
    ds = D.make_dataset(train_sources, config, charset, args.batch_size * strategy.num_replicas_in_sync, seed=args.seed)
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
        from .push_to_hub import push

        push(model_dir, args.push_to_hub, private=args.private)
    return model_dir


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
