"""The trainer's command line: its flags, and config files (YAML/JSON, with ``base:``
inheritance) that hold any of them. ``python -m training.train --help`` lists the flags."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ctc_recognizer.charset import ALPHANUMERIC, DEFAULT_VOCAB

from .augment import AUGMENTS

VOCABS = {"alnum": ALPHANUMERIC, "default": DEFAULT_VOCAB, "lower": "0123456789abcdefghijklmnopqrstuvwxyz"}


def build_parser() -> argparse.ArgumentParser:
    from . import train  # its docstring is the command's description

    p = argparse.ArgumentParser(prog="python -m training.train", description=train.__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML or JSON file with any of these options (flags override it); its `base:` key names "
                   "config file(s), relative to it, whose options it overrides")
    g = p.add_argument_group("model")
    g.add_argument("--arch", default="crnn", choices=("crnn", "seed", "crnn_small", "crnn_wide"),
                   help="architecture: crnn (default), seed (the reference design), crnn_small (tests), "
                        "crnn_wide (a wider, deeper CNN; about 1.6x crnn's inference time)")
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
                   "stop (with --val-data too); the rest of a source it names is all trained on, sources it does "
                   "not name are split by --holdout (unless --val-data is given)")
    g.add_argument("--val-list", help="file naming validation samples (<folder>/<file> per line, e.g. "
                   "training/splits/real_val.txt): never trained on, scored each epoch as <source>-val and "
                   "used, with the other validation sets, to pick the checkpoint (with --val-data too); a list "
                   "that names no crop of a --data source stops the run")
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
    g.add_argument("--synth-curved-text", type=float, default=0.0,
                   help="share of the synthetic training renders whose text line is laid on an arc or a "
                        "circle or strongly slanted, like curved signs (validation renders never are)")
    g.add_argument("--image-column", default="image")
    g.add_argument("--text-column", default="text")
    g.add_argument("--unknown-chars", default="error", choices=("error", "skip"),
                   help="a label with a character outside the vocabulary: stop with an error, or skip it")
    g.add_argument("--no-augment", action="store_true", help="no augmentation of real (non-synthetic) images")
    g.add_argument("--real-augment", default="light", choices=tuple(AUGMENTS),
                   help="augmentation of real images: light (crop jitter, small rotation, blur, colour, JPEG) or "
                        "heavy (adds perspective, curve, shear, stretch, low resolution, motion blur, noise, "
                        "shadows; see training/augment.py)")
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
        known = set(vars(pre))  # every option's name: the parsed namespace holds them all (defaults included)
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
    if not 0.0 <= args.synth_curved_text <= 1.0:
        parser.error(f"--synth-curved-text must be in [0, 1], got {args.synth_curved_text}")
    args.hard_fonts_table = None
    if args.synth_hard_fonts:
        from .synth import load_hard_fonts

        # a missing or malformed table stops here, before any writing; prepare_data uses this copy
        args.hard_fonts_table = load_hard_fonts(args.synth_hard_fonts)
    return args


def resolve_vocab(vocab: str) -> str:
    return VOCABS.get(vocab, vocab)


