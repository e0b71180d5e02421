"""Training data assembly: the ``--data`` sources (mixed by weight), their validation and
test shares, ``--val-data``, and the rendered synthetic sources (at model size, cached by
:mod:`training.synth_cache`)."""

from __future__ import annotations

import logging

from ctc_recognizer.charset import Charset
from ctc_recognizer.config import RecognizerConfig

logger = logging.getLogger("training")


def _file_paths(samples) -> list[str]:
    """Image files behind a (subset of a) file sample set; none for other kinds of source."""
    from . import data as D

    return [D.sample_key(samples, i) for i in range(len(samples))] if isinstance(
        getattr(samples, "base", samples), D.FileSampleSet) else []


def _add_eval_set(val_sets: dict, natural: dict, ci_sets: set, name: str, samples, config, case_insensitive: bool):
    from . import data as D

    val_sets[name] = (D.to_model_arrays(samples, config), samples.texts)
    natural[name] = samples
    if case_insensitive:
        ci_sets.add(name)


def prepare_data(args, config: RecognizerConfig, charset: Charset, time_steps: int,
                 natural: dict | None = None):
    from . import data as D
    from . import sources, synth_cache

    train_sources, val_sets, ci_sets, test_sets = [], {}, set(), set()
    natural = {} if natural is None else natural  # filled: set name -> its samples at natural size
    weights = args.data_weights or [1.0] * len(args.data)
    holdout_keys = D.read_holdout_list(args.holdout_list) if args.holdout_list else None
    val_keys = D.read_holdout_list(args.val_list) if getattr(args, "val_list", None) else None
    unknown_ci = set(args.case_insensitive_data or []) - set(args.data)
    if unknown_ci:
        raise SystemExit(f"--case-insensitive-data {sorted(unknown_ci)} are not --data sources")
    synthetic_at = {}  # spec -> (position among the sources, weight)
    val_taken = {}  # source name -> crops the --val-list took from it
    for spec, weight in zip(args.data, weights):
        case_insensitive = spec in (args.case_insensitive_data or [])
        try:
            source, _ = sources.parse(spec)
        except ValueError as exc:
            raise SystemExit(f"--data: {exc}") from None
        if source.rendered:  # rendered after the real sources (it may borrow their backgrounds)
            synthetic_at[spec] = (len(train_sources) + len(synthetic_at), weight)
            continue
        src = sources.load(spec, sources.LoadOptions(split="train", image_column=args.image_column,
                                                     text_column=args.text_column))
        src = D.filter_labels(src, charset, args.unknown_chars, max_steps=time_steps)
        # the lists apply whatever --val-data is: a listed crop never trains
        test = D.holdout_by_list(src, holdout_keys) if holdout_keys else None
        if test is not None:  # the --holdout-list crops are a test set: reported, never selected on
            src, held = test
            test_sets.add(src.name)
            _add_eval_set(val_sets, natural, ci_sets, src.name, held, config, case_insensitive)
        listed = D.holdout_by_list(src, val_keys) if val_keys else None
        val = None
        if listed is not None:  # --val-list crops: validation, taken out of training
            src, val = listed
            val_taken[src.name] = len(val)
        elif args.val_data is None:  # else --val-data is the validation: no share of the source is held out
            if source.name == "mjsynth":  # its own validation annotation
                val = D.filter_labels(sources.load(spec, sources.LoadOptions(split="val")), charset,
                                      args.unknown_chars, max_steps=time_steps)
            elif test is None:
                src, val = D.holdout_split(src, args.holdout)
        if val is not None and len(val):
            name = f"{src.name}-val" if test is not None else src.name
            _add_eval_set(val_sets, natural, ci_sets, name, val, config, case_insensitive)
        train_sources.append(D.WeightedSource(src, weight, augment=not args.no_augment,
                                              case_insensitive=case_insensitive))
    if val_keys:
        if not val_taken:
            raise SystemExit(f"--val-list {args.val_list}: none of its {len(val_keys)} crops is in a --data "
                             "source (entries are <folder name>/<file name>; the folder is the source's own)")
        logger.info("--val-list %s: %s of its %d crops found", args.val_list,
                    ", ".join(f"{n} from {name}" for name, n in val_taken.items()), len(val_keys))
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
        base = sources.render_spec(spec, "train", args.seed, config.vocab, font_sampling=args.synth_font_sampling)
        clean = not base.augment
        backgrounds = ([p for s in train_sources for p in _file_paths(s.samples)]
                       if args.synth_real_backgrounds and not clean else ())
        # a clean render draws other words (another seed) than the augmented one
        train_spec = base.replace(seed=args.seed + 2 if clean else args.seed, backgrounds=backgrounds,
                                  hard_fonts=hard_fonts or (),
                                  hard_font_share=args.synth_hard_font_share if hard_fonts else 0.0,
                                  shape_jitter=args.synth_shape_jitter,
                                  # a source's own curved share (synthetic-curved: all) is never lowered
                                  curved_text=max(base.curved_text, args.synth_curved_text))
        name = sources.parse(spec)[0].name
        train = synth_cache.synthetic_set(train_spec, args.synth_clean_train_size if clean else args.synth_train_size,
                                          config, cache_dir=args.cache_dir, source=name)
        train_sources.insert(position, D.WeightedSource(D.fit_time_steps(train, charset, time_steps), weight))
        if args.val_data is None:
            val_spec = base.replace(split="val", seed=args.seed + 1)
            val = D.fit_time_steps(synth_cache.synthetic_set(val_spec, args.synth_val_size, config,
                                                             cache_dir=args.cache_dir, source=name),
                                   charset, time_steps)
            synth_val[spec] = (val.images, val.texts)
    val_sets = {**synth_val, **val_sets}
    for spec in args.val_data or []:
        try:
            source, _ = sources.parse(spec)
        except ValueError as exc:
            raise SystemExit(f"--val-data: {exc}") from None
        if source.rendered:  # rendered now at model size (training never reads the frozen test files)
            val_spec = sources.render_spec(spec, "val", args.seed + 1, config.vocab,
                                           font_sampling=args.synth_font_sampling)
            val = synth_cache.synthetic_set(val_spec, args.synth_val_size, config, cache_dir=args.cache_dir,
                                            source=source.name)
            val = D.fit_time_steps(val, charset, time_steps)
            val_sets[f"{source.name}-{val_spec.split}"] = (val.images, val.texts)
            continue
        val = D.filter_labels(sources.load(spec, sources.LoadOptions(split="val", image_column=args.image_column,
                                                                     text_column=args.text_column)),
                              charset, args.unknown_chars, max_steps=time_steps)
        val_sets[val.name] = (D.to_model_arrays(val, config), val.texts)
        natural[val.name] = val
    if not set(val_sets) - test_sets:
        raise SystemExit("no validation data (the --holdout-list crops are a test set, not validation): "
                         "add --val-data, a synthetic source, or a --holdout > 0 for a source the list does not name")
    return train_sources, val_sets, ci_sets, test_sets


